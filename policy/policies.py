"""harbor-cache's guardrails: pure checks over plain resource properties, and the policies built on them.

Each `check_*` function takes a `Resource` (or all of a stack's resources) and the policy's config and
returns violation messages, each saying what to change; the `ResourceValidationPolicy` /
`StackValidationPolicy` objects in `POLICIES` only adapt pulumi-policy's arguments to them. Every policy is
mandatory unless the pack's config says otherwise (docs/policy.md). Messages never contain property values
that could be secret.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import urlsplit

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy import nodes, rewrite, secrets
from policy.props import dig, is_unknown, parse_duration, parse_quantity, plain, stack_of

PACK_NAME: Final = "harbor-cache-guardrails"
HELM_RELEASE: Final = "kubernetes:helm.sh/v3:Release"
HELM_CHART_V4: Final = "kubernetes:helm.sh/v4:Chart"
CERTIFICATE: Final = "kubernetes:cert-manager.io/v1:Certificate"
KYVERNO_POLICIES: Final = ("kubernetes:kyverno.io/v1:ClusterPolicy", "kubernetes:kyverno.io/v1:Policy")
CONFIG_MAP: Final = "kubernetes:core/v1:ConfigMap"
DYNAMIC: Final = "pulumi-python:dynamic"
HARBOR_PROJECT: Final = "pulumi-python:dynamic/harbor:Project"
HARBOR_REPLICATION: Final = "pulumi-python:dynamic/harbor:ReplicationPolicy"

DEFAULT_MIN_REGISTRY_SIZE: Final = "50Gi"
DEFAULT_MIN_CA_DURATION: Final = "8760h"
DEFAULT_PRODUCTION_STACKS: Final = ("prod", "production")
DEFAULT_HARBOR_NAMESPACE: Final = "harbor"
CERT_MANAGER_DEFAULT_DURATION: Final = "2160h"
_EXACT_VERSION = re.compile(r"^v?[0-9]+\.[0-9]+\.[0-9]+(?:[-+][0-9A-Za-z.+-]+)?$")

Config = Mapping[str, Any]


@dataclass(frozen=True)
class Resource:
    """What the checks need of one resource: plain props (unknowns as UNKNOWN) and its secret outputs."""

    type: str
    name: str
    urn: str
    props: dict[str, Any]
    secret_outputs: tuple[str, ...] = field(default=())

    @property
    def stack(self) -> str:
        return stack_of(self.urn)

    @classmethod
    def of(cls, item: ResourceValidationArgs | PolicyResource) -> Resource:
        """From pulumi-policy's resource arguments (validation args or a stack resource)."""
        opts = getattr(item, "opts", None)
        secret_outputs = tuple(getattr(opts, "additional_secret_outputs", None) or ())
        props = plain(item.props)
        return cls(item.resource_type, item.name, item.urn, props if isinstance(props, dict) else {},
                   secret_outputs)


# --------------------------------------------------------------------------------------------- Helm


def _is_local_chart(props: dict[str, Any]) -> bool:
    """A chart from a directory in the repository (pinned by its content, so no version is needed)."""
    chart = props.get("chart")
    if not isinstance(chart, str) or chart.startswith("oci://") or dig(props, "repositoryOpts", "repo"):
        return False
    return chart.startswith(("/", "./", "../", "file://")) or chart.count("/") >= 2


def check_chart_pinned(res: Resource, config: Config) -> list[str]:
    """A Helm release names an exact chart version (a local chart without one is pinned by its files)."""
    chart, version = res.props.get("chart"), res.props.get("version")
    if is_unknown(chart) or is_unknown(version):
        return []
    if not version:
        if config.get("allow_local_charts", True) and _is_local_chart(res.props):
            return []
        return [f"Helm chart {chart!r} has no version, so each install can pick a different chart: set "
                f"`version` to an exact chart version (e.g. 1.18.2)"]
    if not _EXACT_VERSION.match(str(version)):
        return [f"Helm chart {chart!r} version {version!r} is not an exact version: pin one release "
                f"(e.g. 1.18.2) instead of a range or tag"]
    return []


def is_harbor_release(props: dict[str, Any]) -> bool:
    """True for the Harbor chart: its name is `harbor`, or its values have Harbor's externalURL/expose."""
    chart = props.get("chart")
    if isinstance(chart, str) and chart.rstrip("/").rsplit("/", 1)[-1].lower() == "harbor":
        return True
    values = props.get("values")
    return isinstance(values, dict) and "externalURL" in values and "expose" in values


