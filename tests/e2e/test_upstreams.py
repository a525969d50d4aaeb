"""Three upstreams under the real engine, on a private sandbox (issue 17): each gets its Harbor registry endpoint of
its own adapter type, its proxy-cache project and its hosts.toml on the node, and a node's pulls go through each
upstream's own project.

The upstreams: the ECR-shaped one (`upstream`, type aws-ecr, project mif; the double's AWS answers and the bed's
first registry plays the ECR host), a Docker Hub one (`upstreams[0]`, type docker-hub, project hub: containerd
asks for docker.io, official images live under library/; the bed's hub stand-in answers for Docker Hub) and a
generic one (`upstreams[1]`, type docker-registry, project generic). The sandbox's pull path routes each project
to its own upstream (lab/testbed/upstreams.py), so the mirror's log says which project, and which upstream, served
a pull. Harbor is not installed by the stack (`harbor.install: false`: the double's API and the bed's pull path
are the existing Harbor); the chart is not what this tests. In file order: up -> a node pulls from each upstream
through its own project -> refresh finds nothing changed -> removing one upstream deletes only its resources
(and its hosts.toml) -> destroy.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from components.rules import DOCKER_HUB_HOST, DOCKER_HUB_URL, OFFICIAL_NAMESPACE, image_registry
from lab.project import StackFile, ssh_keypair
from lab.sandbox import Sandbox
from lab.testbed import IMAGE_REPO, IMAGE_TAG
from lab.testbed.upstreams import SANDBOX_UPSTREAMS
from tests.support.lifecycle import hosts_toml
from tests.support.requirements import require_engine, require_root
from tests.support.sandboxes import admin_password, private_spec, program_stack
from tests.support.stacks import preview_steps

pytestmark = pytest.mark.engine

STACK = "upstreams"
ECR_HOST = "123456789012.dkr.ecr.test-1.amazonaws.com"
ECR_URL = f"https://{ECR_HOST}"
HUB, GENERIC = SANDBOX_UPSTREAMS


@dataclass
class Upstreams:
    """The sandbox, the stack and what the ordered tests hand on."""

    box: Sandbox
    stack: auto.Stack
    config: StackFile
    output: list[str] = field(default_factory=list)
    destroyed: bool = False

    @property
    def endpoint(self) -> str:
        return f"{self.box.spec.host_addr}:{self.box.spec.harbor_port}"

    @property
    def generic_host(self) -> str:
        return f"{self.box.spec.host_addr}:{GENERIC.port}"

    def up(self) -> auto.UpResult:
        try:
            return self.stack.up(on_output=self.output.append)
        except auto.CommandError as exc:
            pytest.fail(f"pulumi up failed:\n{_tail(str(exc))}")

    def preview(self) -> dict[str, list[str]]:
        """The preview's steps (operation -> resource names): tests.support.stacks.preview_steps."""
        return preview_steps(self.stack, self.output)

    def harbor(self) -> dict[str, Any]:
        """Harbor's registries (name -> (type, id)) and projects (name -> registry id), as the double holds them."""
        state = self.box.double.state()
        return {"registries": {r["name"]: (r["type"], r["id"]) for r in state["registries"].values()},
                "projects": {p["name"]: p.get("registry_id") for p in state["projects"].values()
                             if p["name"] != "library"}}


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _values(box: Sandbox) -> dict[str, Any]:
    h = box.spec.host_addr
    nodes = box.node_settings()
    nodes["hosts"] = nodes["hosts"][:1]
    nodes.pop("verifyImage", None)
    return {
        "kubeconfig": str(box.kubeconfig),
        "harbor": {"install": False, "tlsMode": "http", "url": f"http://{h}:{box.spec.harbor_port}",
                   "apiUrl": box.double.url},
        "upstream": {"name": "ecr", "type": "aws-ecr", "url": ECR_URL, "accessKeyId": "AKIAIOSFODNN7EXAMPLE"},
        "proxyProject": {"name": "mif", "forceDestroy": True},
        "upstreams": [{"name": "hub", "type": "docker-hub", "project": HUB.name},
                      {"name": "generic", "type": "docker-registry", "url": GENERIC.url(h), "insecure": True,
                       "project": GENERIC.name}],
        "nodes": nodes,
    }


