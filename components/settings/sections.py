"""The settings sections: one pydantic model per object key of the stack file (harbor, tls, upstream, ...).

Keys are camelCase as in Pulumi.<stack>.yaml and unknown keys are rejected everywhere. Each section checks what
it can see alone, with the shared rules of components/rules.py; checks across sections are in model.py, the
`nodes` section is in nodes.py.
"""

from __future__ import annotations

import ipaddress
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from components.rules import (
    CRON_EXAMPLE,
    ECR_URL_HINT,
    REGISTRY_NAME_MAX,
    RegistryType,
    cron_problem,
    duration_problem,
    is_ecr_url,
    is_host,
    is_pinned_version,
    namespace_problem,
    project_name_problem,
)


class StrictModel(BaseModel):
    """Base for every settings section: camelCase keys as in the stack file, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def camel_case(name: str) -> str:
    """The stack-file spelling of a field name: release_name -> releaseName."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class Section(StrictModel):
    """A section of the stack file: snake_case fields, camelCase keys."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, alias_generator=camel_case)


def _project_name(value: str) -> str:
    if (problem := project_name_problem(value)) is not None:
        raise ValueError(problem)
    return value


class ChartRef(Section):
    """Where a Helm chart comes from: a repository URL, an OCI reference (oci://...) or a local path."""

    name: str = "harbor"
    version: str = "1.18.2"
    repository: str | None = "https://helm.goharbor.io"
    path: str | None = None

    @field_validator("version")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if not is_pinned_version(value):
            raise ValueError(
                f"'{value}' is not a pinned chart version: give an exact version such as 1.18.2 "
                "(no ranges, wildcards or 'latest'), so every `pulumi up` installs the same chart"
            )
        return value


class NodePorts(Section):
    """NodePort numbers that nodes use to reach Harbor in `nodePort` exposure."""

    http: int = Field(30002, ge=30000, le=32767)
    https: int = Field(30003, ge=30000, le=32767)


class Expose(Section):
    """How nodes reach Harbor. Nodes cannot resolve *.svc.cluster.local (DOMAIN.md S5), so one of:
    nodePort (nodeAddress:port), loadBalancer (loadBalancerHost), or clusterIP with a static clusterIP and a
    hostname that the program writes into each node's /etc/hosts."""

    type: Literal["nodePort", "loadBalancer", "clusterIP"] = "nodePort"
    node_address: str | None = None
    node_ports: NodePorts = NodePorts()
    load_balancer_host: str | None = None
    cluster_ip: str | None = Field(None, alias="clusterIP")
    hostname: str = "harbor.local"

    @model_validator(mode="after")
    def _complete(self) -> Expose:
        if self.type == "nodePort" and not self.node_address:
            raise ValueError("nodeAddress is required with type nodePort: the IP or DNS name of a node that "
                             "every node can reach, e.g. 10.0.0.11")
        if self.type == "loadBalancer" and not self.load_balancer_host:
            raise ValueError("loadBalancerHost is required with type loadBalancer: the IP or DNS name of the "
                             "load balancer, which nodes must resolve")
        if self.type == "clusterIP":
            if not self.cluster_ip:
                raise ValueError("clusterIP is required with type clusterIP: a free address of the service CIDR "
                                 "(it goes into each node's /etc/hosts as <clusterIP> <hostname>)")
            ipaddress.ip_address(self.cluster_ip)
        for value in (self.node_address, self.load_balancer_host, self.hostname):
            if value and not is_host(value):
                raise ValueError(f"'{value}' is neither an IP address nor a DNS name")
        return self


class Storage(Section):
    """Persistent volumes. The chart's 5Gi registry default is far too small for a cache (DOMAIN.md S9)."""

    storage_class: str = ""
    registry_size: str = "200Gi"
    job_log_size: str = "1Gi"
    database_size: str = "5Gi"
    redis_size: str = "1Gi"
    trivy_size: str = "5Gi"


class EgressProxy(Section):
    """HTTP(S) proxy Harbor uses to reach the upstream registry."""

    http_proxy: str = ""
    https_proxy: str = ""
    no_proxy: str = "127.0.0.1,localhost,.local,.internal"


class ExternalDatabase(Section):
    """External PostgreSQL for HA; the password is read from an existing Secret (key `password`)."""

    host: str
    port: int = 5432
    username: str = "harbor"
    core_database: str = "registry"
    existing_secret: str
    sslmode: Literal["disable", "require", "verify-ca", "verify-full"] = "require"


class ExternalRedis(Section):
    """External Redis for HA; the password is read from an existing Secret (key `REDIS_PASSWORD`)."""

    addr: str
    sentinel_master_set: str = ""
    existing_secret: str = ""


class ObjectStorage(Section):
    """Image storage in object storage instead of a PVC (needed for more than one registry replica)."""

    type: Literal["s3", "gcs", "azure", "swift", "oss"] = "s3"
    settings: dict[str, Any] = Field(default_factory=dict)
    existing_secret: str = ""


class HighAvailability(Section):
    """Settings for users who outgrow one Harbor pod (harbor-helm docs/High Availability.md)."""

    replicas: int = Field(1, ge=1)
    external_database: ExternalDatabase | None = None
    external_redis: ExternalRedis | None = None
    object_storage: ObjectStorage | None = None

    @model_validator(mode="after")
    def _shared_storage(self) -> HighAvailability:
        if self.replicas > 1 and not (self.external_database and self.external_redis and self.object_storage):
            raise ValueError("replicas > 1 needs externalDatabase, externalRedis and objectStorage: the internal "
                             "database, redis and RWO registry volume cannot be shared between pods")
        return self


class HarborSettings(Section):
    """The Harbor installation (or an existing Harbor with install: false)."""

    install: bool = True
    namespace: str = "harbor"
    release_name: str = "harbor"
    chart: ChartRef = ChartRef()
    tls_mode: Literal["http", "https"] = "https"
    expose: Expose | None = None
    storage: Storage = Storage()
    trivy: bool = False
    proxy: EgressProxy = EgressProxy()
    ha: HighAvailability = HighAvailability()
    values: dict[str, Any] = Field(default_factory=dict)
    skip_await: bool = False
    timeout_seconds: int = Field(900, ge=60)
    admin_user: str = "admin"
    url: str | None = None
    api_url: str | None = None
    api_access: Literal["direct", "kubeProxy"] = "direct"
    ca_pem: str | None = None

    @field_validator("namespace")
    @classmethod
    def _namespace(cls, value: str) -> str:
        if (problem := namespace_problem(value)) is not None:
            raise ValueError(problem)
        return value

    @model_validator(mode="after")
    def _reachable(self) -> HarborSettings:
        if self.install and self.expose is None:
            raise ValueError("expose is required when install is true: set expose.type (nodePort, loadBalancer "
                             "or clusterIP) and its address, so nodes can reach Harbor")
        if not self.install and not self.url:
            raise ValueError("url is required when install is false: the address of the existing Harbor that "
                             "nodes use, e.g. https://harbor.example.com")
        for key in ("url", "api_url"):
            value = getattr(self, key)
            if value and urlsplit(value).scheme not in ("http", "https"):
                raise ValueError(f"{camel_case(key)} '{value}' must start with http:// or https://")
        if self.url and urlsplit(self.url).scheme != ("https" if self.tls_mode == "https" else "http"):
            raise ValueError(f"url '{self.url}' does not match tlsMode {self.tls_mode}")
        return self


class TlsSettings(Section):
    """cert-manager chain for https: self-signed Issuer -> CA Certificate -> CA Issuer -> leaf Certificate,
    or an existing ClusterIssuer."""

    cluster_issuer: str | None = None
    install_cert_manager: bool = False
    cert_manager_chart: ChartRef = ChartRef(name="cert-manager", version="v1.19.1",
                                            repository="https://charts.jetstack.io")
    ca_duration: str = "87600h"
    ca_renew_before: str = "8760h"
    leaf_duration: str = "2160h"
    leaf_renew_before: str = "720h"
    extra_dns_names: list[str] = Field(default_factory=list)
    extra_ip_addresses: list[str] = Field(default_factory=list)
    private_key_algorithm: Literal["RSA", "ECDSA"] = "ECDSA"

    @field_validator("ca_duration", "ca_renew_before", "leaf_duration", "leaf_renew_before")
    @classmethod
    def _duration(cls, value: str) -> str:
        if (problem := duration_problem(value)) is not None:
            raise ValueError(problem)
        return value

    @field_validator("extra_ip_addresses")
    @classmethod
    def _ips(cls, values: list[str]) -> list[str]:
        for value in values:
            ipaddress.ip_address(value)
        return values


class UpstreamSettings(Section):
    """The remote registry Harbor pulls from (Amazon ECR in the reference setup)."""

    name: str = "upstream-ecr"
    type: RegistryType = "aws-ecr"
    url: str
    access_key_id: str = ""
    ambient_credentials: bool = False
    insecure: bool = False
    description: str = "managed by harbor-cache"
    mirror_hosts: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not 1 <= len(value) <= REGISTRY_NAME_MAX:
            raise ValueError("must be 1 to 64 characters (Harbor's limit for registry names)")
        return value

    @model_validator(mode="after")
    def _url(self) -> UpstreamSettings:
        parts = urlsplit(self.url)
        if parts.scheme != "https" and not (self.insecure and parts.scheme == "http"):
            raise ValueError(f"url '{self.url}' must be https:// (plain http only with insecure: true)")
        if not parts.hostname or parts.path not in ("", "/") or parts.query:
            raise ValueError(f"url '{self.url}' must be a registry host such as "
                             "https://255250787067.dkr.ecr.ap-northeast-2.amazonaws.com, with no path")
        if self.type == "aws-ecr" and not is_ecr_url(self.url):
            raise ValueError(f"url '{self.url}' is not an Amazon ECR registry endpoint: use "
                             f"{ECR_URL_HINT} (keeps cross-account pulls working)")
        if self.type == "aws-ecr" and not self.access_key_id and not self.ambient_credentials:
            raise ValueError("accessKeyId is empty: set it (and the secret upstreamSecretKey), or set "
                             "ambientCredentials: true to let Harbor use its pod's AWS identity (IRSA)")
        return self

    @property
    def host(self) -> str:
        """host[:port] of the upstream, as image references name it."""
        return urlsplit(self.url).netloc


class ProxyProjectSettings(Section):
    """The proxy-cache project (pull-through cache)."""

    enabled: bool = True
    name: str = "mif"
    public: bool = True
    retention_days: int | None = Field(7, ge=1)
    storage_limit_bytes: int = Field(-1, ge=-1)
    speed_kb: int = Field(-1, ge=-1)
    force_destroy: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _project_name(value)


class ReplicationSettings(Section):
    """A plain project filled by a pull replication rule, for images that must be there before anyone asks."""

    enabled: bool = False
    project: str = "mif-replica"
    public: bool = True
    name_filter: str = "**"
    tag_filter: str = "**"
    trigger: str = "manual"
    override: bool = True
    speed_kb: int = Field(-1, ge=-1)
    run_on_change: bool = True
    force_destroy: bool = False

    @field_validator("project")
    @classmethod
    def _project(cls, value: str) -> str:
        return _project_name(value)

    @field_validator("trigger")
    @classmethod
    def _trigger(cls, value: str) -> str:
        # The same rule as the ReplicationPolicy provider's check: settings and provider cannot disagree.
        if value != "manual" and (problem := cron_problem(value)) is not None:
            raise ValueError(f"'{value}' is neither 'manual' nor a cron Harbor accepts ({problem}); use a 6-field "
                             f"cron with seconds, e.g. '{CRON_EXAMPLE}'")
        return value


class ImageRewriteSettings(Section):
    """Optional Kyverno policy that rewrites image references to Harbor at admission."""

    enabled: bool = False
    install_kyverno: bool = False
    kyverno_chart: ChartRef = ChartRef(name="kyverno", version="3.9.0", repository="https://kyverno.github.io/kyverno/")
    exclude_namespaces: list[str] = Field(default_factory=lambda: ["kube-system"])
    failure_policy: Literal["Ignore", "Fail"] = "Ignore"

    @field_validator("exclude_namespaces")
    @classmethod
    def _namespaces(cls, values: list[str]) -> list[str]:
        problems = [p for value in values if (p := namespace_problem(value)) is not None]
        if problems:
            raise ValueError("; ".join(problems))
        return values
