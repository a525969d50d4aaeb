# The SDK declares CreateResult.outs / ReadResult.inputs Optional; these tests index them directly.
# mypy: disable-error-code="arg-type,index,dict-item"
"""ProjectProvider against the double: proxy and plain projects, quota, force_destroy, and a state from before
retention was a resource of its own (its retention in tests/provider/test_retention.py)."""

from __future__ import annotations

from typing import Any

import pytest

from components.dynamic import UNKNOWN
from components.harbor_api.client import HarborClient
from components.harbor_api.errors import HarborPreconditionFailedError
from components.harbor_api.project import ProjectProvider
from lab.harbor_double import HarborDouble
from tests.provider.conftest import ECR_URL
from tests.provider.conftest import configured as _configured
from tests.provider.worlds import KEYS, fake_upstream, healthy_world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("healthy_world")


@pytest.fixture
def provider() -> ProjectProvider:
    return _configured(ProjectProvider)


@pytest.fixture
def registry_id(client: HarborClient) -> int:
    body = {"name": "ecr", "type": "aws-ecr", "url": ECR_URL, "insecure": False, "description": "", **KEYS}
    return client.create("/registries", body, "create registry 'ecr'")


def _inputs(provider: ProjectProvider, harbor: dict[str, Any], **over: Any) -> dict[str, Any]:
    result = provider.check({}, {"harbor": harbor, "name": "mif", "public": True, **over})
    assert result.failures == []
    return dict(result.inputs)


def test_check(provider: ProjectProvider, harbor: dict[str, Any]) -> None:
    proxy = _inputs(provider, harbor, registry_id=3.0)
    assert proxy["registry_id"] == 3 and isinstance(proxy["registry_id"], int)  # floats from the engine
    assert proxy["storage_limit"] == -1 and "retention_days" not in proxy
    bad = provider.check({}, {"harbor": harbor, "name": "Mif!", "registry_id": 0, "storage_limit": 0})
    assert {f.property for f in bad.failures} == {"name", "registry_id", "storage_limit"}
    plain_speed = provider.check({}, {"harbor": harbor, "name": "p", "proxy_speed_kb": 100})
    assert [f.property for f in plain_speed.failures] == ["proxy_speed_kb"]
    unknown = provider.check({}, {"harbor": harbor, "name": "mif", "registry_id": UNKNOWN, "public": UNKNOWN})
    assert unknown.failures == [] and unknown.inputs["registry_id"] == UNKNOWN


def test_proxy_project_crud(
    provider: ProjectProvider, harbor: dict[str, Any], registry_id: int, double: HarborDouble
) -> None:
    props = _inputs(provider, harbor, registry_id=registry_id, proxy_speed_kb=2048, storage_limit=10**12)
    created = provider.create(props)
    pid = int(created.id)
    project = double.state["projects"][pid]
    assert project["registry_id"] == registry_id
    assert project["metadata"]["public"] == "true" and project["metadata"]["proxy_speed_kb"] == "2048"
    assert project["metadata"]["retention_id"]  # Harbor's own 7-day policy, untouched
    assert double.count("PUT", "/retentions/{id}") == 0
    assert created.outs["project_id"] == pid and "retention_id" not in (created.outs or {})

    read = provider.read(created.id, created.outs)
    assert read.inputs == props
    assert provider.diff(created.id, read.outs, props).changes is False

    news = _inputs(
        provider,
        harbor,
        registry_id=registry_id,
        public=False,
        proxy_speed_kb=-1,
        storage_limit=-1,
    )
    diff = provider.diff(created.id, created.outs, news)
    assert diff.changes and diff.replaces == []
    provider.update(created.id, created.outs, news)
    assert project["metadata"]["public"] == "false" and project["metadata"]["proxy_speed_kb"] == "-1"
    quota = next(q for q in double.state["quotas"].values() if q["ref"]["id"] == pid)
    assert quota["hard"]["storage"] == -1
    assert double.count("PUT", "/retentions/{id}") == 0 and double.count("POST", "/retentions") == 0

    provider.delete(created.id, news)
    assert pid not in double.state["projects"]
    provider.delete(created.id, news)


def test_a_state_that_owned_retention_is_updated_in_place_without_a_harbor_write(
    provider: ProjectProvider, harbor: dict[str, Any], registry_id: int, double: HarborDouble
) -> None:
    props = _inputs(provider, harbor, registry_id=registry_id)
    created = provider.create(props)
    rid = int(double.state["projects"][int(created.id)]["metadata"]["retention_id"])
    old = {**created.outs, "retention_days": 7, "retention_id": rid}  # written before ProjectRetention
    diff = provider.diff(created.id, old, props)
    assert diff.changes is True and diff.replaces == [] and diff.delete_before_replace is False
    writes = sum(v for k, v in double.counts.items() if not k.startswith("GET "))
    updated = provider.update(created.id, old, props)
    assert sum(v for k, v in double.counts.items() if not k.startswith("GET ")) == writes
    assert not {"retention_days", "retention_id"} & set(updated.outs or {})
    assert provider.diff(created.id, updated.outs, props).changes is False
    assert double.state["projects"][int(created.id)]["metadata"]["retention_id"] == str(rid)


