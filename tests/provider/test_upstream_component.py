"""HarborUpstream under Pulumi mocks: children, parents, type tokens, secret upstream key, outputs."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from pulumi.runtime import mocks

from components.harbor_api.endpoint import HarborEndpoint
from tests.provider.conftest import ECR_URL
from tests.support.pulumi_mocks import mocked_runtime


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        ids = {
            "Registry": ("registryId", 3),
            "Project": ("projectId", 5),
            "ReplicationPolicy": ("policyId", 7),
        }
        kind = args.typ.rsplit(":", 1)[-1]
        if kind == "Project" and args.inputs.get("storage_limit", -1) != -1:
            state["warnings"] = [f"project '{args.inputs['name']}': Harbor keeps no quota for it"]
        if kind in ids:
            key, value = ids[kind]
            state[key] = value
            state[{"registryId": "registry_id", "projectId": "project_id", "policyId": "policy_id"}[key]] = (
                value
            )
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return {}, None


@pytest.fixture
def monitor() -> Iterator[mocks.MockMonitor]:
    with mocked_runtime(_Mocks()) as mon:
        yield mon


@pulumi.runtime.test
def test_wires_registry_proxy_and_replication(monitor: mocks.MockMonitor) -> Any:
    from components.upstream import (
        HarborUpstream,
        HarborUpstreamArgs,
        ProxyProjectOptions,
        ReplicationOptions,
    )

    up = HarborUpstream(
        "ecr",
        HarborUpstreamArgs(
            endpoint=HarborEndpoint(url="https://harbor.example.com"),
            registry_name="moreh-ecr",
            registry_url=ECR_URL,
            access_key_id="AKIA1",
            access_secret="aws-secret",
            proxy=ProxyProjectOptions(name="mif"),
            replication=ReplicationOptions(
                project_name="mif-replica", policy_name="mif-pull", name_filter="q/**"
            ),
        ),
    )

    def check(values: list[Any]) -> None:
        registry_id, proxy_name, replica_name, policy_id = values
        assert registry_id == 3 and policy_id == 7
        assert proxy_name == "mif" and replica_name == "mif-replica"
        urns = monitor.get_registered_resources()
        types = sorted(u.split("::")[2] for u in urns)
        assert types == [
            "harbor-cache:index:HarborUpstream$pulumi-python:dynamic/harbor:Project",
            "harbor-cache:index:HarborUpstream$pulumi-python:dynamic/harbor:Project",
            "harbor-cache:index:HarborUpstream$pulumi-python:dynamic/harbor:ProjectRetention",
            "harbor-cache:index:HarborUpstream$pulumi-python:dynamic/harbor:Registry",
            "harbor-cache:index:HarborUpstream$pulumi-python:dynamic/harbor:ReplicationPolicy",
            "pulumi:pulumi:Stack$harbor-cache:index:HarborUpstream",
        ]
        states = {u.rsplit("::", 1)[1]: r.state for u, r in urns.items()}
        assert states["ecr-proxy-retention"]["days"] == 7 and states["ecr-proxy"]["public"] is True
        assert states["ecr-proxy-retention"]["project_name"] == "mif"
        assert states["ecr-replication"]["dest_namespace_replace_count"] == 0
        assert "ecr-replica-retention" not in states and "retention_days" not in states["ecr-replica"]

    return pulumi.Output.all(
        up.registry_id, up.proxy_project_name, up.replica_project_name, up.policy_id,
        *[r.retention_id for r in up.retentions],  # registered once the project's id is known
    ).apply(lambda values: check(values[:4]))


@pulumi.runtime.test
def test_ambient_credentials_reach_the_registry_and_project_warnings_are_shown(
    monitor: mocks.MockMonitor, caplog: pytest.LogCaptureFixture
) -> Any:
    from components.upstream import HarborUpstream, HarborUpstreamArgs, ProxyProjectOptions

    caplog.set_level(logging.WARNING)
    up = HarborUpstream(
        "irsa",
        HarborUpstreamArgs(
            endpoint=HarborEndpoint(url="https://harbor.example.com"),
            registry_name="moreh-ecr",
            registry_url=ECR_URL,
            ambient_credentials=True,
            proxy=ProxyProjectOptions(name="mif", storage_limit=10**9),
        ),
    )

    def check(_values: list[Any]) -> None:
        states = {u.rsplit("::", 1)[1]: r.state for u, r in monitor.get_registered_resources().items()}
        assert states["irsa-registry"]["ambient_credentials"] is True
        assert states["irsa-registry"]["access_key_id"] == ""
        assert "project 'mif': Harbor keeps no quota for it" in caplog.text

    return pulumi.Output.all(up.registry_id, up.proxy_project_name).apply(check)
