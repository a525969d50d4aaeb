"""The Harbor chart values: a pure function of the settings that fixes the seed's mistakes.

An explicit `expose.type`, an externalURL whose scheme matches the TLS mode, TLS off in HTTP mode and the
cert-manager secret in HTTPS mode, a node-reachable endpoint, real volume sizes, Trivy off for a pure cache,
Recreate with RWO volumes, the database job logger with several jobservice replicas. No secret is a value here:
the admin password and Harbor's internal secrets live in Secrets the chart reads (`existingSecret*`), named by
`PinnedSecretNames` and created by HarborRelease (which also adds the generated internal database password, the
one secret the chart takes only as a value, as a Pulumi secret).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components.metrics import metrics_values
from components.pinned_secrets import REGISTRY_USER
from components.rules import is_ip
from components.settings import Settings

# Secret names and keys the harbor chart (1.18.x) reads through its existingSecret* values.
ADMIN_KEY = "HARBOR_ADMIN_PASSWORD"


@dataclass(frozen=True)
class PinnedSecretNames:
    """Names of the Secrets holding Harbor's internal secrets (generated once by components/pinned_secrets.py)."""

    admin: str
    secret_key: str
    core: str
    xsrf: str
    jobservice: str
    registry_http: str
    registry_credentials: str
    token: str

    @classmethod
    def for_release(cls, release_name: str) -> PinnedSecretNames:
        prefix = f"{release_name}-pinned"
        return cls(admin=f"{prefix}-admin", secret_key=f"{prefix}-secret-key", core=f"{prefix}-core",
                   xsrf=f"{prefix}-xsrf", jobservice=f"{prefix}-jobservice", registry_http=f"{prefix}-registry-http",
                   registry_credentials=f"{prefix}-registry-credentials", token=f"{prefix}-token")


def _deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _expose_values(settings: Settings, tls_secret: str | None) -> dict[str, Any]:
    expose = settings.harbor.expose
    assert expose is not None
    tls: dict[str, Any] = {"enabled": settings.https}
    if settings.https:
        tls["certSource"] = "secret"
        tls["secret"] = {"secretName": tls_secret}
    values: dict[str, Any] = {"type": expose.type, "tls": tls}
    if expose.type == "nodePort":
        values["nodePort"] = {"name": "harbor", "ports": {
            "http": {"port": 80, "nodePort": expose.node_ports.http},
            "https": {"port": 443, "nodePort": expose.node_ports.https}}}
    elif expose.type == "loadBalancer":
        values["loadBalancer"] = {"name": "harbor", "IP": expose.load_balancer_host if is_ip(
            expose.load_balancer_host or "") else "", "ports": {"httpPort": 80, "httpsPort": 443}}
    else:
        values["clusterIP"] = {"name": "harbor", "staticClusterIP": expose.cluster_ip,
                               "ports": {"httpPort": 80, "httpsPort": 443}}
    return values


def _persistence_values(settings: Settings) -> dict[str, Any]:
    storage = settings.harbor.storage

    def claim(size: str) -> dict[str, Any]:
        return {"storageClass": storage.storage_class, "size": size, "accessMode": "ReadWriteOnce"}

    values: dict[str, Any] = {
        "enabled": True,
        "resourcePolicy": "keep",
        "persistentVolumeClaim": {
            "registry": claim(storage.registry_size),
            "jobservice": {"jobLog": claim(storage.job_log_size)},
            "database": claim(storage.database_size),
            "redis": claim(storage.redis_size),
            "trivy": claim(storage.trivy_size),
        },
    }
    object_storage = settings.harbor.ha.object_storage
    if object_storage:
        backend: dict[str, Any] = dict(object_storage.settings)
        if object_storage.existing_secret:
            backend["existingSecret"] = object_storage.existing_secret
        values["imageChartStorage"] = {"type": object_storage.type, object_storage.type: backend}
    return values


def _ha_values(settings: Settings) -> dict[str, Any]:
    ha = settings.harbor.ha
    values: dict[str, Any] = {}
    for component in ("core", "jobservice", "registry", "portal", "nginx"):
        values[component] = {"replicas": ha.replicas}
    if ha.replicas > 1:
        # The chart's default file job logger puts every jobservice replica on one ReadWriteOnce volume; the
        # database logger (the HA guide's choice) writes job logs to the external database, and the chart then
        # makes no job-log volume at all.
        values["jobservice"]["jobLoggers"] = ["database"]
    if ha.external_database:
        db = ha.external_database
        values["database"] = {"type": "external", "external": {
            "host": db.host, "port": str(db.port), "username": db.username, "coreDatabase": db.core_database,
            "existingSecret": db.existing_secret, "sslmode": db.sslmode}}
    if ha.external_redis:
        redis = ha.external_redis
        values["redis"] = {"type": "external", "external": {
            "addr": redis.addr, "sentinelMasterSet": redis.sentinel_master_set,
            "existingSecret": redis.existing_secret}}
    return values


def harbor_values(settings: Settings, names: PinnedSecretNames, tls_secret: str | None,
                  service_monitor: bool = False) -> dict[str, Any]:
    """The chart values for `settings`; `values` from the settings are merged last. `service_monitor`: the chart
    also creates a ServiceMonitor (with metrics on; components/metrics.py decides)."""
    proxy = settings.harbor.proxy
    metrics = settings.harbor.metrics
    values: dict[str, Any] = {
        "expose": _expose_values(settings, tls_secret),
        "externalURL": settings.external_url,
        "persistence": _persistence_values(settings),
        # RWO volumes cannot be attached to the old and the new pod at once (chart docs).
        "updateStrategy": {"type": "Recreate"},
        "trivy": {"enabled": settings.harbor.trivy},
        "existingSecretAdminPassword": names.admin,
        "existingSecretAdminPasswordKey": ADMIN_KEY,
        "existingSecretSecretKey": names.secret_key,
        "proxy": {"httpProxy": proxy.http_proxy, "httpsProxy": proxy.https_proxy, "noProxy": proxy.no_proxy,
                  "components": ["core", "jobservice", "trivy"]},
        "metrics": metrics_values(metrics.enabled, service_monitor, metrics.service_monitor_labels,
                                  metrics.scrape_interval),
    }
    values = _deep_merge(values, _ha_values(settings))
    values = _deep_merge(values, {
        "core": {"existingSecret": names.core, "existingXsrfSecret": names.xsrf,
                 "existingXsrfSecretKey": "CSRF_KEY", "secretName": names.token},
        "jobservice": {"existingSecret": names.jobservice, "existingSecretKey": "JOBSERVICE_SECRET"},
        "registry": {"existingSecret": names.registry_http, "existingSecretKey": "REGISTRY_HTTP_SECRET",
                     "credentials": {"username": REGISTRY_USER,
                                     "existingSecret": names.registry_credentials}},
    })
    if settings.https and settings.harbor.install:
        # Lets /api/v2.0/systeminfo/getcert serve the CA (DOMAIN.md section 4).
        values["caSecretName"] = tls_secret
    return _deep_merge(values, settings.harbor.values)