@pytest.fixture(scope="module")
def ups(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstreams]:
    require_engine()
    require_root()
    base = tmp_path_factory.mktemp("upstreams")
    private_key, public_key = ssh_keypair(base)
    password = admin_password("upstreams")
    spec = private_spec(base, "10.242", password, public_key, flavors=["1.6"])
    box = Sandbox(spec)
    st: auto.Stack | None = None
    run: Upstreams | None = None
    try:
        box.up()
        h = spec.host_addr
        # Harbor's ECR adapter reaches AWS and then the ECR host (the bed's first registry); its docker-hub
        # adapter reaches Docker Hub (the hub stand-in).
        box.double.settings(aws_reachable=True, upstream_map={ECR_URL: spec.upstream_url,
                                                              DOCKER_HUB_URL: HUB.url(h)})
        program = program_stack(base, STACK, "issue 17 upstreams", _values(box),
                                {"adminPassword": password, "sshPrivateKey": private_key,
                                 "upstreamSecretKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"})
        st = program.stack
        run = Upstreams(box, st, program.config)
        yield run
    finally:
        try:
            if st is not None and run is not None and not run.destroyed:
                st.destroy(on_output=run.output.append)
            if st is not None:
                st.workspace.remove_stack(STACK, force=True)
        finally:
            box.down()


# ---------------------------------------------------------------------------------------------------- tests


def test_up_creates_each_upstream_with_its_adapter_project_and_hosts(ups: Upstreams) -> None:
    result = ups.up()
    changes = {str(getattr(op, "value", op)) for op in (result.summary.resource_changes or {})}
    assert changes == {"create"}, result.summary.resource_changes
    prefixes = {ECR_HOST: "mif", "docker.io": "hub", ups.generic_host: "generic"}
    assert result.outputs["imagePrefixes"].value == {h: f"{ups.endpoint}/{p}" for h, p in prefixes.items()}
    harbor = ups.harbor()
    types = {name: kind for name, (kind, _) in harbor["registries"].items()}
    assert types == {"ecr": "aws-ecr", "hub": "docker-hub", "generic": "docker-registry"}
    ids = {name: rid for name, (_, rid) in harbor["registries"].items()}
    assert harbor["projects"] == {"mif": ids["ecr"], "hub": ids["hub"], "generic": ids["generic"]}
    node = ups.box.bed.nodes[0]
    hub = hosts_toml(node, "docker.io").read_text()
    assert 'server = "https://registry-1.docker.io"' in hub and f"http://{ups.endpoint}/v2/hub" in hub
    assert f"http://{ups.endpoint}/v2/generic" in hosts_toml(node, ups.generic_host).read_text()
    assert f"http://{ups.endpoint}/v2/mif" in hosts_toml(node, ECR_HOST).read_text()


def _normalized(image: str) -> str:
    """The name containerd stores an image under (docker.io/library/ added as Docker Hub's rules say)."""
    registry = image_registry(image)
    if registry != DOCKER_HUB_HOST or image.startswith(DOCKER_HUB_HOST + "/"):
        return image if "/" in image.removeprefix(DOCKER_HUB_HOST + "/") else image.replace("/", "/library/", 1)
    return f"{DOCKER_HUB_HOST}/{'' if '/' in image else OFFICIAL_NAMESPACE + '/'}{image}"


def _log_sizes(ups: Upstreams) -> dict[str, int]:
    bed = ups.box.bed
    sizes = {"ecr": len(bed.upstream_requests()), "harbor": len(bed.harbor_requests())}
    sizes.update({up.name: len(bed.extra_upstream_requests(up.name)) for up in SANDBOX_UPSTREAMS})
    return sizes