def check_registry_volume(res: Resource, config: Config) -> list[str]:
    """Harbor's registry volume is at least `min_size` (the chart's default, 5Gi, is far too small)."""
    minimum_text = str(config.get("min_size", DEFAULT_MIN_REGISTRY_SIZE))
    minimum = parse_quantity(minimum_text)
    if minimum is None:
        return [f"policy config min_size {minimum_text!r} is not a Kubernetes quantity: use e.g. 50Gi"]
    values = res.props.get("values")
    if not is_harbor_release(res.props) or not isinstance(values, dict):
        return []
    persistence = values.get("persistence")
    if is_unknown(persistence) or dig(persistence, "imageChartStorage", "type") not in (None, "filesystem"):
        return []  # unknown yet, or images in object storage: the volume does not hold them
    where = ("values.persistence.persistentVolumeClaim.registry.size "
             "(harbor-cache: harbor.storage.registrySize)")
    if dig(persistence, "enabled") is False:
        return [f"Harbor's persistence is disabled, so cached images live in an emptyDir and vanish with the "
                f"pod: set values.persistence.enabled to true and {where} to at least {minimum_text}"]
    if dig(persistence, "persistentVolumeClaim", "registry", "existingClaim"):
        return []  # an existing claim's size is not visible here
    size = dig(persistence, "persistentVolumeClaim", "registry", "size")
    if is_unknown(size):
        return []
    if size is None:
        return [f"Harbor's registry volume size is not set, so the chart's 5Gi default applies: set {where} "
                f"to at least {minimum_text}"]
    parsed = parse_quantity(size)
    if parsed is None:
        return [f"Harbor's registry volume size {size!r} is not a Kubernetes quantity: set {where} to e.g. "
                f"{minimum_text}"]
    if parsed < minimum:
        return [f"Harbor's registry volume is {size}, below the minimum {minimum_text}: raise {where} to at "
                f"least {minimum_text}"]
    return []


# --------------------------------------------------------------------------------------------- TLS


def is_production(res: Resource, config: Config) -> bool:
    """The pack's `production` setting if given, else whether the stack is in `production_stacks`."""
    production = config.get("production")
    if isinstance(production, bool):
        return production
    return res.stack in config.get("production_stacks", DEFAULT_PRODUCTION_STACKS)


def _scheme(url: Any) -> str | None:
    return urlsplit(url).scheme.lower() if isinstance(url, str) and "://" in url else None


def check_production_https(res: Resource, config: Config) -> list[str]:
    """On a production stack Harbor, the API endpoint and every node mirror use verified HTTPS."""
    if not is_production(res, config):
        return []
    problems = []
    values = res.props.get("values")
    if res.type == HELM_RELEASE and is_harbor_release(res.props) and isinstance(values, dict):
        if _scheme(values.get("externalURL")) == "http":
            problems.append("Harbor's externalURL is http:// on a production stack: serve HTTPS "
                            "(harbor-cache: harbor.tlsMode https) so the URL starts with https://")
        if dig(values, "expose", "tls", "enabled") is False:
            problems.append("Harbor's expose.tls.enabled is false on a production stack: enable TLS "
                            "(harbor-cache: harbor.tlsMode https, certificate from cert-manager)")
    if res.type.startswith(DYNAMIC) and _scheme(dig(res.props, "harbor", "url")) == "http":
        problems.append("the Harbor API endpoint (`harbor.url`) is http://, which sends the admin password "
                        "in clear text on a production stack: use the https:// URL")
    for hosts in nodes.hosts_files(res.props):
        urls = [host.url for host in hosts.hosts if host.scheme == "http"]
        if hosts.server is not None and _scheme(hosts.server) == "http":
            urls.append(hosts.server)
        problems += [f"{hosts.where}: {url} is plain HTTP on a production stack: point the nodes at Harbor's "
                     f"https:// endpoint with its CA (`ca = ...`)" for url in urls]
        if hosts.server_skip_verify or any(host.skip_verify for host in hosts.hosts):
            problems.append(f"{hosts.where}: skip_verify = true on a production stack turns TLS off: "
                            f"remove it and trust Harbor's CA with `ca = ...`")
    return problems


