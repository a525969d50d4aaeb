"""Issue 13 under the real engine: the program against a strict Harbor double that fails as Harbor does.

One module-scoped stack (Harbor not installed: ``harbor.install: false``, the API is an in-process
:class:`HarborDouble`; its live upstream check pings a loopback ``FakeUpstream``; no nodes), a few ``pulumi up``s,
in file order: a wrong admin password writes nothing -> a lost response on every create kind (registry, project,
policy, execution) converges to exactly one of each -> a lost retention create after an out-of-band delete ->
a registry update while the upstream is down fails clearly and the next up converges -> IRSA mode (a second,
small stack) creates its registry with an empty basic credential.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from lab.engine import engine_env, python_project, stack
from lab.harbor_double import HarborDouble
from lab.harbor_double.fake_upstream import FakeUpstream
from lab.kube import LocalKube
from lab.project import StackFile, copy_project
from tests.support.sandboxes import admin_password

pytestmark = pytest.mark.engine

STACK = "faults"
ECR_URL = "https://255250787067.dkr.ecr.ap-northeast-2.amazonaws.com"


@dataclass
class Faults:
    """The stack, the double and the upstream the ordered tests share."""

    stack: auto.Stack
    work: Path
    backend: Path
    config: StackFile
    double: HarborDouble
    upstream: FakeUpstream
    password: str
    output: list[str] = field(default_factory=list)

    def up(self) -> auto.UpResult:
        try:
            return self.stack.up(on_output=self.output.append)
        except auto.CommandError as exc:
            pytest.fail(f"pulumi up failed:\n{_tail(str(exc))}")

    def failed_up(self) -> str:
        """``pulumi up`` that must fail; its message."""
        with pytest.raises(auto.CommandError) as failed:
            self.stack.up(on_output=self.output.append)
        return str(failed.value)

    def no_changes(self) -> None:
        self.stack.preview(expect_no_changes=True, on_output=self.output.append)

    def objects(self, kind: str) -> list[dict[str, Any]]:
        return list(self.double.state[kind].values())

    def projects(self) -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in self.objects("projects") if p["name"] != "library"}


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _values(kube: LocalKube, double: HarborDouble, upstream: FakeUpstream) -> dict[str, Any]:
    return {
        "kubeconfig": str(kube.kubeconfig_path),
        "harbor": {"install": False, "tlsMode": "http", "url": double.url, "apiUrl": double.url},
        "upstream": {"name": "faults-upstream", "type": "docker-registry", "url": upstream.url,
                     "insecure": True, "accessKeyId": "faults-reader"},
        "proxyProject": {"enabled": True, "name": "mif", "public": True},
        "replication": {"enabled": True, "project": "mif-replica", "nameFilter": "quickstart/**"},
    }


def _set_password(st: auto.Stack, password: str) -> None:
    st.set_config("harbor-cache:adminPassword", auto.ConfigValue(password, secret=True))


def _writes(double: HarborDouble) -> int:
    return sum(n for key, n in double.counts.items() if not key.startswith("GET"))


@pytest.fixture(scope="module")
def faults(tmp_path_factory: pytest.TempPathFactory, local_kube: LocalKube) -> Iterator[Faults]:
    base = tmp_path_factory.mktemp("faults")
    password = admin_password("faults")
    with HarborDouble(password) as double, FakeUpstream() as upstream:
        work = copy_project(base / "program")
        backend = base / "state"
        backend.mkdir()
        st = stack(work, STACK, engine_env(backend), python_project("harbor-cache", "issue 13 faults"))
        config = StackFile(work, STACK)
        config.set(_values(local_kube, double, upstream))
        st.set_config("harbor-cache:upstreamSecretKey", auto.ConfigValue("faults-secret-key", secret=True))
        run = Faults(st, work, backend, config, double, upstream, password)
        try:
            yield run
        finally:
            upstream.start()
            double.set_faults(lose_response=[])
            _set_password(st, password)
            st.destroy(on_output=run.output.append)
            st.workspace.remove_stack(STACK, force=True)
            leftovers = {k: double.state[k] for k in ("registries", "policies") if double.state[k]}
            assert not leftovers and not run.projects(), leftovers


# ---------------------------------------------------------------------------------------------------- tests


def test_wrong_admin_password_fails_before_anything_is_written(faults: Faults) -> None:
    _set_password(faults.stack, "not-the-admin-password")
    message = faults.failed_up()
    assert "HTTP 401 UNAUTHORIZED" in message, _tail(message)
    assert "pulumi config set --secret harbor-cache:adminPassword" in message, _tail(message)
    assert "not-the-admin-password" not in message
    assert _writes(faults.double) == 0 and not faults.objects("registries") and not faults.projects()
    _set_password(faults.stack, faults.password)


def test_lost_responses_on_every_create_converge_to_exactly_one_of_each(faults: Faults) -> None:
    double = faults.double
    double.lose_response("POST /registries")
    double.lose_response("POST /projects", times=2)
    double.lose_response("POST /replication/policies")
    double.lose_response("POST /replication/executions")
    result = faults.up()
    assert result.summary.result == "succeeded"
    (registry,) = faults.objects("registries")
    assert set(faults.projects()) == {"mif", "mif-replica"}
    (policy,) = faults.objects("policies")
    (execution,) = faults.objects("executions")
    assert execution["policy_id"] == policy["id"] and result.outputs["lastReplicationStatus"].value == "Succeed"
    posts = {path: double.count("POST", path) for path in
             ("/registries", "/projects", "/replication/policies", "/replication/executions")}
    assert posts == {"/registries": 1, "/projects": 2, "/replication/policies": 1,
                     "/replication/executions": 1}, posts
    assert registry["credential"]["access_key"] == "faults-reader"
    faults.no_changes()
    assert double.count("PUT", "/registries/{id}") == 0  # nothing changed: Harbor's upstream check never ran again


def test_lost_retention_create_after_an_out_of_band_delete_converges_to_one(faults: Faults) -> None:
    double = faults.double
    mif = faults.projects()["mif"]
    with double.lock:  # someone deletes the proxy project's retention policy in Harbor's UI
        rid = int(mif["metadata"].pop("retention_id"))
        del double.state["retentions"][rid]
    double.lose_response("POST /retentions")
    faults.stack.refresh(on_output=faults.output.append)
    assert faults.up().summary.result == "succeeded"
    mine = [r for r in faults.objects("retentions") if r["scope"]["ref"] == mif["project_id"]]
    assert len(mine) == 1 and double.count("POST", "/retentions") == 1, mine
    assert int(faults.projects()["mif"]["metadata"]["retention_id"]) == mine[0]["id"]
    faults.no_changes()


def test_registry_update_while_the_upstream_is_down_fails_clearly_then_converges(faults: Faults) -> None:
    faults.config.edit(lambda v: v["upstream"].update(description="changed while down"))
    faults.upstream.stop()
    try:
        message = faults.failed_up()
    finally:
        faults.upstream.start()
    assert "HTTP 400 BAD_REQUEST: the registry is unhealthy" in message, _tail(message)
    assert f"Harbor core cannot reach {faults.upstream.url}" in message, _tail(message)
    assert "harbor-cache:harbor.proxy.*" in message
    (registry,) = faults.objects("registries")
    assert registry["description"] != "changed while down"
    assert faults.up().summary.result == "succeeded"
    (registry,) = faults.objects("registries")
    assert registry["description"] == "changed while down"
    faults.no_changes()


def test_irsa_mode_creates_the_registry(faults: Faults, local_kube: LocalKube) -> None:
    """upstream.ambientCredentials: the registry gets an empty basic credential (Harbor's adapter needs one)."""
    double = faults.double
    double.set_settings(aws_reachable=True, upstream_map={ECR_URL: faults.upstream.url})
    irsa = stack(faults.work, "irsa", engine_env(faults.backend), python_project("harbor-cache", "issue 13 irsa"))
    values = _values(local_kube, double, faults.upstream)
    values["upstream"] = {"name": "irsa-ecr", "type": "aws-ecr", "url": ECR_URL, "ambientCredentials": True}
    values["proxyProject"]["name"] = "mif-irsa"
    values["replication"] = {"enabled": False}
    StackFile(faults.work, "irsa").set(values)
    _set_password(irsa, faults.password)
    try:
        up = irsa.up(on_output=faults.output.append)
        assert up.summary.result == "succeeded"
        registry = next(r for r in faults.objects("registries") if r["name"] == "irsa-ecr")
        assert registry["credential"] == {"type": "basic", "access_key": "", "access_secret": ""}
        assert faults.projects()["mif-irsa"]["registry_id"] == registry["id"]
    finally:
        irsa.destroy(on_output=faults.output.append)
        irsa.workspace.remove_stack("irsa", force=True)
    assert not [r for r in faults.objects("registries") if r["name"] == "irsa-ecr"]
