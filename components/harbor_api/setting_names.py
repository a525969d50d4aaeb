"""Which stack setting feeds each input of the Harbor resources: the one table of it.

``HarborUpstream`` builds the resources from the stack settings (components/specs.py ``upstream_args``, then
components/upstream.py), so a provider's ``check`` error names the setting to fix, not the provider's input.
An input that the program sets itself (a resource id, a fixed value) is missing here; its errors name the input.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Settings = Mapping[str, str | tuple[str, ...]]
"""Input name → the stack setting(s) (without the ``harbor-cache:`` prefix) it is built from."""

PREFIX = "harbor-cache:"
_ENDPOINT = "harbor.apiUrl"

# Settings that messages name although no input carries them (what to check when Harbor says no).
ADMIN_PASSWORD = PREFIX + "adminPassword"
ADMIN_USER = PREFIX + "harbor.adminUser"
HARBOR_NAMESPACE = PREFIX + "harbor.namespace"
EGRESS_PROXY = PREFIX + "harbor.proxy.*"
UPSTREAM_KEY_ID = PREFIX + "upstream.accessKeyId"
UPSTREAM_SECRET = PREFIX + "upstreamSecretKey"
UPSTREAM_TYPE = PREFIX + "upstream.type"

REGISTRY: Settings = {
    "harbor": _ENDPOINT,
    "name": "upstream.name",
    "type": "upstream.type",
    "url": "upstream.url",
    "access_key_id": "upstream.accessKeyId",
    "access_secret": "upstreamSecretKey",
    "ambient_credentials": "upstream.ambientCredentials",
    "insecure": "upstream.insecure",
    "description": "upstream.description",
}
PROXY_PROJECT: Settings = {
    "harbor": _ENDPOINT,
    "name": "proxyProject.name",
    "public": "proxyProject.public",
    "storage_limit": "proxyProject.storageLimitBytes",
    "proxy_speed_kb": "proxyProject.speedKb",
    "force_destroy": "proxyProject.forceDestroy",
}
PROJECT_RETENTION: Settings = {
    "harbor": _ENDPOINT,
    "days": "proxyProject.retentionDays",
}
REPLICA_PROJECT: Settings = {
    "harbor": _ENDPOINT,
    "name": "replication.project",
    "public": "replication.public",
    "force_destroy": "replication.forceDestroy",
}
REPLICATION_POLICY: Settings = {
    "harbor": _ENDPOINT,
    "name": ("replication.project", "upstream.name"),
    "dest_namespace": "replication.project",
    "name_filter": "replication.nameFilter",
    "tag_filter": "replication.tagFilter",
    "trigger": "replication.trigger",
    "cron": "replication.trigger",
    "override": "replication.override",
    "speed": "replication.speedKb",
    "run_on_change": "replication.runOnChange",
}


def project_settings(registry_id: Any) -> Settings:
    """A project with a registry is the proxy-cache project; one without is the replication's project."""
    return REPLICA_PROJECT if registry_id is None else PROXY_PROJECT


def label(settings: Settings, name: str) -> str:
    """``harbor-cache:upstream.url`` for a mapped input; for one the program sets, the input's name."""
    setting = settings.get(name)
    if setting is None:
        return f"input {name} (set by the program, not a stack setting)"
    names = (setting,) if isinstance(setting, str) else setting
    return " and ".join(PREFIX + n for n in names)
