"""One way to declare a pinned Helm release, shared by Harbor, cert-manager and Kyverno."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class ChartSource:
    """A chart at an exact version, from a repository URL, an OCI reference or a local path."""

    name: str
    version: str
    repository: str | None = None
    path: str | None = None


def release(
    resource_name: str,
    source: ChartSource,
    *,
    release_name: str,
    namespace: pulumi.Input[str],
    values: pulumi.Input[dict[str, Any]],
    skip_await: bool,
    timeout_seconds: int,
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    """A `helm.v3.Release` (real Helm hooks, `helm ls` visible) of a pinned chart."""
    repo_opts = None
    if source.path:
        chart = source.path
    elif source.repository and source.repository.startswith("oci://"):
        chart = f"{source.repository.rstrip('/')}/{source.name}"
    else:
        chart = source.name
        repo_opts = k8s.helm.v3.RepositoryOptsArgs(repo=source.repository) if source.repository else None
    return k8s.helm.v3.Release(
        resource_name,
        name=release_name,
        chart=chart,
        version=None if source.path else source.version,
        repository_opts=repo_opts,
        namespace=namespace,
        values=values,
        skip_await=skip_await,
        timeout=timeout_seconds,
        # A failed install/upgrade is rolled back, so the next `pulumi up` starts from a deployed release
        # instead of "another operation is in progress".
        atomic=not skip_await,
        cleanup_on_fail=True,
        opts=opts,
    )
