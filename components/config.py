"""Stack settings: one validated model for the whole stack, loaded from Pulumi config or a stack file.

Every key lives in the `harbor-cache` config namespace. Objects are set in Pulumi.<stack>.yaml (or with
`pulumi config set --path`); the three secrets are top-level keys set with `pulumi config set --secret`.
Validation runs once, before any resource exists, and every error names the config key, what is wrong and how
to fix it. Offline: `python -m components.config check Pulumi.<stack>.yaml` (encrypted secrets count as present).
"""

from __future__ import annotations

import ipaddress
import re
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

NAMESPACE = "harbor-cache"
SECRET_KEYS = ("adminPassword", "upstreamSecretKey", "sshPrivateKey")
OBJECT_KEYS = ("harbor", "tls", "upstream", "proxyProject", "replication", "nodes", "imageRewrite")
SCALAR_KEYS = ("production", "kubeconfig")

# Harbor's project name rule (src/pkg/project/manager.go), 1-255 characters.
PROJECT_NAME_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
# An exact chart version: semver, optionally with a leading v; no ranges, wildcards or "latest".
PINNED_VERSION_RE = re.compile(r"^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
HOSTNAME_RE = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")
# Harbor's ECR endpoint pattern (src/pkg/reg/adapter/awsecr/adapter.go).
ECR_URL_RE = re.compile(
    r"^https://(?:api|(\d+)\.dkr)\.ecr(?:-public|-fips)?\.([\w\-]+)\.(amazonaws\.com(\.cn)?|sc2s\.sgov\.gov|c2s\.ic\.gov)/?$"
)
# Harbor's replication cron: 6 fields, first (seconds) 0, minutes not "*".
CRON_FIELD_RE = re.compile(r"^[0-9*/,\-?LW#A-Za-z]+$")
DURATION_RE = re.compile(r"^(\d+h)?(\d+m)?(\d+s)?$")


class SettingsError(ValueError):
    """Invalid stack settings; `errors` holds one message per problem, each naming its config key."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("invalid harbor-cache settings:\n  - " + "\n  - ".join(errors))
        self.errors = errors


class _Model(BaseModel):
    """Base for every settings section: camelCase keys as in the stack file, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class _Section(_Model):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, alias_generator=_camel)


class ChartRef(_Section):
    """Where a Helm chart comes from: a repository URL, an OCI reference (oci://...) or a local path."""

    name: str = "harbor"
    version: str = "1.18.2"
    repository: str | None = "https://helm.goharbor.io"
    path: str | None = None

    @field_validator("version")
    @classmethod
    def _pinned(cls, value: str) -> str:
        if not PINNED_VERSION_RE.match(value):
            raise ValueError(
                f"'{value}' is not a pinned chart version: give an exact version such as 1.18.2 "
                "(no ranges, wildcards or 'latest'), so every `pulumi up` installs the same chart"
            )
        return value


class NodePorts(_Section):
    """NodePort numbers that nodes use to reach Harbor in `nodePort` exposure."""

    http: int = Field(30002, ge=30000, le=32767)
    https: int = Field(30003, ge=30000, le=32767)


class Expose(_Section):
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
            if value and not (is_ip(value) or HOSTNAME_RE.match(value)):
                raise ValueError(f"'{value}' is neither an IP address nor a DNS name")
        return self


class Storage(_Section):
    """Persistent volumes. The chart's 5Gi registry default is far too small for a cache (DOMAIN.md S9)."""

    storage_class: str = ""
    registry_size: str = "200Gi"
    job_log_size: str = "1Gi"
    database_size: str = "5Gi"
    redis_size: str = "1Gi"
    trivy_size: str = "5Gi"


class EgressProxy(_Section):
    """HTTP(S) proxy Harbor uses to reach the upstream registry."""

    http_proxy: str = ""
    https_proxy: str = ""
    no_proxy: str = "127.0.0.1,localhost,.local,.internal"


class ExternalDatabase(_Section):
    """External PostgreSQL for HA; the password is read from an existing Secret (key `password`)."""

    host: str
    port: int = 5432
    username: str = "harbor"
    core_database: str = "registry"
    existing_secret: str
    sslmode: Literal["disable", "require", "verify-ca", "verify-full"] = "require"


