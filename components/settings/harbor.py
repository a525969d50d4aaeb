"""The `harbor` section of the stack file: the chart, how nodes reach Harbor, volumes, egress proxy, HA, the API.

Each value is checked with the rule of whoever receives it (docs/settings.md): the Harbor chart's templates,
Kubernetes (Services, PVCs), Helm, Go's HTTP proxy, Harbor's API and our node renderer.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from components import rules
from components.settings.base import Section, at, report
from components.settings.types import (
    ChartName,
    ChartRepository,
    Flag,
    Host,
    HttpUrl,
    HttpUrlWithPath,
    IpAddress,
    Namespace,
    NodeEndpointHost,
    ObjectName,
    OptionalObjectName,
    PemCertificates,
    Port,
    ProxyUrl,
    Quantity,
    ReleaseName,
    StorageClass,
    Whole,
)


class ChartRef(Section):
    """Where a Helm chart comes from: a repository URL, an OCI reference (oci://...) or a local path."""

    name: ChartName = "harbor"
    # The newest patch of the chart line (1.18.x: Harbor 2.14) whose API the program is tested against (README).
    version: str = "1.18.4"
    repository: ChartRepository | None = "https://helm.goharbor.io"
    path: str | None = None

    @field_validator("version")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if not rules.is_pinned_version(value):
            raise ValueError(
                f"'{value}' is not a pinned chart version: give an exact version such as 1.18.2 "
                "(no ranges, wildcards or 'latest'), so every `pulumi up` installs the same chart"
            )
        return value


class NodePorts(Section):
    """NodePort numbers that nodes use to reach Harbor in `nodePort` exposure (checked against Kubernetes'
    default --service-node-port-range, 30000-32767, in warnings.py: a cluster may widen it)."""

    http: Port = 30002
    https: Port = 30003

    @model_validator(mode="after")
    def _distinct(self) -> NodePorts:
        if self.http == self.https:
            report([at("https", f"{self.https} is also the http nodePort: Kubernetes refuses one Service with "
                                "the same nodePort twice")])
        return self


class Expose(Section):
    """How nodes reach Harbor. Nodes cannot resolve *.svc.cluster.local (DOMAIN.md S5), so one of:
    nodePort (nodeAddress:port), loadBalancer (loadBalancerHost), or clusterIP with a static clusterIP and a
    hostname that the program writes into each node's /etc/hosts."""

    type: Literal["nodePort", "loadBalancer", "clusterIP"] = "nodePort"
    node_address: NodeEndpointHost | None = None
    node_ports: NodePorts = NodePorts()
    load_balancer_host: NodeEndpointHost | None = None
    cluster_ip: IpAddress | None = Field(None, alias="clusterIP")
    hostname: Host = "harbor.local"

    @model_validator(mode="after")
    def _complete(self) -> Expose:
        problems = []
        if self.type == "nodePort" and not self.node_address:
            problems.append(at("nodeAddress", "is required with type nodePort: the IP or DNS name of a node that "
                                              "every node can reach, e.g. 10.0.0.11"))
        if self.type == "loadBalancer" and not self.load_balancer_host:
            problems.append(at("loadBalancerHost", "is required with type loadBalancer: the IP or DNS name of the "
                                                   "load balancer, which nodes must resolve"))
        if self.type == "clusterIP":
            if not self.cluster_ip:
                problems.append(at("clusterIP", "is required with type clusterIP: a free address of the service "
                                                "CIDR (it goes into each node's /etc/hosts as <clusterIP> <hostname>)"))
            elif ":" in self.cluster_ip:
                problems.append(at("clusterIP", f"{self.cluster_ip!r} is IPv6: nodes reach Harbor over IPv4 only"))
            if rules.is_ip(self.hostname):
                problems.append(at("hostname", f"{self.hostname!r} is an IP address: with type clusterIP it is the "
                                               "name /etc/hosts maps to clusterIP, e.g. harbor.local"))
        report(problems)
        return self


class Storage(Section):
    """Persistent volumes (Kubernetes quantities). The chart's 5Gi registry default is far too small for a cache."""

    storage_class: StorageClass = ""
    registry_size: Quantity = "200Gi"
    job_log_size: Quantity = "1Gi"
    database_size: Quantity = "5Gi"
    redis_size: Quantity = "1Gi"
    trivy_size: Quantity = "5Gi"


class EgressProxy(Section):
    """HTTP(S) proxy Harbor uses to reach the upstream registry (Go's HTTP_PROXY, HTTPS_PROXY, NO_PROXY)."""

    http_proxy: ProxyUrl = ""
    https_proxy: ProxyUrl = ""
    no_proxy: str = "127.0.0.1,localhost,.local,.internal"


class ExternalDatabase(Section):
    """External PostgreSQL for HA; the password is read from an existing Secret (key `password`)."""

    host: Host
    port: Port = 5432
    username: str = Field("harbor", min_length=1, max_length=63)  # PostgreSQL names: at most 63 bytes
    core_database: str = Field("registry", min_length=1, max_length=63)
    existing_secret: ObjectName
    sslmode: Literal["disable", "require", "verify-ca", "verify-full"] = "require"


class ExternalRedis(Section):
    """External Redis for HA; the password is read from an existing Secret (key `REDIS_PASSWORD`)."""

    addr: str
    sentinel_master_set: str = ""
    existing_secret: OptionalObjectName = ""

    @model_validator(mode="after")
    def _addr(self) -> ExternalRedis:
        problem = rules.redis_addr_problem(self.addr, sentinel=bool(self.sentinel_master_set))
        report([at("addr", problem)] if problem else [])
        return self


class ObjectStorage(Section):
    """Image storage in object storage instead of a PVC (needed for more than one registry replica)."""

    type: Literal["s3", "gcs", "azure", "swift", "oss"] = "s3"
    settings: dict[str, Any] = Field(default_factory=dict)
    existing_secret: OptionalObjectName = ""

    @model_validator(mode="after")
    def _complete(self) -> ObjectStorage:
        report([at(f"settings.{key}", problem)
                for key, problem in rules.object_storage_problems(self.type, self.settings, self.existing_secret)])
        return self


class HighAvailability(Section):
    """Settings for users who outgrow one Harbor pod (harbor-helm docs/High Availability.md)."""

    replicas: Whole = Field(1, ge=1)
    external_database: ExternalDatabase | None = None
    external_redis: ExternalRedis | None = None
    object_storage: ObjectStorage | None = None

    @model_validator(mode="after")
    def _shared_storage(self) -> HighAvailability:
        if self.replicas > 1 and not (self.external_database and self.external_redis and self.object_storage):
            missing = [k for k, v in (("externalDatabase", self.external_database),
                                      ("externalRedis", self.external_redis),
                                      ("objectStorage", self.object_storage)) if not v]
            report([at("replicas", f"{self.replicas} needs externalDatabase, externalRedis and objectStorage (missing: "
                                   f"{', '.join(missing)}): the internal database, redis and RWO registry volume "
                                   "cannot be shared between pods")])
        return self


class Metrics(Section):
    """Harbor's metrics exporter and its Prometheus Operator ServiceMonitor (components/metrics.py)."""

    enabled: Flag = False
    service_monitor: Literal["auto", "always", "never"] = "auto"
    service_monitor_labels: dict[str, str] = Field(default_factory=dict)
    scrape_interval: str = Field("", pattern=r"^$|^[0-9]+(ms|s|m|h)$")

    @model_validator(mode="after")
    def _needs_metrics(self) -> Metrics:
        if self.service_monitor == "always" and not self.enabled:
            report([at("serviceMonitor", "always needs enabled: true (the ServiceMonitor scrapes the metrics "
                                         "endpoints that enabled turns on); set enabled: true or use auto/never")])
        return self


class HarborSettings(Section):
    """The Harbor installation (or an existing Harbor with install: false)."""

    install: Flag = True
    namespace: Namespace = "harbor"
    release_name: ReleaseName = "harbor"
    chart: ChartRef = ChartRef()
    tls_mode: Literal["http", "https"] = "https"
    expose: Expose | None = None
    storage: Storage = Storage()
    trivy: Flag = False
    proxy: EgressProxy = EgressProxy()
    ha: HighAvailability = HighAvailability()
    values: dict[str, Any] = Field(default_factory=dict)
    skip_await: Flag = False
    timeout_seconds: Whole = Field(900, ge=60)
    admin_user: str = "admin"
    url: HttpUrl | None = None
    api_url: HttpUrlWithPath | None = None
    api_access: Literal["direct", "kubeProxy"] = "direct"
    ca_pem: PemCertificates | None = None
    metrics: Metrics = Metrics()

    @model_validator(mode="after")
    def _reachable(self) -> HarborSettings:
        problems = []
        if self.install and self.expose is None:
            problems.append(at("expose", "is required when install is true: set expose.type (nodePort, "
                                         "loadBalancer or clusterIP) and its address, so nodes can reach Harbor"))
        if not self.install and not self.url:
            problems.append(at("url", "is required when install is false: the address of the existing Harbor "
                                      "that nodes use, e.g. https://harbor.example.com"))
        if self.url:
            scheme = "https" if self.tls_mode == "https" else "http"
            if urlsplit(self.url).scheme != scheme:
                problems.append(at("url", f"'{self.url}' does not match tlsMode {self.tls_mode}: use {scheme}://"))
            host_problem = rules.node_reachable_host_problem(urlsplit(self.url).hostname or "")
            if host_problem:
                problems.append(at("url", host_problem))
        if self.install and self.admin_user != "admin":
            problems.append(at("adminUser", f"'{self.admin_user}': the Harbor this program installs has the "
                                            "administrator 'admin' (the chart cannot rename it); leave it out"))
        elif (problem := rules.harbor_username_problem(self.admin_user)) is not None:
            problems.append(at("adminUser", problem))
        report(problems)
        return self
