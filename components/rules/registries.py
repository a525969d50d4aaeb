"""Upstream registries: which Harbor adapter types exist and may back a proxy cache, and Docker Hub's names.

Harbor v2.14 has one adapter per registry type (src/pkg/reg/adapter/*; an unknown type is a 500). Which of them may
back a proxy-cache project is not Harbor's code but its environment: `PERMITTED_REGISTRY_TYPES_FOR_PROXY_CACHE`,
which the Harbor chart sets in the core ConfigMap (templates/core/core-cm.yaml). `proxy_cache_types` reads it from
the chart in use when that chart is on this machine, else uses the value every chart we know carries (pinned by
tests/unit/test_upstreams_rules.py against ../shared/charts).

Docker Hub is the one registry whose names disagree (docs/settings.md, "Upstreams"): image references and
containerd say `docker.io`, its registry API is `registry-1.docker.io`, Harbor's `docker-hub` adapter is set up
with `https://hub.docker.com`, and an official image `nginx` is the repository `library/nginx`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

# Registry types Harbor v2.14 has an adapter factory for (helm-hub and artifact-hub have none).
HARBOR_ADAPTER_TYPES: Final = frozenset({
    "harbor", "docker-hub", "docker-registry", "huawei-SWR", "google-gcr", "aws-ecr", "azure-acr", "ali-acr",
    "jfrog-artifactory", "quay", "gitlab", "dtr", "tencent-tcr", "github-ghcr", "volcengine-cr",
})  # fmt: skip

# PERMITTED_REGISTRY_TYPES_FOR_PROXY_CACHE as charts 1.18.2, 1.18.4 and 1.19.1 set it (the same in all three).
CHART_PROXY_CACHE_TYPES: Final = frozenset({
    "docker-hub", "harbor", "azure-acr", "ali-acr", "aws-ecr", "google-gcr", "docker-registry", "github-ghcr",
    "jfrog-artifactory",
})  # fmt: skip
PROXY_CACHE_SETTING: Final = "PERMITTED_REGISTRY_TYPES_FOR_PROXY_CACHE"
CORE_CONFIGMAP: Final = "templates/core/core-cm.yaml"
GENERIC_TYPE: Final = "docker-registry"
"""The adapter for any registry that speaks the registry API (quay.io, registry.k8s.io, ...)."""

DOCKER_HUB_TYPE: Final = "docker-hub"
DOCKER_HUB_HOST: Final = "docker.io"
"""The registry name image references and containerd use for Docker Hub (its certs.d directory)."""
DOCKER_HUB_SERVER: Final = "https://registry-1.docker.io"
"""Docker Hub's registry API: containerd's fallback `server`."""
DOCKER_HUB_URL: Final = "https://hub.docker.com"
"""The endpoint URL Harbor's docker-hub adapter is created with (its portal offers only this one)."""
DOCKER_HUB_ALIASES: Final = ("index.docker.io",)
"""Other names references may use for Docker Hub (rewritten like docker.io)."""
OFFICIAL_NAMESPACE: Final = "library"
"""Docker Hub's namespace of official images: `nginx` is `library/nginx`."""

_SETTING_LINE = re.compile(rf"^\s*{PROXY_CACHE_SETTING}:\s*\"?([^\"\n]*)\"?\s*$", re.MULTILINE)


def chart_proxy_cache_types(chart_dir: str | Path) -> frozenset[str] | None:
    """The proxy-cache types a local Harbor chart permits (from its core ConfigMap), or None when unreadable."""
    try:
        text = (Path(chart_dir) / CORE_CONFIGMAP).read_text()
    except OSError:
        return None
    match = _SETTING_LINE.search(text)
    if match is None:
        return None
    return frozenset(t.strip() for t in match.group(1).split(",") if t.strip())


def proxy_cache_types(chart_dir: str | Path | None) -> frozenset[str]:
    """The types that may back a proxy-cache project with this chart: read from a local chart when it can be,
    else the value of every chart we know."""
    found = chart_proxy_cache_types(chart_dir) if chart_dir else None
    return found if found is not None else CHART_PROXY_CACHE_TYPES


def proxy_cache_type_problem(kind: str, permitted: frozenset[str], chart: str = "the chart") -> str | None:
    """Why `kind` cannot back a proxy-cache project (unknown to Harbor, or not permitted by the chart), or None."""
    if kind in permitted:
        return None
    choices = ", ".join(sorted(permitted))
    if kind not in HARBOR_ADAPTER_TYPES:
        return f"{kind!r} is not a Harbor registry type: use one of {choices}"
    return (f"{kind!r} is a Harbor adapter, but {chart} does not permit it for a proxy cache "
            f"({PROXY_CACHE_SETTING}): use {GENERIC_TYPE!r} (any registry that speaks the registry API, e.g. "
            "quay.io) or one of " + choices)


def upstream_host(kind: str, url: str) -> str:
    """The registry name image references use for an upstream (`host[:port]`): docker.io for Docker Hub."""
    if kind == DOCKER_HUB_TYPE:
        return DOCKER_HUB_HOST
    return re.sub(r"^[a-z]+://", "", url).split("/", 1)[0]


def upstream_server(kind: str, url: str) -> str:
    """The registry API containerd falls back to for an upstream: registry-1.docker.io for Docker Hub."""
    return DOCKER_HUB_SERVER if kind == DOCKER_HUB_TYPE else url.rstrip("/")
