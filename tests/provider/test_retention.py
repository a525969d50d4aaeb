# The SDK declares CreateResult.outs / ReadResult.inputs Optional; these tests index them directly.
# mypy: disable-error-code="arg-type,index,dict-item"
"""ProjectRetentionProvider against the double: adoption of Harbor's (or an earlier program's) policy, off as a
PUT, a plain project's POST, drift seen by refresh and undone by update, deletes, and one GET per refresh."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from components.harbor_api.client import HarborClient
from components.harbor_api.project import ProjectProvider
from components.harbor_api.retention import ProjectRetentionProvider
from lab.harbor_double import HarborDouble
from tests.provider.conftest import ECR_URL, configured
from tests.provider.worlds import KEYS, fake_upstream, healthy_world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("healthy_world")


@pytest.fixture
def provider() -> ProjectRetentionProvider:
    return configured(ProjectRetentionProvider)


@pytest.fixture
def proxy_id(client: HarborClient, harbor: dict[str, Any]) -> int:
    """A proxy-cache project "mif" (Harbor gives it its 7-day policy)."""
    body = {"name": "ecr", "type": "aws-ecr", "url": ECR_URL, "insecure": False, "description": "", **KEYS}
    registry_id = client.create("/registries", body, "create registry 'ecr'")
    projects = configured(ProjectProvider)
    news = dict(projects.check({}, {"harbor": harbor, "name": "mif", "registry_id": registry_id}).inputs)
    return int(projects.create(news).id)


def _inputs(provider: ProjectRetentionProvider, harbor: dict[str, Any], pid: int, **over: Any) -> dict[str, Any]:
    result = provider.check({}, {"harbor": harbor, "project_id": pid, "project_name": "mif", **over})
    assert result.failures == [], [f.reason for f in result.failures]
    return dict(result.inputs)


def _policy(double: HarborDouble, pid: int) -> dict[str, Any] | None:
    rid = double.state["projects"][pid]["metadata"].get("retention_id")
    return None if rid is None else double.state["retentions"][int(rid)]


def _days(double: HarborDouble, pid: int) -> int | None:
    policy = _policy(double, pid)
    if policy is None:
        return None
    return policy["rules"][0]["params"]["nDaysSinceLastPull"] if policy["rules"] else 0


def _writes(double: HarborDouble) -> int:
    return sum(v for k, v in double.counts.items() if not k.startswith("GET "))


def test_check(provider: ProjectRetentionProvider, harbor: dict[str, Any]) -> None:
    assert _inputs(provider, harbor, 3)["days"] == 0  # omitted: off
    assert _inputs(provider, harbor, 3, days=None)["days"] == 0
    bad = provider.check({}, {"harbor": harbor, "project_id": 0, "project_name": "mif", "days": -1})
    reasons = {f.property: f.reason for f in bad.failures}
    assert set(reasons) == {"project_id", "days"}
    assert "harbor-cache:proxyProject.retentionDays" in reasons["days"]


def test_harbors_policy_is_adopted_without_a_write(
    provider: ProjectRetentionProvider, harbor: dict[str, Any], proxy_id: int, double: HarborDouble
) -> None:
    rid = int(double.state["projects"][proxy_id]["metadata"]["retention_id"])
    writes = _writes(double)
    created = provider.create(_inputs(provider, harbor, proxy_id, days=7))
    assert _writes(double) == writes  # 7 days is what Harbor (or the earlier program) has: nothing to write
    assert created.id == str(proxy_id) and created.outs["retention_id"] == rid and created.outs["adopted"] is True


def test_an_earlier_programs_policy_is_adopted_and_changed_in_place(
    provider: ProjectRetentionProvider, harbor: dict[str, Any], proxy_id: int, double: HarborDouble
) -> None:
    rid = int(double.state["projects"][proxy_id]["metadata"]["retention_id"])
    created = provider.create(_inputs(provider, harbor, proxy_id, days=30))
    assert double.count("POST", "/retentions") == 0 and double.count("PUT", "/retentions/{id}") == 1
    assert created.outs["retention_id"] == rid and _days(double, proxy_id) == 30
    provider.update(created.id, created.outs, _inputs(provider, harbor, proxy_id, days=14))
    assert _days(double, proxy_id) == 14 and len(double.state["retentions"]) == 1


def test_off_is_a_put_not_a_delete(
    provider: ProjectRetentionProvider, harbor: dict[str, Any], proxy_id: int, double: HarborDouble
) -> None:
    created = provider.create(_inputs(provider, harbor, proxy_id, days=None))
    assert _days(double, proxy_id) == 0
    assert double.count("DELETE", "/retentions/{id}") == 0 and double.count("PUT", "/retentions/{id}") == 1
    read = provider.read(created.id, created.outs)
    assert read.inputs["days"] == 0 and provider.diff(created.id, read.outs, created.outs).changes is False


def test_a_plain_project_gets_a_policy_posted_once(
    provider: ProjectRetentionProvider, harbor: dict[str, Any], client: HarborClient, double: HarborDouble
) -> None:
    pid = client.create("/projects", {"project_name": "plain", "metadata": {"public": "true"}}, "create project")
    created = provider.create(_inputs(provider, harbor, pid, project_name="plain", days=3))
    assert double.count("POST", "/retentions") == 1 and _days(double, pid) == 3
    assert created.outs["adopted"] is False and created.outs["retention_id"] == _policy(double, pid)["id"]


def test_a_rule_edited_behind_our_back_is_seen_by_refresh_and_undone_by_update(
    provider: ProjectRetentionProvider, harbor: dict[str, Any], proxy_id: int, double: HarborDouble
) -> None:
    props = _inputs(provider, harbor, proxy_id, days=7)
    created = provider.create(props)
    _policy(double, proxy_id)["rules"][0]["params"]["nDaysSinceLastPull"] = 1  # changed in Harbor's UI
    before = Counter(double.counts)
    read = provider.read(created.id, created.outs)
    assert {k: v - before[k] for k, v in double.counts.items() if v != before[k]} == {"GET /retentions/{id}": 1}
    assert read.inputs["days"] == 1
    diff = provider.diff(created.id, read.outs, props)
    assert diff.changes is True and diff.replaces == []
    provider.update(created.id, read.outs, props)
    assert _days(double, proxy_id) == 7 and len(double.state["retentions"]) == 1
    assert provider.diff(created.id, provider.read(created.id, read.outs).outs, props).changes is False


def test_a_policy_deleted_behind_our_back_is_seen_and_created_again(
    provider: ProjectRetentionProvider, harbor: dict[str, Any], proxy_id: int, double: HarborDouble
) -> None:
    props = _inputs(provider, harbor, proxy_id, days=7)
    created = provider.create(props)
    rid = int(double.state["projects"][proxy_id]["metadata"].pop("retention_id"))
    del double.state["retentions"][rid]
    read = provider.read(created.id, created.outs)  # Harbor answers a deleted policy with a 500
    assert read.id == created.id and read.inputs["days"] == 0 and read.outs["retention_id"] is None
    updated = provider.update(created.id, read.outs, props)
    assert _days(double, proxy_id) == 7 and updated.outs["retention_id"] != rid


def test_a_project_gone_takes_its_retention_with_it(
    provider: ProjectRetentionProvider, harbor: dict[str, Any], proxy_id: int, double: HarborDouble
) -> None:
    created = provider.create(_inputs(provider, harbor, proxy_id, days=7))
    configured(ProjectProvider).delete(str(proxy_id), {"harbor": harbor, "name": "mif"})
    read = provider.read(created.id, created.outs)
    assert read.id == "" and read.outs == {}
    writes = _writes(double)
    provider.delete(created.id, created.outs)  # nothing left to change
    assert _writes(double) == writes


def test_delete_removes_our_rule_and_keeps_the_others(
    provider: ProjectRetentionProvider, harbor: dict[str, Any], proxy_id: int, double: HarborDouble
) -> None:
    created = provider.create(_inputs(provider, harbor, proxy_id, days=7))
    other = {"priority": 2, "action": "retain", "template": "latestPushedK", "params": {"latestPushedK": 3},
             "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**"}],
             "scope_selectors": {"repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}]}}
    _policy(double, proxy_id)["rules"].append(other)  # someone's own rule
    provider.delete(created.id, created.outs)
    assert [r["template"] for r in _policy(double, proxy_id)["rules"]] == ["latestPushedK"]
    assert double.count("DELETE", "/retentions/{id}") == 0
