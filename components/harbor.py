"""HarborRelease component: namespace, pinned secrets and the Harbor Helm release.

The Helm values are a pure function of the settings (`harbor_values`) and fix the seed's mistakes: an explicit
`expose.type`, an externalURL whose scheme matches the TLS mode, TLS off in HTTP mode and the cert-manager secret
in HTTPS mode, a node-reachable endpoint, real volume sizes, Trivy off for a pure cache, Recreate with RWO volumes.
No secret is ever a Helm value: the admin password and Harbor's internal secrets live in Secrets the chart reads
(`existingSecret*`), generated once and then left alone, so a re-run neither rotates them nor restarts pods.
"""

from __future__ import annotations

import copy
import datetime
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.config import Settings, is_ip
from components.helm import ChartSource, release

# Secret names and keys the harbor chart (1.18.x) reads through its existingSecret* values.
ADMIN_KEY = "HARBOR_ADMIN_PASSWORD"


@dataclass(frozen=True)
class PinnedSecretNames:
    """Names of the Secrets holding Harbor's internal secrets (see `pinned_secret_data`)."""

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


def harbor_values(settings: Settings, names: PinnedSecretNames, tls_secret: str | None) -> dict[str, Any]:
    """The chart values for `settings`; `values` from the settings are merged last."""
    proxy = settings.harbor.proxy
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
        "metrics": {"enabled": False},
    }
    values = _deep_merge(values, _ha_values(settings))
    values = _deep_merge(values, {
        "core": {"existingSecret": names.core, "existingXsrfSecret": names.xsrf,
                 "existingXsrfSecretKey": "CSRF_KEY", "secretName": names.token},
        "jobservice": {"existingSecret": names.jobservice, "existingSecretKey": "JOBSERVICE_SECRET"},
        "registry": {"existingSecret": names.registry_http, "existingSecretKey": "REGISTRY_HTTP_SECRET",
                     "credentials": {"username": "harbor_registry_user",
                                     "existingSecret": names.registry_credentials}},
    })
    if settings.https and settings.harbor.install:
        # Lets /api/v2.0/systeminfo/getcert serve the CA (DOMAIN.md section 4).
        values["caSecretName"] = tls_secret
    return _deep_merge(values, settings.harbor.values)


def _random(length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _token_cert() -> dict[str, str]:
    """A self-signed key pair for Harbor's token service (the chart would regenerate it on every render)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "harbor-token-ca")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return {"tls.crt": cert.public_bytes(serialization.Encoding.PEM).decode(),
            "tls.key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                         serialization.NoEncryption()).decode()}


def pinned_secret_data(names: PinnedSecretNames) -> dict[str, dict[str, str]]:
    """Fresh values for Harbor's internal secrets, by Secret name. Used only when a Secret is first created."""
    import bcrypt

    registry_password = _random(32)
    htpasswd = bcrypt.hashpw(registry_password.encode(), bcrypt.gensalt(rounds=10)).decode()
    return {
        names.secret_key: {"secretKey": _random(16)},  # must be exactly 16 characters
        names.core: {"secret": _random(16)},
        names.xsrf: {"CSRF_KEY": _random(32)},
        names.jobservice: {"JOBSERVICE_SECRET": _random(16)},
        names.registry_http: {"REGISTRY_HTTP_SECRET": _random(16)},
        names.registry_credentials: {"REGISTRY_PASSWD": registry_password,
                                     "REGISTRY_HTPASSWD": f"harbor_registry_user:{htpasswd}"},
        names.token: _token_cert(),
    }


class HarborRelease(pulumi.ComponentResource):
    """Harbor in its namespace: the admin Secret, pinned internal Secrets and the Helm release."""

    namespace: pulumi.Output[str]
    release_status: pulumi.Output[str]

    def __init__(self, name: str, settings: Settings, admin_password: pulumi.Output[str],
                 tls_secret: str | None, depends_on: list[pulumi.Resource] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("harbor-cache:index:HarborRelease", name, {}, opts)
        harbor = settings.harbor
        child = pulumi.ResourceOptions(parent=self)
        ns = k8s.core.v1.Namespace(f"{name}-namespace", metadata={"name": harbor.namespace}, opts=child)
        in_ns = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[ns]))
        names = PinnedSecretNames.for_release(harbor.release_name)
        admin = k8s.core.v1.Secret(
            f"{name}-admin", metadata={"name": names.admin, "namespace": harbor.namespace},
            string_data={ADMIN_KEY: pulumi.Output.secret(admin_password)},  # type: ignore[arg-type]
            opts=in_ns)
        pinned: list[pulumi.Resource] = [admin]
        for secret_name, data in pinned_secret_data(names).items():
            pinned.append(k8s.core.v1.Secret(
                f"{name}-{secret_name}", metadata={"name": secret_name, "namespace": harbor.namespace},
                string_data={k: pulumi.Output.secret(v) for k, v in data.items()},
                # Generated once; later runs keep what the cluster has instead of rotating it. The provider's check
                # turns stringData into data, so both are ignored (else every run replaces the Secret).
                opts=pulumi.ResourceOptions.merge(
                    in_ns, pulumi.ResourceOptions(ignore_changes=["stringData", "data"]))))
        chart = harbor.chart
        self.release = release(
            f"{name}-release", ChartSource(chart.name, chart.version, chart.repository, chart.path),
            release_name=harbor.release_name, namespace=harbor.namespace,
            values=harbor_values(settings, names, tls_secret),
            skip_await=harbor.skip_await, timeout_seconds=harbor.timeout_seconds,
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[ns, *pinned, *(depends_on or [])])))
        self.namespace = ns.metadata.apply(lambda m: m["name"])
        self.release_status = self.release.status.apply(lambda s: s["status"])
        self.register_outputs({"namespace": self.namespace, "release_status": self.release_status})
