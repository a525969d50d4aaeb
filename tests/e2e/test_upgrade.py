"""Chart upgrades the way a user lives with them (issue 15): a settings change of ``harbor.chart.version``
(1.18.2 -> 1.18.4 -> 1.19.1, the real charts from ../shared/charts) upgrades the Helm release in place.

One stack on the session's local control plane (kube-controller-manager running, no kubelet: pods stay Pending,
``skipAwait``) with an in-process Harbor double and a loopback upstream; no nodes. In file order: install 1.18.2
-> each upgrade previews as exactly one update (the Release) and leaves the pinned Secrets, the PVCs and Harbor's
registry and projects untouched, nothing replaced -> HA settings render a jobservice that can run several replicas
-> a chart path of another version than the pinned one is refused by name -> destroy (the namespace goes, emptied
by kube-controller-manager).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from components.harbor_values import PinnedSecretNames
from lab.engine import engine_env, python_project, stack
from lab.harbor_double import HarborDouble
from lab.harbor_double.fake_upstream import FakeUpstream
from lab.kube import LocalKube
from lab.paths import harbor_chart
from lab.project import StackFile, copy_project
from lab.sandbox.box import chart_values
from tests.support import chart_wiring as wiring
from tests.support.sandboxes import admin_password

pytestmark = pytest.mark.engine

STACK = "upgrade"
NS = "harbor-upgrade"
RELEASE = "harbor"
FIRST, UPGRADES = "1.18.2", ("1.18.4", "1.19.1")
PINNED = {getattr(PinnedSecretNames.for_release(RELEASE), f) for f in PinnedSecretNames.__dataclass_fields__}


@dataclass
class Upgrade:
    """The stack and what the ordered tests hand on."""

    stack: auto.Stack
    config: StackFile
    kube: LocalKube
    double: HarborDouble
    output: list[str] = field(default_factory=list)
    before: dict[str, Any] = field(default_factory=dict)

    def up(self) -> auto.UpResult:
        try:
            return self.stack.up(on_output=self.output.append)
        except auto.CommandError as exc:
            pytest.fail(f"pulumi up failed:\n{_tail(str(exc))}")

    def preview(self) -> tuple[list[tuple[str, str]], dict[str, int], str]:
        """``pulumi preview --diff``: (operation, type) of every resource step that is not "same", the change
        summary, and the diff text.

        Provider steps are left out, as the summary and the diff text leave them out: the engine's events show the
        dynamic resources' default provider as "update" on any config change (Pulumi configures it with the whole
        stack config), which touches nothing.
        """
        steps: list[tuple[str, str]] = []

        def record(event: auto.EngineEvent) -> None:
            pre = event.resource_pre_event
            op = str(getattr(pre.metadata.op, "value", pre.metadata.op)) if pre else "same"
            if pre and op != "same" and not pre.metadata.type.startswith("pulumi:providers:"):
                steps.append((op, pre.metadata.type))

        result = self.stack.preview(diff=True, on_event=record, on_output=self.output.append)
        summary = {str(getattr(op, "value", op)): n for op, n in result.change_summary.items()}
        return steps, summary, result.stdout

    def snapshot(self) -> dict[str, Any]:
        """What an upgrade must not touch: the pinned Secrets (uid, version, data), every PVC (uid), Harbor's
        registries and projects."""
        secrets_ = {s["metadata"]["name"]: (s["metadata"]["uid"], s["metadata"]["resourceVersion"], s.get("data"))
                    for s in wiring.items(self.kube, "secrets", NS) if s["metadata"]["name"] in PINNED}
        claims = {c["metadata"]["name"]: c["metadata"]["uid"] for c in wiring.items(self.kube, "pvc", NS)}
        state = self.double.state
        return {"secrets": secrets_, "claims": claims,
                "registries": json.loads(json.dumps(state["registries"], default=str)),
                "projects": json.loads(json.dumps(state["projects"], default=str))}


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _changes(summary: auto.UpdateSummary) -> dict[str, int]:
    return {str(getattr(op, "value", op)): n for op, n in (summary.resource_changes or {}).items()}


def _values(kube: LocalKube, double: HarborDouble, upstream: FakeUpstream, version: str) -> dict[str, Any]:
    return {
        "kubeconfig": str(kube.kubeconfig_path),
        "harbor": {"namespace": NS, "releaseName": RELEASE, "tlsMode": "http", "chart": chart_values(version),
                   "expose": {"type": "nodePort", "nodeAddress": "127.0.0.1"},
                   "skipAwait": True, "timeoutSeconds": 120, "apiUrl": double.url},
        "upstream": {"name": "upgrade-upstream", "type": "docker-registry", "url": upstream.url, "insecure": True,
                     "accessKeyId": "upgrade-reader"},
        "proxyProject": {"enabled": True, "name": "mif", "public": True},
    }


def _core(kube: LocalKube) -> dict[str, Any]:
    (core,) = _named(kube, "deployments", f"{RELEASE}-core")
    return core


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory: pytest.TempPathFactory, local_kube: LocalKube) -> Iterator[Upgrade]:
    base = tmp_path_factory.mktemp("upgrade")
    password = admin_password("upgrade")
    with HarborDouble(password) as double, FakeUpstream() as upstream:
        work = copy_project(base / "program")
        (base / "state").mkdir()
        st = stack(work, STACK, engine_env(base / "state"), python_project("harbor-cache", "issue 15 upgrades"))
        config = StackFile(work, STACK)
        config.set(_values(local_kube, double, upstream, FIRST))
        st.set_config("harbor-cache:adminPassword", auto.ConfigValue(password, secret=True))
        st.set_config("harbor-cache:upstreamSecretKey", auto.ConfigValue("upgrade-secret-key", secret=True))
        run = Upgrade(st, config, local_kube, double)
        try:
            yield run
        finally:
            st.destroy(on_output=run.output.append)
            st.workspace.remove_stack(STACK, force=True)
        gone = local_kube.kubectl("get", "namespace", NS, check=False)  # emptied by kube-controller-manager
        assert gone.returncode != 0 and "NotFound" in gone.stderr, gone.stdout


# ---------------------------------------------------------------------------------------------------- tests


def test_install_the_oldest_chart(upgrade: Upgrade) -> None:
    result = upgrade.up()
    assert set(_changes(result.summary)) == {"create"}, _changes(result.summary)
    kube = upgrade.kube
    # kube-controller-manager: Deployments -> ReplicaSets -> Pods (Pending, no kubelet), StatefulSets -> claims.
    kube.kubectl("wait", "-n", NS, "deployment", "--all", "--for=jsonpath={.status.replicas}=1", "--timeout=60s")
    for claim in (f"database-data-{RELEASE}-database-0", f"data-{RELEASE}-redis-0"):
        kube.kubectl("wait", "-n", NS, f"pvc/{claim}", "--for=create", "--timeout=60s")
    assert {p["status"]["phase"] for p in wiring.items(kube, "pods", NS)} == {"Pending"}
    assert _core(kube)["metadata"]["labels"]["app.kubernetes.io/version"] == "2.14.2"
    problems, used = wiring.pinned_secret_problems(kube, NS, PINNED)
    assert not problems, problems
    assert used == PINNED, f"pinned Secrets the chart does not read: {PINNED - used}"
    assert not wiring.default_password_problems(kube, NS, harbor_chart(FIRST))
    upgrade.before = upgrade.snapshot()
    assert upgrade.before["claims"] and upgrade.before["registries"] and upgrade.before["projects"]


@pytest.mark.parametrize(("version", "app_version"), [("1.18.4", "2.14.4"), ("1.19.1", "2.15.1")])
def test_a_chart_version_change_is_one_in_place_update(upgrade: Upgrade, version: str, app_version: str) -> None:
    previous = upgrade.config.values()["harbor"]["chart"]["version"]
    database = wiring.secret_data(upgrade.kube, NS)[f"{RELEASE}-database"]["POSTGRES_PASSWORD"]
    upgrade.config.edit(lambda v: v["harbor"].update(chart=chart_values(version)))
    steps, summary, diff = upgrade.preview()
    assert steps == [("update", "kubernetes:helm.sh/v3:Release")], diff
    assert set(summary) == {"update", "same"} and summary["update"] == 1, summary
    assert f'~ chart  : "{harbor_chart(previous)}" => "{harbor_chart(version)}"' in diff, diff
    result = upgrade.up()
    changes = _changes(result.summary)
    assert changes.get("update") == 1 and set(changes) == {"update", "same"}, changes
    assert _core(upgrade.kube)["metadata"]["labels"]["app.kubernetes.io/version"] == app_version
    assert upgrade.snapshot() == upgrade.before
    # the database keeps the password it was created with
    assert wiring.secret_data(upgrade.kube, NS)[f"{RELEASE}-database"]["POSTGRES_PASSWORD"] == database
    assert not wiring.default_password_problems(upgrade.kube, NS, harbor_chart(version))
    upgrade.stack.preview(expect_no_changes=True, on_output=upgrade.output.append)


def test_ha_settings_render_a_jobservice_that_runs_several_replicas(upgrade: Upgrade) -> None:
    def ha(values: dict[str, Any]) -> None:
        values["harbor"]["ha"] = {
            "replicas": 2,
            "externalDatabase": {"host": "postgres.example.internal", "existingSecret": "harbor-external-db"},
            "externalRedis": {"addr": "redis.example.internal:6379"},
            "objectStorage": {"type": "s3", "settings": {"bucket": "images", "region": "ap-northeast-2"}},
        }

    upgrade.config.edit(ha)
    upgrade.up()
    kube = upgrade.kube
    (jobservice,) = _named(kube, "deployments", f"{RELEASE}-jobservice")
    assert jobservice["spec"]["replicas"] == 2
    volumes = {v["name"]: v for v in jobservice["spec"]["template"]["spec"]["volumes"]}
    assert "emptyDir" in volumes["job-logs"], volumes["job-logs"]
    (config,) = _named(kube, "configmaps", f"{RELEASE}-jobservice")
    loggers = [logger["name"] for logger in yaml.safe_load(config["data"]["config.yml"])["job_loggers"]]
    assert loggers == ["DB"], loggers
    problems = wiring.shared_rwo_problems(kube, NS)
    assert not problems, problems


def test_a_chart_path_of_another_version_is_refused_by_name(upgrade: Upgrade) -> None:
    chart = chart_values("1.18.4")
    upgrade.config.edit(lambda v: v["harbor"].update(chart={**chart, "version": "1.19.1"}))
    try:
        with pytest.raises(auto.CommandError) as failed:
            upgrade.stack.preview(on_output=upgrade.output.append)
    finally:
        upgrade.config.edit(lambda v: v["harbor"].update(chart=chart_values("1.19.1")))
    message = str(failed.value)
    assert "harbor-cache:harbor.chart.version is 1.19.1" in message and "version 1.18.4" in message, _tail(message)
    assert "Traceback" not in message, _tail(message)


def _named(kube: LocalKube, kind: str, name: str) -> list[dict[str, Any]]:
    return [o for o in wiring.items(kube, kind, NS) if o["metadata"]["name"] == name]