class ExternalRedis(_Section):
    """External Redis for HA; the password is read from an existing Secret (key `REDIS_PASSWORD`)."""

    addr: str
    sentinel_master_set: str = ""
    existing_secret: str = ""


class ObjectStorage(_Section):
    """Image storage in object storage instead of a PVC (needed for more than one registry replica)."""

    type: Literal["s3", "gcs", "azure", "swift", "oss"] = "s3"
    settings: dict[str, Any] = Field(default_factory=dict)
    existing_secret: str = ""


class HighAvailability(_Section):
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


class HarborSettings(_Section):
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
                raise ValueError(f"{_camel(key)} '{value}' must start with http:// or https://")
        if self.url and urlsplit(self.url).scheme != ("https" if self.tls_mode == "https" else "http"):
            raise ValueError(f"url '{self.url}' does not match tlsMode {self.tls_mode}")
        return self


class TlsSettings(_Section):
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
        if not value or not DURATION_RE.match(value):
            raise ValueError(f"'{value}' is not a Go duration such as 2160h or 720h30m")
        return value

    @field_validator("extra_ip_addresses")
    @classmethod
    def _ips(cls, values: list[str]) -> list[str]:
        for value in values:
            ipaddress.ip_address(value)
        return values


class UpstreamSettings(_Section):
    """The remote registry Harbor pulls from (Amazon ECR in the reference setup)."""

    name: str = "upstream-ecr"
    type: Literal["aws-ecr", "docker-registry", "harbor"] = "aws-ecr"
    url: str
    access_key_id: str = ""
    ambient_credentials: bool = False
    insecure: bool = False
    description: str = "managed by harbor-cache"
    mirror_hosts: list[str] = Field(default_factory=list)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not 1 <= len(value) <= 64:
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
        if self.type == "aws-ecr" and not ECR_URL_RE.match(self.url):
            raise ValueError(f"url '{self.url}' is not an Amazon ECR registry endpoint: use "
                             "https://<account>.dkr.ecr.<region>.amazonaws.com (keeps cross-account pulls working)")
        if self.type == "aws-ecr" and not self.access_key_id and not self.ambient_credentials:
            raise ValueError("accessKeyId is empty: set it (and the secret upstreamSecretKey), or set "
                             "ambientCredentials: true to let Harbor use its pod's AWS identity (IRSA)")
        return self

    @property
    def host(self) -> str:
        """host[:port] of the upstream, as image references name it."""
        return urlsplit(self.url).netloc


class ProxyProjectSettings(_Section):
    """The proxy-cache project (pull-through cache)."""

    enabled: bool = True
    name: str = "mif"
    public: bool = True
    retention_days: int | None = Field(7, ge=1)
    storage_limit_bytes: int = Field(-1, ge=-1)
    speed_kb: int = Field(-1, ge=-1)
    force_destroy: bool = False


class ReplicationSettings(_Section):
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

    @field_validator("trigger")
    @classmethod
    def _trigger(cls, value: str) -> str:
        if value == "manual":
            return value
        fields = value.split()
        if len(fields) != 6 or not all(CRON_FIELD_RE.match(f) for f in fields):
            raise ValueError(f"'{value}' is neither 'manual' nor a 6-field cron with seconds, e.g. '0 0 */6 * * *'")
        if fields[0] != "0" or fields[1] == "*":
            raise ValueError(f"'{value}': Harbor requires the seconds field to be 0 and the minutes field not '*'")
        return value


class NodeHost(_Section):
    """One node reached over SSH."""

    name: str
    address: str
    port: int = Field(22, ge=1, le=65535)
    user: str | None = None
    host_key: str | None = None


class Bastion(_Section):
    """An SSH jump host in front of the nodes."""

    host: str
    port: int = Field(22, ge=1, le=65535)
    user: str = "root"


class ContainerdPaths(_Section):
    """Where containerd keeps its files on the nodes, and how to restart and probe it without systemd.

    Without systemd both commands are needed: after a restart the node script waits for `healthCommand`
    to succeed (else it rolls config.toml back), and with neither systemd nor a health command it cannot.
    """

    config_path: str = "/etc/containerd/config.toml"
    certs_dir: str = "/etc/containerd/certs.d"
    hosts_file: str = "/etc/hosts"
    containerd_bin: str = "containerd"
    restart_command: str = ""
    health_command: str = ""


