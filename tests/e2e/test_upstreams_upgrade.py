"""A stack written by the program before `upstreams` existed upgrades without replacing anything (issue 17).

The program as it was at OLD_PROGRAM (the commit before many upstreams; `git archive` of it) runs `pulumi up` on a
single-upstream stack (Harbor not installed: the API is an in-process :class:`HarborDouble`, whose live upstream
check pings loopback ``FakeUpstream``s). Then today's program takes over the same stack and state, in file order:
its preview creates only the proxy project's retention (its own resource since issue 20; it adopts the policy the
old program kept through the project) and updates the project in place (dropping the retention it no longer owns),
and `up` writes nothing to Harbor: same registry, project and retention policy ids -> adding an upstream to
`upstreams` creates only that upstream's four resources and leaves the original ones alone -> removing it deletes
only those four -> destroy.
"""

from __future__ import annotations

import io
import secrets
import shutil
import subprocess
import tarfile
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
from lab.paths import ROOT
from lab.project import StackFile, copy_project
from tests.support.stacks import preview_steps

pytestmark = pytest.mark.engine

STACK = "upstreams-upgrade"
OLD_PROGRAM = "e3a2e07"  # the last commit with only the single `upstream` setting
EXTRA = {"name": "extra", "type": "docker-registry", "project": "extra", "insecure": True}


@dataclass
class Upgrade:
    """The stack (today's program), the double and what the ordered tests hand on."""

    stack: auto.Stack
    config: StackFile
    double: HarborDouble
    extra_url: str
    output: list[str] = field(default_factory=list)
    before: dict[str, Any] = field(default_factory=dict)

    def preview(self) -> dict[str, list[str]]:
        """The preview's steps (operation -> resource names): tests.support.stacks.preview_steps."""
        return preview_steps(self.stack, self.output)

    def up(self) -> auto.UpResult:
        try:
            return self.stack.up(on_output=self.output.append)
        except auto.CommandError as exc:
            pytest.fail(f"pulumi up failed:\n{_tail(str(exc))}")

    def harbor(self) -> dict[str, Any]:
        """Harbor's registries and projects (name -> id) and retention policies (project name -> the ids of the
        policies scoped to it), as the double holds them."""
        state = self.double.state
        projects = {p["project_id"]: p["name"] for p in state["projects"].values() if p["name"] != "library"}
        retentions: dict[str, list[int]] = {}
        for rid, policy in sorted(state["retentions"].items()):
            retentions.setdefault(projects.get(policy["scope"]["ref"], "?"), []).append(rid)
        return {"registries": {r["name"]: r["id"] for r in state["registries"].values()},
                "projects": {name: pid for pid, name in projects.items()}, "retentions": retentions}

    def writes(self) -> int:
        """Requests to Harbor that are not reads (GET, HEAD), so far."""
        return sum(n for key, n in self.double.counts.items() if key.split(" ", 1)[0] not in ("GET", "HEAD"))


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


