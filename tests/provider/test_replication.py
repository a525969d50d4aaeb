# The SDK declares CreateResult.outs / ReadResult.inputs Optional; these tests index them directly.
# mypy: disable-error-code="arg-type,index,dict-item"
"""ReplicationPolicyProvider against the double."""

from __future__ import annotations

from typing import Any

import pytest

from components.dynamic import UNKNOWN
from components.harbor_api.client import HarborClient
from components.harbor_api.errors import HarborError
from components.harbor_api.replication import ReplicationPolicyProvider
from components.rules import cron_problem
from lab.harbor_double import HarborDouble
from tests.provider.conftest import ECR_URL, configured
from tests.provider.worlds import KEYS, fake_upstream, healthy_world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("healthy_world")


@pytest.fixture
def provider() -> ReplicationPolicyProvider:
    return configured(ReplicationPolicyProvider)


@pytest.fixture
def registry_id(client: HarborClient) -> int:
    body = {"name": "ecr", "type": "aws-ecr", "url": ECR_URL, "insecure": False, "description": "", **KEYS}
    rid = client.create("/registries", body, "create registry 'ecr'")
    client.create(
        "/projects", {"project_name": "mif-replica", "metadata": {"public": "true"}}, "create project"
    )
    return rid


def _inputs(
    provider: ReplicationPolicyProvider, harbor: dict[str, Any], rid: int, **over: Any
) -> dict[str, Any]:
    news = {
        "harbor": harbor,
        "name": "mif-pull",
        "registry_id": rid,
        "dest_namespace": "mif-replica",
        "name_filter": "quickstart/**",
        "tag_filter": "v*",
        "run_timeout": 5.0,
        **over,
    }
    result = provider.check({}, news)
    assert result.failures == []
    return dict(result.inputs)


@pytest.mark.parametrize(
    ("cron", "problem"),
    [
        ("0 0 */6 * * *", None),
        ("0 30 2 * * MON-FRI", None),
        ("0 0 0 1 JAN ?", None),
        ("0 * * * * *", "minutes"),
        ("5 0 * * * *", "seconds"),
        ("0 0 * * *", "6 space-separated"),
        ("0 0 25 * * *", "outside 0-23"),
        ("0 0 */0 * * *", "bad step"),
    ],
)
def test_cron_validation(cron: str, problem: str | None) -> None:
    found = cron_problem(cron)
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_check(provider: ReplicationPolicyProvider, harbor: dict[str, Any]) -> None:
    ok = _inputs(provider, harbor, 3, speed=-1.0)
    assert ok["dest_namespace_replace_count"] == 0 and ok["speed"] == 0 and ok["trigger"] == "manual"
    assert ok["override"] is True and ok["enabled"] is True and ok["cron"] is None
    bad = provider.check(
        {},
        {
            "harbor": harbor,
            "name": "p",
            "registry_id": 0,
            "dest_namespace": "A/B",
            "trigger": "scheduled",
            "cron": "0 * * * * *",
        },
    )
    assert {f.property for f in bad.failures} == {"registry_id", "dest_namespace", "cron"}
    manual_cron = provider.check(
        {}, {"harbor": harbor, "name": "p", "registry_id": 1, "dest_namespace": "x", "cron": "0 0 * * * *"}
    )
    assert [f.property for f in manual_cron.failures] == ["cron"]
    unknown = provider.check(
        {},
        {
            "harbor": harbor,
            "name": "p",
            "registry_id": UNKNOWN,
            "dest_namespace": UNKNOWN,
            "trigger": "scheduled",
            "cron": UNKNOWN,
        },
    )
    assert unknown.failures == []


