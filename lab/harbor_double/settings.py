"""Harbor's configuration and the world around it, as the double sees them (not faults: see faults.py).

Reached like the faults: ``double.set_settings(name=value)``, ``DoubleClient.settings(name=value)`` =
``POST /_double/settings`` (``GET`` shows them), ``python -m lab double --setting 'upstream_map={"*": "http://..."}'``
(values are JSON, or plain text for strings). ``POST /_double/reset`` restores the settings the double was started
with.

- ``upstream_map`` (``{registry URL: stand-in base URL}``): where the upstream health check of a registry really
  goes. Every registry create/update/ping makes the double ``GET <url>/v2/`` (timeout ``health_check_timeout``):
  any 2xx or 401 is healthy (as Harbor's native adapter, ``PingSimple``), anything else, a refused connection or a
  timeout is 400 "the registry is unhealthy". The registry URL is looked up as stored (no trailing slash); the
  key ``"*"`` stands for every URL not listed. Without a mapping, the double pings the URL itself only when its host
  is an IP literal or ``localhost``; any other host name is unreachable (the sandbox has no DNS and no egress).
- ``aws_reachable`` (bool, default False): whether Harbor core reaches AWS for ``aws-ecr`` (its
  ``GetAuthorizationToken``). False: every ``aws-ecr`` create/update/ping → 400 "the registry is unhealthy" (as
  Harbor offline: NoCredentialProviders / no route). True: the token call succeeds (unless ``aws_rejects_keys``) and
  the double pings ``<upstream_map[ECR URL]>/v2/`` as the ECR host (no mapping: unhealthy).
- ``aws_rejects_keys`` (bool): AWS answers but refuses the access key (UnrecognizedClientException) → 400.
- ``health_check_delay`` (seconds): the upstream check first hangs this long, as a silently dropped connection
  does (Harbor's own dial timeout is about 30 s); the request's reply waits with it.
- ``health_check_timeout`` (seconds, 5): how long the double waits for ``/v2/``.
- ``permitted_proxy_types`` (list): ``PERMITTED_REGISTRY_TYPES_FOR_PROXY_CACHE``, default the value of Harbor's
  helm chart 1.18.2 core ConfigMap; a proxy-cache project on another type → 400.
- ``quota_per_project_enable`` (bool, True): Harbor's system setting (also ``PUT /configurations``); False → new
  projects get no quota (``storage_limit`` is dropped, ``GET /quotas`` finds nothing for them).
- ``storage_per_project`` (int, -1): Harbor's default quota, used when a create sends no (or 0) ``storage_limit``
  (also ``PUT /configurations``).
- ``proxy_storage`` (``{project name: directory}``, ``"*"`` for every proxy-cache project): the storage root of
  the registry that really holds a proxy-cache project's cache (the sandbox's pull path); ``getArtifact`` answers
  from it (handlers/artifacts.py), so an artifact exists only after a pull went through the pull path.
- ``pull_log`` (path): the pull path's pull log (one line per request: time, method, URI, status; written by the
  sandbox's nginx, never truncated); with ``proxy_storage`` it makes the double account every pull as Harbor does
  (handlers/cache.py, pulls.py): repositories, artifacts, ``pull_count``, ``pull_time`` and the storage used.
- ``library_project`` (bool, True): a fresh double holds Harbor's built-in public project ``library`` (id 1, quota
  1), as every Harbor does; False leaves it out (takes effect at start and on reset).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from typing import Any

# PERMITTED_REGISTRY_TYPES_FOR_PROXY_CACHE as the harbor-1.18.2 chart's core ConfigMap sets it.
CHART_PROXY_TYPES = (
    "docker-hub", "harbor", "azure-acr", "ali-acr", "aws-ecr", "google-gcr", "docker-registry", "github-ghcr",
    "jfrog-artifactory",
)  # fmt: skip


@dataclass
class Settings:
    """Harbor's configuration and environment for the double; see the module docstring for each."""

    upstream_map: dict[str, str] = field(default_factory=dict)
    aws_reachable: bool = False
    aws_rejects_keys: bool = False
    health_check_delay: float = 0.0
    health_check_timeout: float = 5.0
    permitted_proxy_types: list[str] = field(default_factory=lambda: list(CHART_PROXY_TYPES))
    quota_per_project_enable: bool = True
    storage_per_project: int = -1
    library_project: bool = True
    proxy_storage: dict[str, str] = field(default_factory=dict)
    pull_log: str = ""

    def update(self, **changes: Any) -> None:
        """Set the named settings; KeyError for an unknown name, ValueError/TypeError for a bad value."""
        kinds = {f.name: type(getattr(self, f.name)) for f in fields(self)}
        for key, given in changes.items():
            if key not in kinds:
                raise KeyError(key)
            kind, value = kinds[key], given
            if isinstance(value, str) and kind in (dict, list):
                # JSON, or for a list Harbor's own comma-separated form
                is_json = value.lstrip()[:1] in ("{", "[")
                value = json.loads(value) if is_json else [v.strip() for v in value.split(",") if v.strip()]
            if kind is bool and isinstance(value, str):
                value = value.lower() in ("1", "true", "yes", "on")
            if kind is dict and not (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())):
                raise TypeError(f"{key} must map names to strings")
            setattr(self, key, kind(value))

    def view(self) -> dict[str, Any]:
        """Every setting as JSON."""
        return asdict(self)

    def copy(self) -> Settings:
        """An independent copy (the start-up settings that reset restores)."""
        return Settings(**json.loads(json.dumps(asdict(self))))
