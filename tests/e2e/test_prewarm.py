"""Pre-warm under the real engine on a private sandbox (issue 20): `pulumi up` pulls the listed images through
Harbor's pull path once, so a node's first pull of one fetches nothing from the upstream.

The sandbox (HARBOR_CACHE_E2E_SUBNET, default 10.245) has the bed's upstream registry and Harbor's pull path (nginx
in front of a proxying registry, lab/testbed/registries.py); the upstream's access log says what reached it. Two
extra images are pushed to the upstream: one is pre-warmed, the other is the cold control (its first pull must
fetch blobs upstream, or the check could not fail). A third, missing image shows a failed pre-warm: named with
the upstream's answer, and the stack still succeeds.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from lab.project import StackFile, ssh_keypair
from lab.sandbox import Sandbox
from lab.testbed.commands import run
from lab.testbed.image import build_oci_image
from tests.support.requirements import require_engine, require_root
from tests.support.sandboxes import admin_password, private_spec, program_stack

pytestmark = pytest.mark.engine

STACK = "prewarm"
WARM, COLD, MISSING = "quickstart/warm:v1", "quickstart/cold:v1", "quickstart/missing:v1"


@dataclass
class World:
    box: Sandbox
    stack: auto.Stack
    config: StackFile
    values: dict[str, Any]
    output: list[str] = field(default_factory=list)

    @property
    def host(self) -> str:
        return f"{self.box.spec.host_addr}:5000"

    def up(self) -> auto.UpResult:
        try:
            return self.stack.up(on_output=self.output.append)
        except auto.CommandError as exc:
            pytest.fail("pulumi up failed:\n" + "\n".join(str(exc).splitlines()[-60:]))

    def upstream_fetches(self) -> list[dict[str, str]]:
        """GETs of manifests or blobs that reached the upstream registry (HEADs only ask whether a tag moved)."""
        return [r for r in self.box.bed.upstream_requests()
                if r["method"] == "GET" and ("/blobs/" in r["path"] or "/manifests/" in r["path"])]


def _push(box: Sandbox, base: Path, ref: str, payload: bytes) -> None:
    """A one-layer image (a real tar, so containerd can unpack it) pushed to the bed's upstream as ``ref``."""
    repo, _, tag = ref.partition(":")
    layout = base / repo.replace("/", "-")
    build_oci_image(layout, tag, payload)
    run(["skopeo", "copy", "--insecure-policy", "--dest-tls-verify=false", f"oci:{layout}:{tag}",
         f"docker://{box.spec.host_addr}:5000/{ref}"], timeout=120)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    require_engine()
    require_root()
    base = tmp_path_factory.mktemp("prewarm")
    private_key, public_key = ssh_keypair(base)
    password = admin_password("prewarm")
    spec = private_spec(base, "10.245", password, public_key)
    box = Sandbox(spec)
    st: auto.Stack | None = None
    try:
        box.up()
        for ref in (WARM, COLD):
            _push(box, base, ref, f"{ref} {secrets.token_hex(8)}\n".encode())
        values = box.stack_values("pw", nodes=1)
        values["prewarm"] = {"images": [f"{spec.host_addr}:5000/{WARM}"]}
        program = program_stack(base, STACK, "pre-warm e2e copy", values,
                                {"adminPassword": password, "upstreamSecretKey": "pw-" + secrets.token_hex(8),
                                 "sshPrivateKey": private_key})
        st = program.stack
        yield World(box, st, program.config, values)
    finally:
        try:
            if st is not None:
                st.destroy()
                st.workspace.remove_stack(STACK, force=True)
        finally:
            box.down()


def test_a_prewarmed_image_is_warm_for_the_first_node_pull(world: World) -> None:
    world.box.bed.clear_logs()
    up = world.up()
    warm_ref = f"{world.host}/{WARM}"
    assert up.outputs["prewarmedImages"].value == [warm_ref]
    assert up.outputs["prewarmFailures"].value == {}
    assert any("/quickstart/warm/blobs/" in r["path"] for r in world.upstream_fetches())  # fetched during up

    world.box.bed.clear_logs()
    served, harbor_log = world.box.pulled_through_cache("node1", warm_ref)
    assert served, harbor_log  # the node pulled it by its upstream name through Harbor's pull path
    assert world.upstream_fetches() == []  # and Harbor fetched nothing from the upstream for it

    world.box.bed.clear_logs()  # the control: an image nobody pre-warmed is fetched upstream on its first pull
    served, harbor_log = world.box.pulled_through_cache("node1", f"{world.host}/{COLD}")
    assert served, harbor_log
    assert any("/quickstart/cold/blobs/" in r["path"] for r in world.upstream_fetches())


def test_a_failed_prewarm_is_named_and_the_stack_goes_on(world: World) -> None:
    missing = f"{world.host}/{MISSING}"
    world.config.set({**world.values, "prewarm": {"images": [f"{world.host}/{WARM}", missing]}})
    world.output.clear()
    up = world.up()
    assert up.outputs["prewarmedImages"].value == [f"{world.host}/{WARM}"]
    reason = up.outputs["prewarmFailures"].value[missing]
    assert "pre-warm of mif/quickstart/missing:v1 failed" in reason and "404" in reason, reason
    assert "pre-warm of mif/quickstart/missing:v1 failed" in "".join(world.output)  # warned in the engine output
    again = world.stack.preview(on_output=world.output.append)  # a failure is retried by the next up
    changes = {str(getattr(op, "value", op)): n for op, n in (again.change_summary or {}).items()}
    assert changes.get("update", 0) >= 1
