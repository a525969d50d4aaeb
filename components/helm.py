"""The one way this program installs a Helm chart: Harbor, cert-manager and Kyverno all go through `release`.

Every install is a `helm.v3.Release` (real Helm hooks, visible to `helm ls`) of a pinned chart, and is atomic
when awaited: a failed install or upgrade is rolled back, so the next `pulumi up` starts from a deployed release
instead of "another operation is in progress". A change of the chart's version (or of a local chart's path) is an
in-place `helm upgrade` of the same Release: one update, nothing replaced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
import yaml

from components.kube_objects import HelmRelease


@dataclass(frozen=True)
class ChartSource:
    """A chart at an exact version, from a repository URL, an OCI reference or a local path.

    With `path` the local chart installs, and its Chart.yaml must carry `version` (so a version change in the
    settings cannot silently install another chart); `version` is not sent to Helm. `setting` names the stack
    setting in error messages (e.g. `harbor-cache:harbor.chart`).
    """

    name: str
    version: str
    repository: str | None = None
    path: str | None = None
    setting: str = "the chart setting"


@dataclass(frozen=True)
class ChartInstall:
    """One release of a pinned chart: where the chart comes from, where it goes, and how it is awaited.

    create_namespace: let Helm create `namespace` (False when the program creates it, as for Harbor).
    skip_await: do not wait for the release's resources to be ready (then the release is not atomic either).
    """

    source: ChartSource
    release_name: str
    namespace: str
    values: Mapping[str, Any] = field(default_factory=dict)
    create_namespace: bool = False
    skip_await: bool = False
    timeout_seconds: int = 600


def chart_reference(source: ChartSource) -> tuple[str, str | None, dict[str, str] | None]:
    """The Release's `chart`, `version` and `repositoryOpts` for a source (an OCI chart is one reference)."""
    if source.path:
        check_local_chart(source)
        return source.path, None, None
    if source.repository and source.repository.startswith("oci://"):
        return f"{source.repository.rstrip('/')}/{source.name}", source.version, None
    repo_opts = {"repo": source.repository} if source.repository else None
    return source.name, source.version, repo_opts


def check_local_chart(source: ChartSource) -> None:
    """Stop the program (pulumi.RunError, no stack trace) when the chart at `source.path` is not the pinned version.

    A path without a readable Chart.yaml is left to Helm, which names it in its own error.
    """
    assert source.path
    try:
        meta = yaml.safe_load((Path(source.path) / "Chart.yaml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return
    found = str(meta.get("version", ""))
    if found.lstrip("v") != source.version.lstrip("v"):
        raise pulumi.RunError(
            f"{source.setting}.version is {source.version}, but the chart at '{source.path}' is version {found}: "
            f"point {source.setting}.path at the chart of version {source.version} (or set the version to {found})")


def release(resource_name: str, install: ChartInstall, opts: pulumi.ResourceOptions) -> HelmRelease:
    """A `helm.v3.Release` of `install`, atomic (with cleanup on failure) unless it skips the await
    (components/kube_objects.py says why not through `pulumi_kubernetes.helm.v3`)."""
    chart, version, repo_opts = chart_reference(install.source)
    return HelmRelease(resource_name, {
        "name": install.release_name,
        "chart": chart,
        "version": version,
        "repositoryOpts": repo_opts,
        "namespace": install.namespace,
        "createNamespace": install.create_namespace or None,
        "values": dict(install.values),
        "skipAwait": install.skip_await,
        "timeout": install.timeout_seconds,
        "atomic": not install.skip_await,
        "cleanupOnFail": True,
    }, opts=opts)