def check_node_tls_verified(res: Resource, config: Config) -> list[str]:
    """No hosts.toml skips TLS verification where a CA is available (in the file or the same resource)."""
    files = nodes.hosts_files(res.props)
    if not files:
        return []
    ca_carried = bool(config.get("ca_available", False)) or nodes.carries_ca_certificate(res.props)
    problems = []
    for hosts in files:
        for host in hosts.hosts:
            if host.skip_verify and (host.has_ca or hosts.server_has_ca or ca_carried):
                problems.append(f"{hosts.where}: [host.{host.url!r}] sets skip_verify = true although "
                                f"Harbor's CA is available: remove skip_verify and set "
                                f"ca = \"<certs.d>/<harbor host>/ca.crt\" so pulls are verified")
        if hosts.server_skip_verify and (hosts.server_has_ca or ca_carried):
            problems.append(f"{hosts.where}: the server sets skip_verify = true although a CA is available: "
                            f"remove skip_verify and keep `ca`")
    return problems


def check_mirror_override_path(res: Resource, config: Config) -> list[str]:
    """Every mirror host URL with a path (such as /v2/<project>) sets override_path = true."""
    return [
        f"{hosts.where}: mirror {host.url} has a path but no `override_path = true`: containerd appends "
        f"another /v2 to it, Harbor answers 404 and every pull silently falls back to the upstream server, "
        f"so nothing is cached. Add override_path = true to [host.{host.url!r}]"
        for hosts in nodes.hosts_files(res.props) for host in hosts.hosts
        if host.needs_override_path and not host.override_path]


def check_certificate_lifetimes(res: Resource, config: Config) -> list[str]:
    """A CA certificate lives at least `min_ca_duration`; a leaf certificate has renewBefore."""
    spec = res.props.get("spec")
    if not isinstance(spec, dict):
        return []
    name = dig(res.props, "metadata", "name")
    label = f"Certificate {name if isinstance(name, str) else res.name!r}"
    duration_text = spec.get("duration") or CERT_MANAGER_DEFAULT_DURATION
    if is_unknown(duration_text) or is_unknown(spec.get("isCA")):
        return []
    duration = parse_duration(duration_text)
    if duration is None:
        return [f"{label}: spec.duration {duration_text!r} is not a duration: use hours, e.g. 87600h"]
    if spec.get("isCA") is True:
        minimum_text = str(config.get("min_ca_duration", DEFAULT_MIN_CA_DURATION))
        minimum = parse_duration(minimum_text)
        if minimum is None:
            return [f"policy config min_ca_duration {minimum_text!r} is not a duration: use e.g. 8760h"]
        if duration < minimum:
            return [f"{label} is a CA valid for {duration_text} (cert-manager's default is 2160h when "
                    f"spec.duration is unset); every renewal must reach every node again: set spec.duration "
                    f"to at least {minimum_text} (harbor-cache: tls.caDuration, e.g. 87600h)"]
        return []
    renew_before, percentage = spec.get("renewBefore"), spec.get("renewBeforePercentage")
    if is_unknown(renew_before) or is_unknown(percentage):
        return []
    if renew_before is None and percentage is None:
        return [f"{label} has no spec.renewBefore: set it (harbor-cache: tls.leafRenewBefore, e.g. 720h) so "
                f"the certificate is renewed, and Harbor restarted, well before it expires"]
    renew = parse_duration(renew_before) if renew_before is not None else 0.0
    if renew is None or renew >= duration:
        return [f"{label}: spec.renewBefore must be a duration shorter than spec.duration ({duration_text})"]
    return []


# --------------------------------------------------------------------------------------------- Kyverno


def check_image_rewrite(res: Resource, config: Config) -> list[str]:
    """An image-rewrite policy covers every container list, anchors its regexes, and skips Harbor itself."""
    rules = rewrite.rewrite_rules(res.props)
    if not rules:
        return []
    namespace = str(config.get("harbor_namespace", DEFAULT_HARBOR_NAMESPACE))
    problems = []
    covered = set().union(*(rule.lists for rule in rules))
    missing = [field for field in rewrite.CONTAINER_LISTS if field not in covered]
    if missing:
        problems.append(f"the image rewrite does not cover {', '.join(missing)}: add a foreach rule over "
                        f"request.object.spec.<list> for each, or those images bypass Harbor")
    for rule in rules:
        if "ephemeralContainers" in rule.lists and rewrite.EPHEMERAL_KIND not in rule.kinds:
            problems.append(f"rule {rule.name!r} rewrites ephemeralContainers but does not match kind "
                            f"{rewrite.EPHEMERAL_KIND} (operation UPDATE), the only request that adds them "
                            f"(kubectl debug)")
        problems += [f"rule {rule.name!r}: regex '{pattern}' is not anchored: start it with ^ and end the "
                     f"registry host with / (e.g. ^123456789012\\.dkr\\.ecr\\.<region>\\.amazonaws\\.com/), "
                     f"or references that merely contain the host are rewritten too"
                     for pattern in rule.patterns if not pattern.startswith("^")]
        if not rule.excludes(namespace):
            problems.append(f"rule {rule.name!r} also rewrites Pods in Harbor's namespace {namespace!r}: "
                            f"add it to exclude.any[].resources.namespaces so Harbor never pulls through "
                            f"itself")
    return problems


