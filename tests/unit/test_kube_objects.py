"""components/kube_objects.py registers exactly what the typed pulumi_kubernetes classes register (type, inputs,
secret outputs), so stacks written with them see no change; compared under the SDK's mocks."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.runtime.stack import wait_for_rpcs
from pulumi.runtime.sync_await import _sync_await

from components import kube_objects
from components.helm import ChartInstall, ChartSource, chart_reference, release
from tests.support.pulumi_mocks import mocked_runtime


class Recorder(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.seen: dict[str, tuple[str, dict[str, Any]]] = {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.seen[args.name] = (args.typ, dict(args.inputs))
        return f"{args.name}-id", dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


def _registered(build: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    mocks = Recorder()
    with mocked_runtime(mocks):
        build()
        _sync_await(wait_for_rpcs())
    return mocks.seen


def test_namespace_and_secret_register_like_the_sdk() -> None:
    def build() -> None:
        meta = {"name": "harbor-admin", "namespace": "harbor"}
        data = {"HARBOR_ADMIN_PASSWORD": pulumi.Output.secret("pw")}
        k8s.core.v1.Namespace("sdk-ns", metadata={"name": "harbor"})
        kube_objects.Namespace("ours-ns", metadata={"name": "harbor"})
        k8s.core.v1.Secret("sdk-secret", metadata=meta, string_data=data)
        kube_objects.Secret("ours-secret", metadata=meta, string_data=data)

    seen = _registered(build)
    assert seen["ours-ns"] == seen["sdk-ns"]
    assert seen["ours-secret"] == seen["sdk-secret"]
    assert seen["ours-secret"][1]["stringData"]["value"] == {"HARBOR_ADMIN_PASSWORD": "pw"}  # sent as a secret


def test_helm_release_registers_like_the_sdk() -> None:
    sources = [ChartSource("harbor", "1.18.4", "https://helm.goharbor.io"),
               ChartSource("kyverno", "3.5.2", "oci://ghcr.io/kyverno/charts")]

    def build() -> None:
        for i, source in enumerate(sources):
            install = ChartInstall(source, "harbor", "harbor", values={"a": {"b": pulumi.Output.secret("s")}},
                                   skip_await=bool(i), timeout_seconds=900)
            release(f"ours-{i}", install, opts=pulumi.ResourceOptions())
            chart, version, repo = chart_reference(source)
            k8s.helm.v3.Release(
                f"sdk-{i}", name="harbor", chart=chart, version=version, namespace="harbor",
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repo["repo"]) if repo else None,
                values=dict(install.values), skip_await=install.skip_await, timeout=900,
                atomic=not install.skip_await, cleanup_on_fail=True)

    seen = _registered(build)
    for i in range(len(sources)):
        assert seen[f"ours-{i}"] == seen[f"sdk-{i}"]
    with pytest.raises(ValueError, match="skip_await"):
        kube_objects.HelmRelease("bad", {"skip_await": True})