class NodesSettings(_Section):
    """Which nodes get containerd pointed at Harbor, and how."""

    transport: Literal["ssh", "daemonset", "none"] = "ssh"
    user: str = "root"
    hosts: list[NodeHost] = Field(default_factory=list)
    bastion: Bastion | None = None
    containerd: ContainerdPaths = ContainerdPaths()
    daemonset_image: str = "docker.io/library/busybox:1.37"
    verify_image: str | None = None

    @model_validator(mode="after")
    def _unique(self) -> NodesSettings:
        for attr in ("name", "address"):
            seen: set[str] = set()
            for host in self.hosts:
                value = getattr(host, attr)
                if value in seen:
                    raise ValueError(f"two nodes have the {attr} '{value}': each node must be listed once")
                seen.add(value)
        if self.transport == "ssh" and not self.hosts:
            raise ValueError("transport ssh needs at least one entry in hosts (or use transport daemonset/none)")
        return self


class ImageRewriteSettings(_Section):
    """Optional Kyverno policy that rewrites image references to Harbor at admission."""

    enabled: bool = False
    install_kyverno: bool = False
    kyverno_chart: ChartRef = ChartRef(name="kyverno", version="3.9.0", repository="https://kyverno.github.io/kyverno/")
    exclude_namespaces: list[str] = Field(default_factory=lambda: ["kube-system"])
    failure_policy: Literal["Ignore", "Fail"] = "Ignore"


class Settings(_Model):
    """The whole stack's settings, validated."""

    production: bool = False
    kubeconfig: str | None = None
    harbor: HarborSettings
    tls: TlsSettings = TlsSettings()
    upstream: UpstreamSettings
    proxy_project: ProxyProjectSettings = Field(ProxyProjectSettings(), alias="proxyProject")
    replication: ReplicationSettings = ReplicationSettings()
    nodes: NodesSettings = NodesSettings(transport="none")
    image_rewrite: ImageRewriteSettings = Field(ImageRewriteSettings(), alias="imageRewrite")

    # --- values derived once from the settings -------------------------------------------------------------

    @property
    def https(self) -> bool:
        """Whether Harbor is served over TLS."""
        return self.harbor.tls_mode == "https"

    @property
    def scheme(self) -> str:
        return "https" if self.https else "http"

    @property
    def node_endpoint(self) -> str:
        """host[:port] that nodes (containerd) use to reach Harbor."""
        if self.harbor.url:
            return urlsplit(self.harbor.url).netloc
        expose = self.harbor.expose
        assert expose is not None
        if expose.type == "nodePort":
            port = expose.node_ports.https if self.https else expose.node_ports.http
            return f"{_bracket(expose.node_address or '')}:{port}"
        if expose.type == "loadBalancer":
            return _bracket(expose.load_balancer_host or "")
        return expose.hostname

    @property
    def node_host(self) -> str:
        """The node endpoint without its port (for certificate SANs)."""
        return urlsplit(f"//{self.node_endpoint}").hostname or ""

    @property
    def external_url(self) -> str:
        """Harbor's externalURL: its scheme must be the one clients use (token realm, DOMAIN.md S6)."""
        return self.harbor.url or f"{self.scheme}://{self.node_endpoint}"

    @property
    def api_url(self) -> str:
        """Where `pulumi` itself calls Harbor's API (explicit apiUrl, else the external URL)."""
        return (self.harbor.api_url or self.external_url).rstrip("/")

    @property
    def cache_projects(self) -> list[str]:
        """The Harbor projects that hold images for the cluster: the proxy project first."""
        names = []
        if self.proxy_project.enabled:
            names.append(self.proxy_project.name)
        if self.replication.enabled:
            names.append(self.replication.project)
        return names

    @property
    def image_prefix(self) -> str:
        """What replaces the upstream host in an image reference (`<harbor>/<project>`)."""
        return f"{self.node_endpoint}/{self.cache_projects[0]}"

    @property
    def upstream_hosts(self) -> list[str]:
        """The registry hosts whose pulls go through Harbor: the upstream plus any listed mirror hosts."""
        return [self.upstream.host, *[h for h in self.upstream.mirror_hosts if h != self.upstream.host]]

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        problems = []
        if self.production and not self.https:
            problems.append("harbor.tlsMode is http on a stack marked production: use https (cert-manager) or "
                            "set production: false")
        for key, name in (("proxyProject.name", self.proxy_project.name),
                          ("replication.project", self.replication.project)):
            if not (1 <= len(name) <= 255 and PROJECT_NAME_RE.match(name)):
                problems.append(f"{key} '{name}' is not a valid Harbor project name: lowercase letters, digits "
                                "and . _ - (not first or last, not doubled), 1-255 characters, e.g. 'mif'")
        if self.replication.enabled and self.proxy_project.enabled \
                and self.replication.project == self.proxy_project.name:
            problems.append(f"replication.project '{self.replication.project}' is the proxy-cache project: Harbor "
                            "silently skips replication into proxy-cache projects (DOMAIN.md S7); use a separate "
                            "plain project such as 'mif-replica'")
        if not self.proxy_project.enabled and not self.replication.enabled:
            problems.append("proxyProject.enabled and replication.enabled are both false: enable at least one, "
                            "or there is nothing for nodes to pull from")
        if self.image_rewrite.enabled:
            problems.extend(self._rewrite_problems())
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _rewrite_problems(self) -> list[str]:
        # Rewrite has no fallback to the upstream (DOMAIN.md S13): nodes must resolve and trust Harbor.
        from components.kyverno import rewrite_settings_errors

        nodes_configured = self.nodes.transport != "none"
        problems = rewrite_settings_errors(
            self.image_prefix, scheme=self.scheme,  # type: ignore[arg-type]
            private_ca=self.https and not self.tls.cluster_issuer, nodes_trust_harbor_ca=nodes_configured,
            nodes_allow_plain_http=nodes_configured, config_key="imageRewrite.enabled")
        if not nodes_configured:
            problems.append("imageRewrite.enabled needs nodes.transport ssh or daemonset: rewritten images are "
                            "pulled from Harbor only, so every node needs the Harbor hosts.toml"
                            + (", CA" if self.https else "") + " and, for clusterIP, the /etc/hosts entry")
        return problems


