# The SDK declares CreateResult.outs / ReadResult.inputs Optional; these tests index them directly.
# mypy: disable-error-code="arg-type,index,dict-item"
"""A refresh reads only what a resource's state depends on: counted GETs against the double (issue 20).

The sandbox stack's Harbor resources (registry, proxy project, its retention, replica project, replication policy)
refresh with one GET each: 5 for 5 (it was 5 for 4 while the proxy project also read its retention policy)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from components.harbor_api.client import HarborClient
from components.harbor_api.project import ProjectProvider
from components.harbor_api.registry import RegistryProvider
from components.harbor_api.replication import ReplicationPolicyProvider
from components.harbor_api.retention import ProjectRetentionProvider
from lab.harbor_double import HarborDouble
from tests.provider.conftest import ECR_URL, configured
from tests.provider.worlds import KEYS, fake_upstream, healthy_world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("healthy_world")


def _gets(double: HarborDouble, before: Counter[str]) -> dict[str, int]:
    """GETs (by swagger template) since ``before``."""
    return {k: v - before.get(k, 0) for k, v in double.counts.items()
            if k.startswith("GET ") and v != before.get(k, 0)}


def _refresh(provider: Any, created: Any, double: HarborDouble) -> tuple[Any, dict[str, int]]:
    before = Counter(double.counts)
    read = provider.read(created.id, created.outs)
    return read, _gets(double, before)


@pytest.fixture
def registry_id(client: HarborClient) -> int:
    body = {"name": "ecr", "type": "aws-ecr", "url": ECR_URL, "insecure": False, "description": "", **KEYS}
    return client.create("/registries", body, "create registry 'ecr'")


def _checked(provider: Any, news: dict[str, Any]) -> dict[str, Any]:
    result = provider.check({}, news)
    assert result.failures == []
    return dict(result.inputs)


def test_registry_refresh_is_one_get(harbor: dict[str, Any], double: HarborDouble) -> None:
    provider = configured(RegistryProvider)
    props = _checked(provider, {"harbor": harbor, "name": "ecr", "type": "aws-ecr", "url": ECR_URL,
                                "access_key_id": KEYS["credential"]["access_key"],
                                "access_secret": KEYS["credential"]["access_secret"]})
    created = provider.create(props)
    _, gets = _refresh(provider, created, double)
    assert gets == {"GET /registries/{id}": 1}


def test_plain_project_without_limit_reads_only_the_project(harbor: dict[str, Any], double: HarborDouble) -> None:
    provider = configured(ProjectProvider)
    created = provider.create(_checked(provider, {"harbor": harbor, "name": "mif-replica", "public": True}))
    read, gets = _refresh(provider, created, double)
    assert gets == {"GET /projects/{project_name_or_id}": 1}
    assert read.outs["quota_enforced"] is True and read.inputs["storage_limit"] == -1


def test_a_storage_limit_is_read_back(harbor: dict[str, Any], double: HarborDouble) -> None:
    provider = configured(ProjectProvider)
    created = provider.create(_checked(provider, {"harbor": harbor, "name": "lim", "storage_limit": 1 << 30}))
    quota = next(q for q in double.state["quotas"].values() if q["ref"]["id"] == int(created.id))
    quota["hard"]["storage"] = 1 << 20  # changed in Harbor's UI
    read, gets = _refresh(provider, created, double)
    assert gets == {"GET /projects/{project_name_or_id}": 1, "GET /quotas": 1}
    assert read.inputs["storage_limit"] == 1 << 20


def test_replication_reads_its_execution_only_while_it_runs(
    harbor: dict[str, Any], registry_id: int, client: HarborClient, double: HarborDouble
) -> None:
    client.create("/projects", {"project_name": "mif-replica", "metadata": {"public": "true"}}, "create project")
    provider = configured(ReplicationPolicyProvider)
    props = _checked(provider, {"harbor": harbor, "name": "mif-pull", "registry_id": registry_id,
                                "dest_namespace": "mif-replica", "run_on_change": True, "run_timeout": 5.0})
    created = provider.create(props)
    assert created.outs["last_execution_status"] == "Succeed"
    read, gets = _refresh(provider, created, double)
    assert gets == {"GET /replication/policies/{id}": 1}  # a finished run does not change
    running = {**created.outs, "last_execution_status": "InProgress"}  # state written while it still ran
    before = Counter(double.counts)
    read = provider.read(created.id, running)
    assert _gets(double, before) == {"GET /replication/policies/{id}": 1, "GET /replication/executions/{id}": 1}
    assert read.outs["last_execution_status"] == "Succeed"


def test_a_proxy_project_and_its_retention_read_one_get_each(
    harbor: dict[str, Any], registry_id: int, double: HarborDouble
) -> None:
    projects, retentions = configured(ProjectProvider), configured(ProjectRetentionProvider)
    project = projects.create(_checked(projects, {"harbor": harbor, "name": "mif", "registry_id": registry_id}))
    retention = retentions.create(_checked(retentions, {"harbor": harbor, "project_id": int(project.id),
                                                        "project_name": "mif", "days": 7}))
    _, gets = _refresh(projects, project, double)
    assert gets == {"GET /projects/{project_name_or_id}": 1}  # no retention read: it is not the project's state
    read, gets = _refresh(retentions, retention, double)
    assert gets == {"GET /retentions/{id}": 1} and read.inputs["days"] == 7


def test_the_sandbox_stacks_harbor_resources_refresh_with_one_get_each(
    harbor: dict[str, Any], double: HarborDouble
) -> None:
    """What tests/e2e's sandbox deploys: one upstream with its proxy project (and retention) and a replication."""
    registries, projects = configured(RegistryProvider), configured(ProjectProvider)
    retentions, policies = configured(ProjectRetentionProvider), configured(ReplicationPolicyProvider)
    registry = registries.create(_checked(registries, {
        "harbor": harbor, "name": "sandbox", "type": "aws-ecr", "url": ECR_URL,
        "access_key_id": KEYS["credential"]["access_key"], "access_secret": KEYS["credential"]["access_secret"]}))
    proxy = projects.create(_checked(projects, {"harbor": harbor, "name": "mif", "registry_id": int(registry.id)}))
    retention = retentions.create(_checked(retentions, {"harbor": harbor, "project_id": int(proxy.id),
                                                        "project_name": "mif", "days": 7}))
    replica = projects.create(_checked(projects, {"harbor": harbor, "name": "mif-replica", "public": True}))
    policy = policies.create(_checked(policies, {"harbor": harbor, "name": "mif-pull", "registry_id": int(registry.id),
                                                 "dest_namespace": "mif-replica"}))
    resources = [(registries, registry), (projects, proxy), (retentions, retention), (projects, replica),
                 (policies, policy)]
    before = Counter(double.counts)
    per_resource = [sum(_refresh(provider, created, double)[1].values()) for provider, created in resources]
    assert per_resource == [1, 1, 1, 1, 1]
    assert sum(_gets(double, before).values()) == len(resources) == 5