# --------------------------------------------------------------------------------------------- Secrets


def check_secrets(res: Resource, config: Config) -> list[str]:
    """Secret values stay Pulumi/Kubernetes secrets wherever they appear (see policy.secrets for limits)."""
    if res.type.startswith(DYNAMIC):
        return secrets.dynamic_resource_problems(res.props, res.secret_outputs)
    if res.type in (HELM_RELEASE, HELM_CHART_V4):
        return secrets.helm_values_problems(res.props.get("values"))
    if res.type == CONFIG_MAP:
        return secrets.config_map_problems(res.props)
    if res.type.startswith("kubernetes:") and not res.type.endswith(":Secret"):
        return secrets.workload_env_problems(res.props)
    return []


# --------------------------------------------------------------------------------------------- Stack


def _named(resources: Iterable[Resource], type_: str) -> list[tuple[Resource, str]]:
    """(resource, Harbor name) for resources of `type_` whose `name` property is known."""
    return [(res, name) for res in resources if res.type == type_
            and isinstance(name := res.props.get("name"), str)]


def proxy_projects(resources: Sequence[Resource]) -> set[str]:
    """Names of proxy-cache projects: Projects with a registry_id (set, even if not known yet)."""
    return {name for res, name in _named(resources, HARBOR_PROJECT)
            if res.props.get("registry_id") is not None}


def check_proxy_not_replicated(resources: Sequence[Resource], config: Config) -> list[tuple[str, str]]:
    """No replication policy writes into a proxy-cache project (Harbor silently copies nothing)."""
    proxies = proxy_projects(resources)
    return [(res.urn, f"replication policy {name!r} replicates into {dest!r}, a proxy-cache project: Harbor "
                      f"skips every artifact aimed at a proxy-cache project and still reports success. "
                      f"Replicate into a separate plain project (a Project without registry_id), e.g. "
                      f"{dest + '-replica'!r}")
            for res, name in _named(resources, HARBOR_REPLICATION)
            if isinstance(dest := res.props.get("dest_namespace"), str) and dest in proxies]


def pointed_at_projects(resources: Sequence[Resource]) -> set[str]:
    """Projects that image references are sent to: image-rewrite targets and containerd mirror paths."""
    projects: set[str] = set()
    for res in resources:
        if res.type in KYVERNO_POLICIES:
            rules = rewrite.rewrite_rules(res.props) or []
            projects |= {project for _, project in rewrite.rewrite_targets(rules)}
        projects |= nodes.mirror_projects(nodes.hosts_files(res.props))
    return projects


def check_replication_keeps_paths(resources: Sequence[Resource], config: Config) -> list[tuple[str, str]]:
    """Replication into a project that rewrites or mirrors point at keeps paths (replace count 0)."""
    targets = pointed_at_projects(resources)
    problems = []
    for res, name in _named(resources, HARBOR_REPLICATION):
        dest, count = res.props.get("dest_namespace"), res.props.get("dest_namespace_replace_count", -1)
        if not isinstance(dest, str) or dest not in targets or is_unknown(count) or count == 0:
            continue
        shown = -1 if count is None else int(count) if isinstance(count, float) and count.is_integer() else count
        problems.append((res.urn, (
            f"replication policy {name!r} writes into {dest!r}, which an image rewrite or node mirror points "
            f"at, with dest_namespace_replace_count {shown}: Harbor then drops path components (-1 flattens "
            f"quickstart/<image> to {dest}/<image>) and rewritten references find nothing. Set "
            f"dest_namespace_replace_count to 0")))
    return problems


# --------------------------------------------------------------------------------------------- Policies

ResourceCheck = Callable[[Resource, Config], list[str]]
StackCheck = Callable[[Sequence[Resource], Config], list[tuple[str, str]]]


def _config(args: ResourceValidationArgs | StackValidationArgs) -> Config:
    return args.get_config() or {}