# --- loading -------------------------------------------------------------------------------------------------


def is_ip(value: str) -> bool:
    """Whether value is an IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _error_key(loc: Iterable[int | str]) -> str:
    parts = [p for p in loc if not (isinstance(p, str) and p.startswith("function-after"))]
    if not parts:
        return NAMESPACE
    head, *rest = parts
    key = f"{NAMESPACE}:{head}"
    for part in rest:
        key += f"[{part}]" if isinstance(part, int) else f".{part}"
    return key


def _friendly(error: Mapping[str, Any]) -> str:
    key = _error_key(error["loc"])
    kind = error["type"]
    msg = str(error["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return f"{key} is not a known setting (a typo?): remove it or see README's settings reference"
    if kind == "missing":
        return f"{key} must be set: see README's settings reference and Pulumi.dev.yaml for an example"
    if kind == "literal_error":
        return f"{key} must be {msg.removeprefix('Input should be ')}"
    return f"{key}: {msg}"


def validate(raw: Mapping[str, Any], secrets: Mapping[str, bool]) -> Settings:
    """Validate raw config values (key without namespace -> value) and which secret keys are set as secrets.

    `secrets` maps each present secret key to whether it was stored encrypted. Raises SettingsError.
    """
    errors: list[str] = []
    unknown = set(raw) - set(OBJECT_KEYS) - set(SCALAR_KEYS) - set(SECRET_KEYS)
    errors += [f"{NAMESPACE}:{key} is not a known setting (a typo?): remove it or see README's settings "
               "reference" for key in sorted(unknown)]
    errors += _secret_errors(raw, secrets)
    data = {k: v for k, v in raw.items() if k not in SECRET_KEYS and k not in unknown}
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        errors += [_friendly(e) for e in exc.errors()]
        raise SettingsError(errors) from None
    if errors:
        raise SettingsError(errors)
    return settings


def _secret_errors(raw: Mapping[str, Any], secrets: Mapping[str, bool]) -> list[str]:
    def need(key: str, why: str, example: str) -> list[str]:
        if key not in secrets:
            return [f"{NAMESPACE}:{key} must be set as a secret ({why}): "
                    f"pulumi config set --secret {NAMESPACE}:{key} {example}"]
        if not secrets[key]:
            return [f"{NAMESPACE}:{key} is stored in plaintext: set it as a secret with "
                    f"pulumi config set --secret {NAMESPACE}:{key} {example}"]
        return []

    errors = need("adminPassword", "Harbor's admin password", "'<password>'")
    upstream = raw.get("upstream") if isinstance(raw.get("upstream"), Mapping) else {}
    if upstream and upstream.get("accessKeyId"):
        errors += need("upstreamSecretKey", "the secret key for upstream.accessKeyId", "'<AWS secret access key>'")
    elif "upstreamSecretKey" in secrets and not secrets["upstreamSecretKey"]:
        errors += need("upstreamSecretKey", "the upstream secret key", "'<AWS secret access key>'")
    nodes = raw.get("nodes") if isinstance(raw.get("nodes"), Mapping) else {}
    if nodes and nodes.get("transport", "ssh") == "ssh" and nodes.get("hosts"):
        errors += need("sshPrivateKey", "the SSH key for the nodes", "-- \"$(cat ~/.ssh/id_ed25519)\"")
    elif "sshPrivateKey" in secrets and not secrets["sshPrivateKey"]:
        errors += need("sshPrivateKey", "the SSH key for the nodes", "-- \"$(cat ~/.ssh/id_ed25519)\"")
    return errors


def load_stack_file(path: str | Path) -> tuple[dict[str, Any], dict[str, bool]]:
    """Read a Pulumi.<stack>.yaml: the harbor-cache values, and for each secret key whether it is encrypted."""
    import yaml

    doc = yaml.safe_load(Path(path).read_text()) or {}
    config = doc.get("config") or {}
    raw: dict[str, Any] = {}
    secrets: dict[str, bool] = {}
    for full_key, value in config.items():
        namespace, _, key = str(full_key).partition(":")
        if namespace != NAMESPACE or not key:
            continue
        if key in SECRET_KEYS:
            secrets[key] = isinstance(value, Mapping) and "secure" in value
            continue
        raw[key] = value
    return raw, secrets


def load_from_pulumi() -> Settings:
    """Load and validate the settings of the running stack (before any resource is created)."""
    import json

    import pulumi
    from pulumi.runtime import config as runtime_config

    cfg = pulumi.Config(NAMESPACE)
    raw: dict[str, Any] = {}
    for key in (*OBJECT_KEYS, *SCALAR_KEYS):
        value = cfg.get(key)
        if value is not None:
            try:
                raw[key] = json.loads(value)
            except ValueError:
                raw[key] = value
    for key in _present_keys(runtime_config.get_config_env()):
        if key not in raw and key not in SECRET_KEYS:
            raw[key] = cfg.get(key)
    secrets = {key: runtime_config.is_config_secret(f"{NAMESPACE}:{key}")
               for key in SECRET_KEYS if cfg.get(key) is not None}
    return validate(raw, secrets)


def _present_keys(config_env: Mapping[str, Any]) -> list[str]:
    prefix = f"{NAMESPACE}:"
    return [k[len(prefix):] for k in config_env if k.startswith(prefix)]


def main(argv: list[str]) -> int:
    """`python -m components.config check Pulumi.<stack>.yaml ...`: validate stack files offline."""
    if len(argv) < 2 or argv[0] != "check":
        print("usage: python -m components.config check Pulumi.<stack>.yaml [...]", file=sys.stderr)
        return 2
    status = 0
    for path in argv[1:]:
        try:
            raw, secrets = load_stack_file(path)
            validate(raw, secrets)
            print(f"{path}: ok")
        except SettingsError as exc:
            status = 1
            print(f"{path}: {len(exc.errors)} problem(s)")
            for error in exc.errors:
                print(f"  - {error}")
        except (OSError, ValueError) as exc:
            status = 1
            print(f"{path}: cannot read: {exc}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