def old_program(dest: Path) -> Path:
    """The program files at OLD_PROGRAM (from git), in `dest`."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", OLD_PROGRAM, "__main__.py", "Pulumi.yaml",
                              "requirements.txt", "components"], check=True, capture_output=True).stdout
    dest.mkdir(parents=True)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def _values(kube: LocalKube, double: HarborDouble, upstream: FakeUpstream) -> dict[str, Any]:
    return {
        "kubeconfig": str(kube.kubeconfig_path),
        "harbor": {"install": False, "tlsMode": "http", "url": double.url, "apiUrl": double.url},
        "upstream": {"name": "old-upstream", "type": "docker-registry", "url": upstream.url, "insecure": True,
                     "accessKeyId": "old-reader"},
        "proxyProject": {"enabled": True, "name": "mif", "public": True},
    }


@pytest.fixture(scope="module")
def upgrade(tmp_path_factory: pytest.TempPathFactory, local_kube: LocalKube) -> Iterator[Upgrade]:
    base = tmp_path_factory.mktemp("upstreams-upgrade")
    password = "Upgrade-admin-1" + secrets.token_urlsafe(12)
    with HarborDouble(password) as double, FakeUpstream() as upstream, FakeUpstream() as extra:
        env = engine_env(base / "state")
        (base / "state").mkdir()
        project = python_project("harbor-cache", "issue 17 upgrade from a single upstream")
        old = old_program(base / "old")
        old_stack = stack(old, STACK, env, project)
        StackFile(old, STACK).set(_values(local_kube, double, upstream))
        old_stack.set_config("harbor-cache:adminPassword", auto.ConfigValue(password, secret=True))
        old_stack.set_config("harbor-cache:upstreamSecretKey", auto.ConfigValue("old-secret", secret=True))
        output: list[str] = []
        try:
            old_stack.up(on_output=output.append)
        except auto.CommandError as exc:
            pytest.fail(f"the old program's pulumi up failed:\n{_tail(str(exc))}")
        work = copy_project(base / "new")
        shutil.copy2(old / f"Pulumi.{STACK}.yaml", work / f"Pulumi.{STACK}.yaml")  # same values, same salt
        run = Upgrade(stack(work, STACK, env, project), StackFile(work, STACK), double, extra.url, output)
        try:
            yield run
        finally:
            run.stack.destroy(on_output=run.output.append)
            run.stack.workspace.remove_stack(STACK, force=True)
        assert not double.state["registries"], double.state["registries"]


def test_todays_program_adopts_the_retention_and_changes_nothing_in_harbor(upgrade: Upgrade) -> None:
    upgrade.before = upgrade.harbor()
    assert upgrade.before == {"registries": {"old-upstream": upgrade.before["registries"]["old-upstream"]},
                              "projects": {"mif": upgrade.before["projects"]["mif"]},
                              "retentions": {"mif": upgrade.before["retentions"]["mif"]}}
    assert len(upgrade.before["retentions"]["mif"]) == 1
    # The retention became a resource of its own (issue 20): created by adopting the project's policy; the project
    # is updated in place only to drop the retention inputs from its state. Nothing is replaced or deleted.
    assert upgrade.preview() == {"create": ["upstream-proxy-retention"], "update": ["upstream-proxy"]}
    writes = upgrade.writes()
    upgrade.up()
    assert upgrade.harbor() == upgrade.before  # one policy for the project, with the same id
    assert upgrade.writes() == writes  # adopting 7 days (the old program's value) writes nothing
    assert upgrade.preview() == {}
    outputs = upgrade.stack.outputs()
    assert outputs["imagePrefixes"].value == {upgrade.config.values()["upstream"]["url"].split("//")[1]:
                                              f"{upgrade.double.url.split('//')[1]}/mif"}


def test_adding_an_upstream_creates_only_its_own_resources(upgrade: Upgrade) -> None:
    upgrade.config.set({"upstreams": [{**EXTRA, "url": upgrade.extra_url}]})
    assert upgrade.preview() == {"create": ["upstream-extra", "upstream-extra-proxy", "upstream-extra-proxy-retention",
                                            "upstream-extra-registry"]}
    upgrade.up()
    now = upgrade.harbor()
    assert now["registries"]["old-upstream"] == upgrade.before["registries"]["old-upstream"]
    assert now["projects"]["mif"] == upgrade.before["projects"]["mif"]
    assert now["retentions"]["mif"] == upgrade.before["retentions"]["mif"] and len(now["retentions"]["extra"]) == 1
    assert set(now["registries"]) == {"old-upstream", "extra"} and set(now["projects"]) == {"mif", "extra"}


def test_removing_it_deletes_only_its_own_resources(upgrade: Upgrade) -> None:
    upgrade.config.set({"upstreams": []})
    assert upgrade.preview() == {"delete": ["upstream-extra", "upstream-extra-proxy", "upstream-extra-proxy-retention",
                                            "upstream-extra-registry"]}
    upgrade.up()
    assert upgrade.harbor() == upgrade.before
