# The SDK declares CreateResult.outs / ReadResult.inputs Optional; these tests index them directly.
# mypy: disable-error-code="arg-type,index,dict-item"
"""Pickling without secrets, four concurrent calls on one provider, type tokens, and swagger conformance."""

from __future__ import annotations

import base64
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import dill
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from components.harbor_api.errors import HarborConfigError
from components.harbor_api.project import Project, ProjectProvider
from components.harbor_api.registry import Registry, RegistryProvider
from components.harbor_api.replication import ReplicationPolicy, ReplicationPolicyProvider
from components.harbor_api.retention import ProjectRetention, ProjectRetentionProvider
from lab.harbor_double import HarborDouble
from tests.provider.conftest import ECR_URL, PASSWORD, configured
from tests.provider.worlds import fake_upstream, healthy_world  # noqa: F401 (fixtures)

PROVIDERS = (RegistryProvider, ProjectProvider, ReplicationPolicyProvider, ProjectRetentionProvider)

pytestmark = pytest.mark.usefixtures("healthy_world")


@pytest.mark.parametrize("cls", PROVIDERS)
def test_serialized_provider_holds_no_secret_even_after_configure(cls: type) -> None:
    provider: Any = configured(cls)
    blob = base64.b64decode(serialize_provider(provider))
    assert PASSWORD.encode() not in blob
    assert b"adminPassword" not in blob
    restored: Any = dill.loads(blob)
    assert vars(restored) == {}  # pickled by reference with no instance state: no password
    assert type(restored) is cls


def test_unconfigured_provider_says_how_to_configure(harbor: dict[str, Any]) -> None:
    with pytest.raises(HarborConfigError, match="harbor-cache:adminPassword"):
        RegistryProvider().read("1", {"harbor": harbor})


def test_type_tokens_are_stable() -> None:
    assert Registry._resource_type_name == "dynamic/harbor:Registry"
    assert Project._resource_type_name == "dynamic/harbor:Project"
    assert ReplicationPolicy._resource_type_name == "dynamic/harbor:ReplicationPolicy"
    assert ProjectRetention._resource_type_name == "dynamic/harbor:ProjectRetention"
    # Where each provider is pickled from; states written before the split name the old module, which
    # test_state_compat.py covers.
    assert RegistryProvider.__module__ == "components.harbor_api.registry"
    assert ProjectProvider.__module__ == "components.harbor_api.project"
    assert ReplicationPolicyProvider.__module__ == "components.harbor_api.replication"
    assert ProjectRetentionProvider.__module__ == "components.harbor_api.retention"


def test_four_concurrent_calls_on_one_provider(harbor: dict[str, Any], double: HarborDouble) -> None:
    """As the engine's provider process does: one cached instance, ThreadPoolExecutor(max_workers=4)."""
    provider = configured(RegistryProvider)

    def lifecycle(i: int) -> str:
        news = {
            "harbor": harbor,
            "name": f"ecr-{i}",
            "url": ECR_URL,
            "access_key_id": f"AK{i}",
            "access_secret": f"secret-{i}",
        }
        props = dict(provider.check({}, news).inputs)
        created = provider.create(props)
        read = provider.read(created.id, created.outs)
        assert read.inputs == props
        updated = provider.update(created.id, created.outs, {**props, "description": f"d{i}"})
        assert updated.outs["name"] == f"ecr-{i}"
        return created.id

    with ThreadPoolExecutor(max_workers=4) as pool:
        ids = list(pool.map(lifecycle, range(8)))
    assert len(set(ids)) == 8
    stored = {r["name"]: r for r in double.state["registries"].values()}
    assert all(stored[f"ecr-{i}"]["credential"]["access_secret"] == f"secret-{i}" for i in range(8))
    assert all(stored[f"ecr-{i}"]["description"] == f"d{i}" for i in range(8))


def test_every_request_of_a_full_lifecycle_follows_the_swagger(
    harbor: dict[str, Any], double: HarborDouble
) -> None:
    """Drive every provider method once; the double validated each request (the fixture asserts none)."""
    reg_p, proj_p, pol_p, ret_p = (configured(c) for c in PROVIDERS)
    reg = reg_p.create(
        dict(
            reg_p.check(
                {},
                {
                    "harbor": harbor,
                    "name": "ecr",
                    "url": ECR_URL,
                    "access_key_id": "AK",
                    "access_secret": "S",
                },
            ).inputs
        )
    )
    rid = reg.outs["registry_id"]
    proxy = proj_p.create(
        dict(
            proj_p.check(
                {},
                {
                    "harbor": harbor,
                    "name": "mif",
                    "registry_id": rid,
                    "public": True,
                    "force_destroy": True,
                },
            ).inputs
        )
    )
    plain = proj_p.create(
        dict(
            proj_p.check(
                {}, {"harbor": harbor, "name": "mif-replica", "storage_limit": 10**9}
            ).inputs
        )
    )
    retentions = [
        ret_p.create(dict(ret_p.check({}, {"harbor": harbor, "project_id": int(project.id),
                                           "project_name": name, "days": days}).inputs))
        for project, name, days in ((proxy, "mif", 14), (plain, "mif-replica", 2))
    ]
    pol = pol_p.create(
        dict(
            pol_p.check(
                {},
                {
                    "harbor": harbor,
                    "name": "pull",
                    "registry_id": rid,
                    "dest_namespace": "mif-replica",
                    "name_filter": "a/**",
                    "trigger": "scheduled",
                    "cron": "0 0 1 * * *",
                    "run_on_change": True,
                },
            ).inputs
        )
    )
    changes = {reg_p: {"description": "x"}, pol_p: {"description": "x"}, proj_p: {"public": False},
               ret_p: {"days": 0}}
    for provider, res in ((reg_p, reg), (proj_p, proxy), (proj_p, plain), (pol_p, pol),
                          (ret_p, retentions[0]), (ret_p, retentions[1])):
        read = provider.read(res.id, res.outs)
        assert read.inputs is not None
        provider.update(res.id, read.outs, {**read.inputs, **changes[provider]})
    double.add_repository("mif", "a/b/c")
    for ret in retentions:
        ret_p.delete(ret.id, ret.outs)
    pol_p.delete(pol.id, pol.outs)
    proj_p.delete(proxy.id, proxy.outs)
    proj_p.delete(plain.id, plain.outs)
    reg_p.delete(reg.id, reg.outs)
    assert double.state["registries"] == {} and double.state["projects"] == {}
    assert double.violations == []
    used = {k.split(" ", 1)[1] for k in double.counts}
    assert {
        "/registries",
        "/projects",
        "/quotas",
        "/retentions/{id}",
        "/replication/policies/{id}",
        "/projects/{project_name}/repositories/{repository_name}",
    } <= used