def resource_validator(check: ResourceCheck, types: Sequence[str] | None = None,
                       ) -> Callable[[ResourceValidationArgs, ReportViolation], None]:
    """A pulumi-policy validate function running `check` on resources of `types` (all when None)."""
    def validate(args: ResourceValidationArgs, report: ReportViolation) -> None:
        if types is not None and args.resource_type not in types:
            return
        for message in check(Resource.of(args), _config(args)):
            report(message, None)
    return validate


def stack_validator(check: StackCheck) -> Callable[[StackValidationArgs, ReportViolation], None]:
    """A pulumi-policy stack validate function running `check` over all resources."""
    def validate(args: StackValidationArgs, report: ReportViolation) -> None:
        for urn, message in check([Resource.of(item) for item in args.resources], _config(args)):
            report(message, urn)
    return validate


def _schema(**properties: dict[str, Any]) -> PolicyConfigSchema:
    return PolicyConfigSchema(properties=dict(properties))


chart_pinned = ResourceValidationPolicy(
    name="helm-chart-version-pinned",
    description="Helm releases install an exact chart version.",
    validate=resource_validator(check_chart_pinned, (HELM_RELEASE, HELM_CHART_V4)),
    config_schema=_schema(allow_local_charts={"type": "boolean", "default": True}),
)
registry_volume = ResourceValidationPolicy(
    name="harbor-registry-volume-size",
    description=f"Harbor's registry volume is at least a minimum size (default {DEFAULT_MIN_REGISTRY_SIZE}).",
    validate=resource_validator(check_registry_volume, (HELM_RELEASE,)),
    config_schema=_schema(min_size={"type": "string", "default": DEFAULT_MIN_REGISTRY_SIZE}),
)
production_https = ResourceValidationPolicy(
    name="production-uses-https",
    description="Production stacks serve Harbor over HTTPS and nodes verify it.",
    validate=resource_validator(check_production_https),
    config_schema=_schema(production={"type": "boolean"},
                          production_stacks={"type": "array", "items": {"type": "string"},
                                             "default": list(DEFAULT_PRODUCTION_STACKS)}),
)
node_tls_verified = ResourceValidationPolicy(
    name="node-tls-verified",
    description="No containerd hosts.toml uses skip_verify where a CA is available.",
    validate=resource_validator(check_node_tls_verified),
    config_schema=_schema(ca_available={"type": "boolean", "default": False}),
)
mirror_override_path = ResourceValidationPolicy(
    name="mirror-override-path",
    description="Every containerd mirror whose host URL has a path sets override_path = true.",
    validate=resource_validator(check_mirror_override_path),
)
proxy_not_replicated = StackValidationPolicy(
    name="proxy-project-not-replication-destination",
    description="A Harbor proxy-cache project is never a replication destination.",
    validate=stack_validator(check_proxy_not_replicated),
)
replication_keeps_paths = StackValidationPolicy(
    name="replication-keeps-paths",
    description="Replication keeps repository paths (dest_namespace_replace_count 0) in projects that "
                "image rewrites or mirrors point at.",
    validate=stack_validator(check_replication_keeps_paths),
)
certificate_lifetimes = ResourceValidationPolicy(
    name="certificate-lifetimes",
    description=(f"The CA certificate lives at least {DEFAULT_MIN_CA_DURATION}; leaf certificates set "
                 "renewBefore."),
    validate=resource_validator(check_certificate_lifetimes, (CERTIFICATE,)),
    config_schema=_schema(min_ca_duration={"type": "string", "default": DEFAULT_MIN_CA_DURATION}),
)
image_rewrite = ResourceValidationPolicy(
    name="image-rewrite-coverage",
    description=("An image-rewrite policy covers containers, initContainers and ephemeralContainers, anchors "
                 "its regex and excludes Harbor's namespace."),
    validate=resource_validator(check_image_rewrite, KYVERNO_POLICIES),
    config_schema=_schema(harbor_namespace={"type": "string", "default": DEFAULT_HARBOR_NAMESPACE}),
)
secrets_secret = ResourceValidationPolicy(
    name="secrets-are-secret",
    description="The Harbor admin password, the upstream secret key and SSH keys are secrets wherever they "
                "appear.",
    validate=resource_validator(check_secrets),
)

POLICIES: Final[list[Policy]] = [
    chart_pinned, registry_volume, production_https, node_tls_verified, mirror_override_path,
    proxy_not_replicated, replication_keeps_paths, certificate_lifetimes, image_rewrite, secrets_secret,
]
DEFAULT_ENFORCEMENT: Final = EnforcementLevel.MANDATORY