@pytest.mark.parametrize(("image", "project", "upstream", "path"), [
    (f"{ECR_HOST}/{IMAGE_REPO}:{IMAGE_TAG}", "mif", "ecr", IMAGE_REPO),
    # an official Docker Hub image by its short name: containerd asks docker.io for library/hello
    (f"hello:{IMAGE_TAG}", "hub", "hub", "library/hello"),
    (f"{{generic}}/tools/hello:{IMAGE_TAG}", "generic", "generic", "tools/hello"),
], ids=["ecr", "docker-hub", "docker-registry"])
def test_a_node_pulls_each_upstream_through_its_own_project(ups: Upstreams, image: str, project: str,
                                                            upstream: str, path: str) -> None:
    bed = ups.box.bed
    node = bed.nodes[0]
    image = image.format(generic=ups.generic_host)
    node.remove_image(_normalized(image))
    before = _log_sizes(ups)
    result = node.crictl("pull", image)
    assert result.returncode == 0, result.stderr
    served = bed.harbor_requests()[before["harbor"]:]
    mine = [r for r in served if r["client"] == node.addr]
    asked = [r["path"] for r in mine if r["path"].startswith("/v2/") and r["path"] != "/v2/"]
    assert asked and all(p.startswith(f"/v2/{project}/{path}/") for p in asked), mine
    assert any(r["status"] == "200" and "/manifests/" in r["path"] for r in mine), mine
    logs = {"ecr": bed.upstream_requests(), **{up.name: bed.extra_upstream_requests(up.name)
                                               for up in SANDBOX_UPSTREAMS}}
    fetched = {name: reqs[before[name]:] for name, reqs in logs.items()}
    # Only this upstream was asked, by the pull path's proxy (never by the node), for this repository.
    assert not [r for reqs in fetched.values() for r in reqs if r["client"] == node.addr]
    assert any(f"/v2/{path}/" in r["path"] for r in fetched[upstream]), fetched[upstream]
    assert not [name for name, reqs in fetched.items() if name != upstream and reqs], fetched


def test_refresh_finds_nothing_changed(ups: Upstreams) -> None:
    result = ups.stack.refresh(on_output=ups.output.append)
    changes = {str(getattr(op, "value", op)) for op in (result.summary.resource_changes or {})}
    assert changes == {"same"}, result.summary.resource_changes
    assert ups.preview() == {}


def test_removing_one_upstream_deletes_only_its_resources(ups: Upstreams) -> None:
    before = ups.harbor()
    ups.config.edit(lambda values: values.update(upstreams=values["upstreams"][:1]))
    assert ups.preview() == {
        "delete": ["upstream-generic", "upstream-generic-proxy", "upstream-generic-proxy-retention",
                   "upstream-generic-registry"],
        "update": ["nodes-node1"]}  # its hosts.toml goes
    ups.up()
    after = ups.harbor()
    assert after["registries"] == {k: v for k, v in before["registries"].items() if k != "generic"}
    assert after["projects"] == {k: v for k, v in before["projects"].items() if k != "generic"}
    node = ups.box.bed.nodes[0]
    assert not hosts_toml(node, ups.generic_host).exists()
    assert hosts_toml(node, "docker.io").exists() and hosts_toml(node, ECR_HOST).exists()
    assert ups.stack.outputs()["imagePrefixes"].value == {ECR_HOST: f"{ups.endpoint}/mif",
                                                          "docker.io": f"{ups.endpoint}/hub"}


def test_destroy_removes_every_upstream(ups: Upstreams) -> None:
    result = ups.stack.destroy(on_output=ups.output.append)
    ups.destroyed = True
    assert result.summary.result == "succeeded"
    assert ups.harbor() == {"registries": {}, "projects": {}}
    node = ups.box.bed.nodes[0]
    assert not any(Path(hosts_toml(node, h)).exists() for h in (ECR_HOST, "docker.io"))
