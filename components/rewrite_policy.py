"""The image rewrite policy as a document: a Kyverno ClusterPolicy that points upstream image references at Harbor.

Pure (no Pulumi): `build_rewrite_policy` turns a `RewritePolicySpec` into the policy document. It is unit-tested,
run through the real Kyverno engine by `tests/kyverno`, and created in the cluster by `ImageRewrite`
(components/kyverno.py). Target API: `kyverno.io/v1` ClusterPolicy as served by Kyverno 1.19 (deprecated since
1.17, removal planned for 1.20; see docs/image-rewrite.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from components.rules import (
    DOCKER_HUB_ALIASES,
    DOCKER_HUB_HOST,
    OFFICIAL_NAMESPACE,
    harbor_prefix_problems,
    namespace_problem,
    registry_host_problem,
    split_prefix,
    subdomain_problem,
)

FailurePolicy = Literal["Ignore", "Fail"]

POLICY_API_VERSION = "kyverno.io/v1"
POLICY_KIND = "ClusterPolicy"
AUTOGEN_ANNOTATION = "pod-policies.kyverno.io/autogen-controllers"
RULE_CONTAINERS = "rewrite-containers"
RULE_INIT_CONTAINERS = "rewrite-init-containers"
RULE_EPHEMERAL_CONTAINERS = "rewrite-ephemeral-containers"


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
    prefixes: (host, prefix) pairs when the upstreams go to different projects (one per upstream); a host not
        listed uses `harbor_prefix`. When docker.io is an upstream host, Docker Hub's other spellings are
        rewritten too: `index.docker.io/...`, short names (`nginx`, `bitnami/redis`) and official images get
        their `library/` (`docker.io/nginx` -> `<prefix>/library/nginx`).
    """

    upstream_hosts: tuple[str, ...]
    harbor_prefix: str
    name: str = "harbor-cache-image-rewrite"
    harbor_namespace: str = "harbor"
    excluded_namespaces: tuple[str, ...] | None = None
    failure_policy: FailurePolicy = "Ignore"
    prefixes: tuple[tuple[str, str], ...] = ()

    def routes(self) -> list[tuple[tuple[str, ...], str]]:
        """The upstream hosts grouped by the prefix that replaces them, in the order of upstream_hosts."""
        chosen = dict(self.prefixes)
        groups: dict[str, list[str]] = {}
        for host in self.upstream_hosts:
            groups.setdefault(chosen.get(host, self.harbor_prefix), []).append(host)
        return [(tuple(hosts), prefix) for prefix, hosts in groups.items()]

    @property
    def namespaces_excluded(self) -> tuple[str, ...]:
        """The namespaces the policy skips, in order, without duplicates."""
        chosen = ("kube-system",) if self.excluded_namespaces is None else self.excluded_namespaces
        return tuple(dict.fromkeys((*chosen, self.harbor_namespace)))

    @property
    def rewrite_prefix(self) -> str:
        """The replacement for `<upstream-host>/`: the Harbor prefix with its trailing slash."""
        return f"{self.harbor_prefix}/"


def spec_errors(spec: RewritePolicySpec) -> list[str]:
    """Every problem with a RewritePolicySpec, as readable messages (empty when it is usable)."""
    errors: list[str] = []
    if (problem := subdomain_problem(spec.name)) is not None:
        errors.append(f"policy name {problem}")
    if not spec.upstream_hosts:
        errors.append("upstream_hosts is empty: name at least one registry host to rewrite")
    errors += [f"upstream host {p}" for h in spec.upstream_hosts if (p := registry_host_problem(h)) is not None]
    for prefix in dict.fromkeys([spec.harbor_prefix, *(p for _, p in spec.prefixes)]):
        errors += harbor_prefix_problems(prefix)
        harbor_host, _ = split_prefix(prefix)
        if harbor_host in spec.upstream_hosts:
            errors.append(f"harbor_prefix host {harbor_host!r} is also an upstream host: references already at "
                          "Harbor would be rewritten again")
    errors += [f"prefixes names {host!r}, which is not an upstream host" for host, _ in spec.prefixes
               if host not in spec.upstream_hosts]
    errors += [p for ns in spec.namespaces_excluded if (p := namespace_problem(ns)) is not None]
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


def _json_patch(list_field: str, regex: str, replacement: str, literal: bool = True) -> str:
    """A JSON6902 patch (YAML text) replacing the image of the current foreach element.

    Kyverno substitutes the `{{ }}` variables in the raw text before parsing it, so after substitution the
    value is a plain quoted image reference. `literal` False: `${1}` in the replacement is the first group.
    """
    function = "regex_replace_all_literal" if literal else "regex_replace_all"
    value = f"{{{{ {function}('{regex}', '{{{{element.image}}}}', '{replacement}') }}}}"
    return (f"- op: replace\n"
            f"  path: /spec/{list_field}/{{{{elementIndex}}}}/image\n"
            f'  value: "{value}"\n')