def test_plain_project_has_no_retention_and_no_proxy_metadata(
    provider: ProjectProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    created = provider.create(_inputs(provider, harbor))
    assert double.count("POST", "/retentions") == 0
    assert "proxy_speed_kb" not in double.state["projects"][int(created.id)]["metadata"]


def test_update_sends_only_metadata_and_merges(
    provider: ProjectProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    created = provider.create(_inputs(provider, harbor))
    project = double.state["projects"][int(created.id)]
    project["metadata"]["auto_scan"] = "true"  # a key we do not own survives our PUT (merge)
    provider.update(created.id, created.outs, _inputs(provider, harbor, public=False))
    assert project["metadata"] == {"public": "false", "auto_scan": "true"}


def test_refresh_after_out_of_band_change(
    provider: ProjectProvider, harbor: dict[str, Any], registry_id: int, double: HarborDouble
) -> None:
    props = _inputs(provider, harbor, registry_id=registry_id)
    created = provider.create(props)
    pid = int(created.id)
    double.state["projects"][pid]["metadata"]["public"] = "false"
    read = provider.read(created.id, created.outs)
    assert read.inputs is not None
    assert read.inputs["public"] is False
    diff = provider.diff(created.id, read.outs, props)
    assert diff.changes and diff.replaces == []
    provider.update(created.id, read.outs, props)
    assert double.state["projects"][pid]["metadata"]["public"] == "true"


def test_refresh_after_out_of_band_delete(
    provider: ProjectProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    created = provider.create(_inputs(provider, harbor))
    del double.state["projects"][int(created.id)]
    read = provider.read(created.id, created.outs)
    assert read.id == "" and read.outs == {}


def test_name_or_registry_change_replaces(
    provider: ProjectProvider, harbor: dict[str, Any], registry_id: int
) -> None:
    created = provider.create(_inputs(provider, harbor, registry_id=registry_id))
    renamed = provider.diff(
        created.id, created.outs, _inputs(provider, harbor, name="mif2", registry_id=registry_id)
    )
    assert renamed.replaces == ["name"] and renamed.delete_before_replace is True
    plain = provider.diff(created.id, created.outs, _inputs(provider, harbor))
    assert plain.replaces == ["registry_id"]


def test_replace_on_name_change_runs_delete_then_create(
    provider: ProjectProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    old = provider.create(_inputs(provider, harbor))
    news = _inputs(provider, harbor, name="mif2")
    assert provider.diff(old.id, old.outs, news).delete_before_replace
    provider.delete(old.id, old.outs)  # what the engine does for delete_before_replace
    new = provider.create(news)
    assert [p["name"] for p in double.state["projects"].values()] == ["mif2"]
    assert new.id != old.id


def test_create_adopts_existing_and_converges(
    provider: ProjectProvider, harbor: dict[str, Any], client: HarborClient, double: HarborDouble
) -> None:
    pid = client.create(
        "/projects", {"project_name": "mif", "metadata": {"public": "false"}}, "create project"
    )
    created = provider.create(_inputs(provider, harbor, public=True))
    assert created.id == str(pid) and created.outs["adopted"] is True
    assert double.state["projects"][pid]["metadata"]["public"] == "true"
    assert double.count("POST", "/projects") == 1


def test_create_refuses_to_adopt_a_project_of_another_kind(
    provider: ProjectProvider, harbor: dict[str, Any], registry_id: int, client: HarborClient
) -> None:
    client.create("/projects", {"project_name": "mif", "metadata": {"public": "false"}}, "create project")
    with pytest.raises(Exception, match="cannot be adopted"):
        provider.create(_inputs(provider, harbor, registry_id=registry_id))


def test_non_empty_project_delete_without_force_destroy_explains_412(
    provider: ProjectProvider, harbor: dict[str, Any], registry_id: int, double: HarborDouble
) -> None:
    created = provider.create(_inputs(provider, harbor, registry_id=registry_id))
    double.add_repository("mif", "quickstart/img")
    with pytest.raises(HarborPreconditionFailedError) as err:
        provider.delete(created.id, created.outs)
    assert err.value.status == 412
    assert "delete project 'mif' failed: HTTP 412" in str(err.value) and "force_destroy=true" in str(
        err.value
    )
    assert int(created.id) in double.state["projects"]


def test_force_destroy_empties_nested_repositories_first(
    provider: ProjectProvider, harbor: dict[str, Any], registry_id: int, double: HarborDouble
) -> None:
    props = _inputs(provider, harbor, registry_id=registry_id, force_destroy=True)
    created = provider.create(props)
    for i in range(3):
        double.add_repository("mif", f"quickstart/team/img{i}")
    double.add_repository("mif", "flat")
    provider.delete(created.id, created.outs)
    assert int(created.id) not in double.state["projects"]
    assert double.count("DELETE", "/projects/{project_name}/repositories/{repository_name}") == 4
    assert any(r["path"].endswith("quickstart%2Fteam%2Fimg0") for r in double.requests)  # decoded once


def test_force_destroy_is_not_drift_and_needs_no_call(
    provider: ProjectProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    created = provider.create(_inputs(provider, harbor))
    news = _inputs(provider, harbor, force_destroy=True)
    assert provider.diff(created.id, created.outs, news).changes is True
    before = sum(double.counts.values())
    out = provider.update(created.id, created.outs, news)
    assert out.outs["force_destroy"] is True
    writes = [k for k in double.counts if not k.startswith("GET")]
    assert sum(double.counts.values()) > before and all(double.counts[k] == 1 for k in writes)
