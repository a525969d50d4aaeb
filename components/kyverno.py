"""Image rewrite at admission: a Kyverno ClusterPolicy that points upstream image references at Harbor.

The policy document is built by the pure function `build_rewrite_policy` (unit-tested, and run through the
real Kyverno engine by `tests/kyverno`); `ImageRewrite` only creates resources from it. Unlike the containerd
mirror, a rewrite has no fallback to the upstream: nodes must resolve and trust the Harbor endpoint
(`rewrite_settings_errors`). Target API: `kyverno.io/v1` ClusterPolicy as served by Kyverno 1.19 (deprecated
since 1.17, removal planned for 1.20; see docs/image-rewrite.md).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

FailurePolicy = Literal["Ignore", "Fail"]

POLICY_API_VERSION = "kyverno.io/v1"
POLICY_KIND = "ClusterPolicy"
AUTOGEN_ANNOTATION = "pod-policies.kyverno.io/autogen-controllers"
# pulumi-kubernetes 4.25 awaits a custom resource only when asked (its generic await needs
# PULUMI_K8S_AWAIT_ALL=true): `condition=Ready` waits for status.conditions[type=Ready].status == "True"
# (provider pkg/metadata/overrides.go ReadyCondition, pkg/await/condition/custom.go).
WAIT_FOR_ANNOTATION = "pulumi.com/waitFor"
RULE_CONTAINERS = "rewrite-containers"
RULE_INIT_CONTAINERS = "rewrite-init-containers"
RULE_EPHEMERAL_CONTAINERS = "rewrite-ephemeral-containers"
KYVERNO_CHART = "kyverno"
KYVERNO_CHART_VERSION = "3.9.0"  # the chart of Kyverno v1.19.0 (charts/kyverno/Chart.yaml appVersion)
KYVERNO_REPOSITORY = "https://kyverno.github.io/kyverno/"

_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST_RE = re.compile(rf"^(?P<name>{_LABEL}(?:\.{_LABEL})*)(?::(?P<port>[0-9]{{1,5}}))?$")
_PROJECT_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
_NAMESPACE_RE = re.compile(rf"^{_LABEL}$")
_POLICY_NAME_RE = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")


@dataclass(frozen=True)
class RewritePolicySpec:
    """What the ClusterPolicy rewrites, and where to.

    upstream_hosts: registry hosts to rewrite, exactly as they appear in image references (`host` or
        `host:port`, no scheme); a reference is rewritten only when its registry is one of them.
    harbor_prefix: `<harbor-host[:port]>/<project>`; `<upstream-host>/<path>` becomes
        `<harbor_prefix>/<path>`.
    harbor_namespace: Harbor's own namespace, always excluded so Harbor never depends on itself.
    excluded_namespaces: further namespaces left alone; None means the default, `kube-system`.
    failure_policy: the webhook's failurePolicy. `Ignore` (default) admits Pods unmodified when Kyverno is
        down or times out (they pull from the upstream); `Fail` blocks Pod creation until Kyverno answers.
    """

    upstream_hosts: tuple[str, ...]
    harbor_prefix: str
    name: str = "harbor-cache-image-rewrite"
    harbor_namespace: str = "harbor"
    excluded_namespaces: tuple[str, ...] | None = None
    failure_policy: FailurePolicy = "Ignore"

    @property
    def namespaces_excluded(self) -> tuple[str, ...]:
        """The namespaces the policy skips, in order, without duplicates."""
        chosen = ("kube-system",) if self.excluded_namespaces is None else self.excluded_namespaces
        return tuple(dict.fromkeys((*chosen, self.harbor_namespace)))

    @property
    def rewrite_prefix(self) -> str:
        """The replacement for `<upstream-host>/`: the Harbor prefix with its trailing slash."""
        return f"{self.harbor_prefix}/"


def _host_error(value: str, what: str) -> str | None:
    """Why `value` is not a registry `host[:port]` (lowercase, no scheme or path), or None."""
    match = _HOST_RE.match(value)
    if match is None:
        return (f"{what} {value!r} is not a registry host: use `host` or `host:port`, lowercase, "
                "without scheme or path (e.g. 255250787067.dkr.ecr.ap-northeast-2.amazonaws.com)")
    port = match.group("port")
    if port is not None and not 0 < int(port) < 65536:
        return f"{what} {value!r} has port {port} outside 1-65535"
    return None


def split_prefix(harbor_prefix: str) -> tuple[str, str]:
    """Split `<host[:port]>/<project>` into host and project (no validation)."""
    host, _, project = harbor_prefix.partition("/")
    return host, project


def prefix_errors(harbor_prefix: str) -> list[str]:
    """Errors in a Harbor prefix `<harbor-host[:port]>/<project>`."""
    host, project = split_prefix(harbor_prefix)
    errors = []
    if (error := _host_error(host, "harbor_prefix host")) is not None:
        errors.append(error)
    if not _PROJECT_RE.match(project):
        errors.append(f"harbor_prefix {harbor_prefix!r} must be `<harbor-host[:port]>/<project>` with one "
                      "lowercase Harbor project name and no trailing slash "
                      "(e.g. harbor.example.com/ecr-cache)")
    return errors


def spec_errors(spec: RewritePolicySpec) -> list[str]:
    """Every problem with a RewritePolicySpec, as readable messages (empty when it is usable)."""
    errors: list[str] = []
    if not _POLICY_NAME_RE.match(spec.name) or len(spec.name) > 253:
        errors.append(f"policy name {spec.name!r} is not a DNS subdomain name")
    if not spec.upstream_hosts:
        errors.append("upstream_hosts is empty: name at least one registry host to rewrite")
    errors += [e for h in spec.upstream_hosts if (e := _host_error(h, "upstream host")) is not None]
    errors += prefix_errors(spec.harbor_prefix)
    harbor_host, _ = split_prefix(spec.harbor_prefix)
    if harbor_host in spec.upstream_hosts:
        errors.append(f"harbor_prefix host {harbor_host!r} is also an upstream host: references already at "
                      "Harbor would be rewritten again")
    errors += [f"namespace {ns!r} is not a DNS label" for ns in spec.namespaces_excluded
               if not _NAMESPACE_RE.match(ns)]
    if spec.failure_policy not in ("Ignore", "Fail"):
        errors.append(f"failure_policy {spec.failure_policy!r} must be 'Ignore' or 'Fail'")
    return errors


def image_regex(upstream_hosts: Sequence[str]) -> str:
    """RE2 pattern matching references whose registry is exactly one of the hosts.

    Anchored at `^`, dots escaped, and the host followed by `/`, so `host.evil.example/...`,
    `hostXexample/...`, `host:443/...` and `other/host/...` do not match.
    """
    escaped = sorted({host.replace(".", r"\.") for host in upstream_hosts})
    return f"^(?:{'|'.join(escaped)})/"


def _json_patch(list_field: str, regex: str, replacement: str) -> str:
    """A JSON6902 patch (YAML text) replacing the image of the current foreach element.

    Kyverno substitutes the `{{ }}` variables in the raw text before parsing it, so after substitution the
    value is a plain quoted image reference.
    """
    value = f"{{{{ regex_replace_all_literal('{regex}', '{{{{element.image}}}}', '{replacement}') }}}}"
    return (f"- op: replace\n"
            f"  path: /spec/{list_field}/{{{{elementIndex}}}}/image\n"
            f'  value: "{value}"\n')


def _list_present(list_field: str) -> dict[str, Any]:
    """Rule precondition: the Pod has at least one element in `spec.<list_field>`."""
    return {"all": [{"key": f"{{{{ request.object.spec.{list_field}[] || `[]` | length(@) }}}}",
                     "operator": "GreaterThanOrEquals", "value": 1}]}


def _rule(spec: RewritePolicySpec, name: str, list_field: str, kind: str, operation: str) -> dict[str, Any]:
    """One foreach mutate rule over `spec.<list_field>` of Pods."""
    regex = image_regex(spec.upstream_hosts)
    element_conditions: list[dict[str, Any]] = [
        {"key": f"{{{{ regex_match('{regex}', '{{{{element.image}}}}') }}}}",
         "operator": "Equals", "value": True},
    ]
    if list_field == "ephemeralContainers":
        # Existing ephemeral containers may not be changed (API validation): one admitted unrewritten while
        # Kyverno was down must stay as it is, or every later `kubectl debug` on the Pod would be refused.
        element_conditions.append({
            "key": ("{{ contains(request.oldObject.spec.ephemeralContainers[].name || `[]`, "
                    "'{{element.name}}') }}"),
            "operator": "Equals", "value": False,
        })
    rule: dict[str, Any] = {
        "name": name,
        "match": {"any": [{"resources": {"kinds": [kind], "operations": [operation]}}]},
    }
    if spec.namespaces_excluded:
        rule["exclude"] = {"any": [{"resources": {"namespaces": list(spec.namespaces_excluded)}}]}
    if list_field != "containers":
        rule["preconditions"] = _list_present(list_field)
    rule["mutate"] = {"foreach": [{
        "list": f"request.object.spec.{list_field}",
        "preconditions": {"all": element_conditions},
        "patchesJson6902": _json_patch(list_field, regex, spec.rewrite_prefix),
    }]}
    return rule


def build_rewrite_policy(spec: RewritePolicySpec) -> dict[str, Any]:
    """The ClusterPolicy document (kyverno.io/v1, Kyverno 1.19) that rewrites upstream image references.

    Pods only (autogen off, so Deployments and other controllers keep their specs as written; Kyverno 1.19
    never autogenerates from JSON6902 patches either, the annotation keeps it explicit): containers and
    initContainers on CREATE, ephemeralContainers on UPDATE of the `pods/ephemeralcontainers` subresource
    (`kubectl debug`). Raises ValueError listing every problem in `spec`.
    """
    errors = spec_errors(spec)
    if errors:
        raise ValueError("invalid image rewrite settings:\n  - " + "\n  - ".join(errors))
    hosts = ", ".join(sorted(set(spec.upstream_hosts)))
    return {
        "apiVersion": POLICY_API_VERSION,
        "kind": POLICY_KIND,
        "metadata": {
            "name": spec.name,
            "annotations": {
                AUTOGEN_ANNOTATION: "none",
                "policies.kyverno.io/title": "Rewrite upstream image references to Harbor",
                "policies.kyverno.io/subject": "Pod",
                "policies.kyverno.io/minversion": "1.13.0",
                "policies.kyverno.io/description": (
                    f"Rewrites image references whose registry is exactly one of [{hosts}] to "
                    f"{spec.rewrite_prefix}<path>, keeping the repository path, tag and digest. "
                    "Managed by harbor-cache."),
            },
        },
        "spec": {
            # Background scans do nothing for a plain mutate rule; the CRD defaults the field to true.
            "background": False,
            "webhookConfiguration": {"failurePolicy": spec.failure_policy},
            "rules": [
                _rule(spec, RULE_CONTAINERS, "containers", "Pod", "CREATE"),
                _rule(spec, RULE_INIT_CONTAINERS, "initContainers", "Pod", "CREATE"),
                _rule(spec, RULE_EPHEMERAL_CONTAINERS, "ephemeralContainers",
                      "Pod/ephemeralcontainers", "UPDATE"),
            ],
        },
    }


def _is_cluster_dns_name(host: str, cluster_domain: str) -> bool:
    """True for names only cluster DNS answers: `*.svc`, `*.svc.<domain>`, `*.<domain>` or a bare label."""
    try:
        ipaddress.ip_address(host)
        return False
    except ValueError:
        pass
    domain = cluster_domain.strip(".")
    return ("." not in host and host != "localhost") or host.endswith((".svc", f".{domain}"))


def rewrite_settings_errors(
    harbor_prefix: str,
    *,
    scheme: Literal["http", "https"],
    private_ca: bool,
    nodes_trust_harbor_ca: bool,
    nodes_allow_plain_http: bool,
    nodes_resolve_cluster_dns: bool = False,
    cluster_domain: str = "cluster.local",
    config_key: str = "imageRewrite",
) -> list[str]:
    """Why image rewrite (when on) would break pulls, as messages naming `config_key`; [] when it is fine.

    Rewritten references are pulled by kubelet/containerd on the node, with the node's resolver and trust
    store, and with no fallback to the upstream (unlike the hosts.toml mirror). So the Harbor endpoint must be
    a name the nodes resolve (not a cluster DNS name, unless `nodes_resolve_cluster_dns`), served over HTTPS
    the nodes trust (a private CA must be distributed to nodes) or over HTTP the nodes are configured to use.
    """
    errors = prefix_errors(harbor_prefix)
    if errors:
        return [f"{config_key}: {e}" for e in errors]
    host, _ = split_prefix(harbor_prefix)
    name = host.rsplit(":", 1)[0] if ":" in host else host
    if not nodes_resolve_cluster_dns and _is_cluster_dns_name(name, cluster_domain):
        errors.append(
            f"{config_key}: Harbor endpoint {host!r} is a cluster DNS name, but kubelet and containerd "
            "resolve with the node's resolver, so every rewritten pull would fail with 'no such host' (a "
            "rewrite has no fallback to the upstream). Expose Harbor on an address the nodes resolve "
            "(NodePort or LoadBalancer with a DNS name or IP), or confirm the nodes use cluster DNS.")
    if scheme == "https" and private_ca and not nodes_trust_harbor_ca:
        errors.append(
            f"{config_key}: Harbor serves HTTPS with a private CA that is not distributed to the nodes, so "
            "every rewritten pull would fail with an x509 error. Enable the node CA distribution "
            "(hosts.toml `ca`) or use a certificate the nodes already trust.")
    if scheme == "http" and not nodes_allow_plain_http:
        errors.append(
            f"{config_key}: Harbor serves plain HTTP, but containerd pulls over HTTPS unless the node has "
            f"a hosts.toml for {host!r} with an http:// server. Enable the node configuration for the "
            "Harbor host or serve HTTPS.")
    if scheme not in ("http", "https"):
        errors.append(f"{config_key}: scheme {scheme!r} must be 'http' or 'https'")
    return errors


@dataclass(frozen=True)
class KyvernoInstall:
    """How to install Kyverno with Helm (helm.v3.Release: the chart's hook jobs run).

    chart: the chart name in `repository`, or a local chart path (then `repository` must be None and the
        local chart's own version installs).
    """

    version: str = KYVERNO_CHART_VERSION
    chart: str = KYVERNO_CHART
    repository: str | None = KYVERNO_REPOSITORY
    namespace: str = "kyverno"
    values: Mapping[str, Any] = field(default_factory=dict)
    timeout_seconds: int = 600


@dataclass(frozen=True)
class ImageRewriteArgs:
    """Inputs of ImageRewrite: the policy, an optional Kyverno install, and how long to await readiness."""

    policy: RewritePolicySpec
    install: KyvernoInstall | None = None
    ready_timeout: str = "5m"


def kyverno_release_args(install: KyvernoInstall) -> k8s.helm.v3.ReleaseArgs:
    """helm.v3.Release arguments for a pinned Kyverno install (awaited, atomic on first install)."""
    repo = k8s.helm.v3.RepositoryOptsArgs(repo=install.repository) if install.repository else None
    return k8s.helm.v3.ReleaseArgs(
        name="kyverno",
        chart=install.chart,
        version=install.version if install.repository else None,
        repository_opts=repo,
        namespace=install.namespace,
        create_namespace=True,
        values=dict(install.values),
        skip_await=False,
        timeout=install.timeout_seconds,
    )


class ImageRewrite(pulumi.ComponentResource):
    """Optionally installs Kyverno, then creates the rewrite ClusterPolicy and awaits it Ready.

    Outputs: `policy_name` and `rewrite_prefix` (`<harbor_prefix>/`). A policy Kyverno rejects fails `up` with
    Kyverno's admission message; one that is not Ready (Kyverno 1.19 reports "Not Ready" while the policy is
    not in its webhook) within `ready_timeout` fails `up` too.
    """

    policy_name: pulumi.Output[str]
    rewrite_prefix: pulumi.Output[str]

    def __init__(self, name: str, args: ImageRewriteArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("harbor-cache:index:ImageRewrite", name, None, opts)
        document = build_rewrite_policy(args.policy)
        depends: list[pulumi.Resource] = []
        self.release: k8s.helm.v3.Release | None = None
        if args.install is not None:
            self.release = k8s.helm.v3.Release(f"{name}-kyverno", kyverno_release_args(args.install),
                                               opts=pulumi.ResourceOptions(parent=self))
            depends.append(self.release)
        metadata = dict(document["metadata"])
        metadata["annotations"] = {**metadata["annotations"], WAIT_FOR_ANNOTATION: "condition=Ready"}
        timeouts = pulumi.CustomTimeouts(create=args.ready_timeout, update=args.ready_timeout)
        self.policy = k8s.apiextensions.CustomResource(
            f"{name}-policy",
            api_version=POLICY_API_VERSION,
            kind=POLICY_KIND,
            metadata=metadata,
            spec=document["spec"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends, custom_timeouts=timeouts),
        )
        policy_name = args.policy.name
        # Derived from the resource's id, so dependents wait until the policy exists and is Ready.
        self.policy_name = self.policy.id.apply(lambda _: policy_name)
        self.rewrite_prefix = pulumi.Output.from_input(args.policy.rewrite_prefix)
        self.register_outputs({"policy_name": self.policy_name, "rewrite_prefix": self.rewrite_prefix})