def _list_present(list_field: str) -> dict[str, Any]:
    """Rule precondition: the Pod has at least one element in `spec.<list_field>`."""
    return {"all": [{"key": f"{{{{ request.object.spec.{list_field}[] || `[]` | length(@) }}}}",
                     "operator": "GreaterThanOrEquals", "value": 1}]}


def _matches(regex: str, wanted: bool = True) -> dict[str, Any]:
    return {"key": f"{{{{ regex_match('{regex}', '{{{{element.image}}}}') }}}}", "operator": "Equals", "value": wanted}


def _rewrites(spec: RewritePolicySpec) -> list[tuple[list[dict[str, Any]], str, str, bool]]:
    """(conditions, regex, replacement, literal) per rewrite: one per prefix, and Docker Hub's spellings.

    The patterns never match a reference already at Harbor (its first component has a `.` or `:`), so their
    order does not matter and a rewritten image is never rewritten again.
    """
    found: list[tuple[list[dict[str, Any]], str, str, bool]] = []
    for hosts, prefix in spec.routes():
        plain = [h for h in hosts if h != DOCKER_HUB_HOST]
        if plain:
            regex = image_regex(plain)
            found.append(([_matches(regex)], regex, f"{prefix}/", True))
        if DOCKER_HUB_HOST in hosts:
            hub = "|".join(h.replace(".", r"\.") for h in (DOCKER_HUB_HOST, *DOCKER_HUB_ALIASES))
            library = f"{prefix}/{OFFICIAL_NAMESPACE}/${{1}}"
            for regex, replacement, extra in (
                (f"^(?:{hub})/([^/]+)$", library, []),  # docker.io/nginx:1: an official image
                (f"^(?:{hub})/([^/]+/)", f"{prefix}/${{1}}", []),  # docker.io/bitnami/redis
                ("^([^/]+)$", library, []),  # nginx:1 (no registry: Docker Hub, official)
                ("^([^/.:]+/)", f"{prefix}/${{1}}", [_matches("^localhost/", False)]),  # bitnami/redis
            ):
                found.append(([_matches(regex), *extra], regex, replacement, False))
    return found


def _skip_excluded_namespaces(namespaces: Sequence[str]) -> dict[str, str]:
    """A webhook match condition (CEL, evaluated by the API server) that skips the excluded namespaces.

    The rules' `exclude` is evaluated inside Kyverno, so without this the API server still calls Kyverno for
    those namespaces, and with `Fail` a Kyverno outage would block Pods there too, Harbor's own included.
    Namespace names are DNS labels (checked by spec_errors), so they need no quoting beyond the single quotes.
    """
    listed = ", ".join(f"'{ns}'" for ns in namespaces)
    return {"name": "skip-excluded-namespaces", "expression": f"!(request.namespace in [{listed}])"}


def _rule(spec: RewritePolicySpec, name: str, list_field: str, kind: str, operation: str) -> dict[str, Any]:
    """One foreach mutate rule over `spec.<list_field>` of Pods, one foreach entry per rewrite."""
    not_existing: list[dict[str, Any]] = []
    if list_field == "ephemeralContainers":
        # Existing ephemeral containers may not be changed (API validation): one admitted unrewritten while
        # Kyverno was down must stay as it is, or every later `kubectl debug` on the Pod would be refused.
        not_existing.append({
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
        "preconditions": {"all": [*conditions, *not_existing]},
        "patchesJson6902": _json_patch(list_field, regex, replacement, literal),
    } for conditions, regex, replacement, literal in _rewrites(spec)]}
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
    targets = " and ".join(f"{prefix}/" for _, prefix in spec.routes())
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
                    f"{targets}<path>, keeping the repository path, tag and digest. "
                    "Managed by harbor-cache."),
            },
        },
        "spec": {
            # Background scans do nothing for a plain mutate rule; the CRD defaults the field to true.
            "background": False,
            # Kyverno gives a policy with match conditions a webhook of its own carrying them.
            "webhookConfiguration": {"failurePolicy": spec.failure_policy,
                                     "matchConditions": [_skip_excluded_namespaces(spec.namespaces_excluded)]},
            "rules": [
                _rule(spec, RULE_CONTAINERS, "containers", "Pod", "CREATE"),
                _rule(spec, RULE_INIT_CONTAINERS, "initContainers", "Pod", "CREATE"),
                _rule(spec, RULE_EPHEMERAL_CONTAINERS, "ephemeralContainers",
                      "Pod/ephemeralcontainers", "UPDATE"),
            ],
        },
    }