def test_crud_with_full_replacement_put(
    provider: ReplicationPolicyProvider, harbor: dict[str, Any], registry_id: int, double: HarborDouble
) -> None:
    props = _inputs(provider, harbor, registry_id)
    created = provider.create(props)
    pid = int(created.id)
    stored = double.state["policies"][pid]
    assert stored["dest_namespace_replace_count"] == 0  # paths kept (DOMAIN S8)
    assert stored["filters"] == [
        {"type": "name", "value": "quickstart/**"},
        {"type": "tag", "value": "v*", "decoration": "matches"},
    ]
    assert created.outs["policy_id"] == pid and created.outs["last_execution_id"] is None

    read = provider.read(created.id, created.outs)
    assert read.inputs == props
    assert provider.diff(created.id, read.outs, props).changes is False

    news = _inputs(provider, harbor, registry_id, trigger="scheduled", cron="0 0 */6 * * *", enabled=False)
    provider.update(created.id, created.outs, news)
    stored = double.state["policies"][pid]
    assert stored["trigger"] == {"type": "scheduled", "trigger_settings": {"cron": "0 0 */6 * * *"}}
    assert stored["dest_namespace_replace_count"] == 0 and stored["enabled"] is False

    provider.delete(created.id, news)
    assert pid not in double.state["policies"]
    provider.delete(created.id, news)


def test_run_on_change_waits_for_the_execution(
    provider: ReplicationPolicyProvider, harbor: dict[str, Any], registry_id: int, double: HarborDouble
) -> None:
    double.set_faults(execution_polls=2)
    created = provider.create(_inputs(provider, harbor, registry_id, run_on_change=True))
    assert created.outs["last_execution_status"] == "Succeed"
    assert created.outs["last_execution_id"] in double.state["executions"]
    assert double.count("GET", "/replication/executions/{id}") == 3
    updated = provider.update(
        created.id, created.outs, _inputs(provider, harbor, registry_id, run_on_change=True, tag_filter="**")
    )
    assert updated.outs["last_execution_id"] != created.outs["last_execution_id"]


def test_failed_run_names_the_policy(
    provider: ReplicationPolicyProvider, harbor: dict[str, Any], registry_id: int, double: HarborDouble
) -> None:
    double.set_faults(replication_result="Failed")
    with pytest.raises(
        HarborError, match=r"replication policy 'mif-pull': execution \d+ ended Failed: 1 of 1"
    ):
        provider.create(_inputs(provider, harbor, registry_id, run_on_change=True))
    double.set_faults(replication_result="Succeed")
    again = provider.create(_inputs(provider, harbor, registry_id, run_on_change=True))  # adopts the orphan
    assert again.outs["adopted"] is True and again.outs["last_execution_status"] == "Succeed"


def test_run_that_does_not_finish_is_bounded(
    provider: ReplicationPolicyProvider, harbor: dict[str, Any], registry_id: int, double: HarborDouble
) -> None:
    double.set_faults(execution_polls=10_000)
    with pytest.raises(HarborError, match=r"still InProgress after 0\.3s"):
        provider.create(_inputs(provider, harbor, registry_id, run_on_change=True, run_timeout=0.3))


def test_refresh_after_out_of_band_change_and_delete(
    provider: ReplicationPolicyProvider, harbor: dict[str, Any], registry_id: int, double: HarborDouble
) -> None:
    props = _inputs(provider, harbor, registry_id)
    created = provider.create(props)
    pid = int(created.id)
    double.state["policies"][pid].update(dest_namespace_replace_count=-1, override=False)
    read = provider.read(created.id, created.outs)
    assert read.inputs is not None
    assert read.inputs["dest_namespace_replace_count"] == -1 and read.inputs["override"] is False
    assert provider.diff(created.id, read.outs, props).changes is True
    provider.update(created.id, read.outs, props)
    assert double.state["policies"][pid]["dest_namespace_replace_count"] == 0
    del double.state["policies"][pid]
    gone = provider.read(created.id, created.outs)
    assert gone.id == "" and gone.outs == {}


def test_create_adopts_existing_by_name(
    provider: ReplicationPolicyProvider, harbor: dict[str, Any], registry_id: int, double: HarborDouble
) -> None:
    first = provider.create(_inputs(provider, harbor, registry_id))
    again = provider.create(_inputs(provider, harbor, registry_id, description="adopted"))
    assert again.id == first.id and again.outs["adopted"] is True
    assert double.count("POST", "/replication/policies") == 1
    assert double.state["policies"][int(first.id)]["description"] == "adopted"
