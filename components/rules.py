"""The shared rules: every pattern and parser that settings, providers, renderers and the Kyverno builder use.

One home for each rule, so the stack settings and a provider's `check` cannot disagree. Pure: no Pulumi, no
pydantic, only the standard library. Functions named `*_problem` return None for a good value, else a short
reason that a caller puts after the name of its setting or input.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Final, Literal

# --- Harbor --------------------------------------------------------------------------------------------------

# Harbor's project name rule (src/pkg/project/manager.go): lowercase letters and digits, separated by single
# . _ or -, 1-255 characters.
PROJECT_NAME_RE: Final = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
PROJECT_NAME_MAX: Final = 255
PROJECT_NAME_HINT: Final = ("lowercase letters, digits and . _ - (not first or last, not doubled), "
                            "1-255 characters, e.g. 'mif'")

RegistryType = Literal["aws-ecr", "docker-registry", "harbor"]
REGISTRY_TYPES: Final[tuple[RegistryType, ...]] = ("aws-ecr", "docker-registry", "harbor")
REGISTRY_NAME_MAX: Final = 64  # Harbor's limit for registry names

# Harbor v2.14's ECR endpoint pattern (src/pkg/reg/adapter/awsecr/adapter.go), anchored: the whole URL must
# match. No `ecr-public`: Harbor's pattern has it only from v2.15.2 on, and v2.14 answers 500 "bad aws url".
ECR_URL_RE: Final = re.compile(
    r"^https://(?:api|(\d+)\.dkr)\.ecr(?:-fips)?\.([\w\-]+)\."
    r"(amazonaws\.com(\.cn)?|sc2s\.sgov\.gov|c2s\.ic\.gov)/?$"
)
ECR_URL_HINT: Final = "https://<account>.dkr.ecr.<region>.amazonaws.com"


def project_name_problem(name: str) -> str | None:
    """Why `name` is not a valid Harbor project name, or None."""
    if not (1 <= len(name) <= PROJECT_NAME_MAX and PROJECT_NAME_RE.match(name)):
        return f"{name!r} is not a valid Harbor project name: {PROJECT_NAME_HINT}"
    return None


def is_ecr_url(url: str) -> bool:
    """Whether `url` is an Amazon ECR registry endpoint as Harbor's ECR adapter accepts it."""
    return ECR_URL_RE.match(url) is not None


# --- replication cron (Harbor's 6-field cron with seconds) ---------------------------------------------------

CRON_EXAMPLE: Final = "0 0 */6 * * *"
_CRON_RANGES: Final = ((0, 59), (0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
_CRON_NAMES: Final[tuple[dict[str, int], ...]] = (
    {},
    {},
    {},
    {},
    {m: i + 1 for i, m in enumerate("JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split())},
    {d: i for i, d in enumerate("SUN MON TUE WED THU FRI SAT".split())},
)


def _cron_value(text: str, idx: int) -> int:
    value = _CRON_NAMES[idx].get(text.upper()) if not text.isdigit() else int(text)
    low, high = _CRON_RANGES[idx]
    if value is None or not low <= value <= high:
        raise ValueError(f"{text!r} is outside {low}-{high}")
    return value


def cron_problem(cron: str) -> str | None:
    """Why `cron` is not a replication cron Harbor accepts, or None.

    Harbor's rule: 6 space-separated fields (sec min hour dom month dow), each value in its range (month and
    weekday names allowed, `?` for day of month or week), seconds `0` and minutes not `*`.
    """
    parts = cron.split(" ")
    if len(parts) != 6:
        return f"must have 6 space-separated fields (sec min hour dom month dow), got {len(parts)}"
    for idx, field in enumerate(parts):
        if field == "?" and idx in (3, 5):
            continue
        for item in field.split(","):
            base, _, step = item.partition("/")
            try:
                if step and (not step.isdigit() or int(step) == 0):
                    raise ValueError(f"bad step {step!r}")
                if base != "*":
                    for bound in base.split("-", 1):
                        _cron_value(bound, idx)
            except ValueError as exc:
                return f"field {idx + 1} ({field!r}): {exc}"
    if parts[0] != "0":
        return "the 1st field (seconds) must be 0"
    if parts[1] == "*":
        return "the 2nd field (minutes) must not be *"
    return None


# --- hosts and addresses -------------------------------------------------------------------------------------

_DNS_LABEL: Final = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# A DNS name (RFC 1123, any case, at most 253 characters); a dotted IPv4 address matches too.
HOSTNAME_RE: Final = re.compile(rf"^(?=.{{1,253}}$){_DNS_LABEL}(?:\.{_DNS_LABEL})*$")
_LOWER_LABEL: Final = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# A registry as image references name it: lowercase `host` or `host:port` (no scheme, no path, no IPv6).
REGISTRY_HOST_RE: Final = re.compile(rf"^(?P<name>{_LOWER_LABEL}(?:\.{_LOWER_LABEL})*)(?::(?P<port>[0-9]{{1,5}}))?$")
REGISTRY_HOST_EXAMPLE: Final = "255250787067.dkr.ecr.ap-northeast-2.amazonaws.com"


def is_ip(value: str) -> bool:
    """Whether value is an IPv4 or IPv6 address."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return True


def is_host(value: str) -> bool:
    """Whether value is an IP address or a DNS name (no port)."""
    return is_ip(value) or HOSTNAME_RE.match(value) is not None


def bracket(host: str) -> str:
    """An IPv6 address in brackets (for `host:port`), anything else unchanged."""
    return f"[{host}]" if ":" in host else host


def split_host_port(hostport: str) -> tuple[str, int | None]:
    """Split `host[:port]` (a name or IPv4 address) into host and port; no port gives None."""
    host, sep, port = hostport.rpartition(":")
    if sep and port.isdigit():
        return host, int(port)
    return hostport, None


def registry_host_problem(value: str) -> str | None:
    """Why `value` is not a registry `host[:port]` as image references name it, or None."""
    match = REGISTRY_HOST_RE.match(value)
    if match is None:
        return (f"{value!r} is not a registry host: use `host` or `host:port`, lowercase, without scheme or "
                f"path (e.g. {REGISTRY_HOST_EXAMPLE})")
    port = match.group("port")
    if port is not None and not 0 < int(port) < 65536:
        return f"{value!r} has port {port} outside 1-65535"
    return None


def is_cluster_dns_name(host: str, cluster_domain: str = "cluster.local") -> bool:
    """True for names only cluster DNS answers: `*.svc`, `*.svc.<domain>`, `*.<domain>` or a bare label.

    Nodes (kubelet, containerd) resolve with the node's resolver, so they cannot reach such a name.
    """
    if is_ip(host):
        return False
    domain = cluster_domain.strip(".")
    return ("." not in host and host != "localhost") or host.endswith((".svc", f".{domain}"))


def split_prefix(harbor_prefix: str) -> tuple[str, str]:
    """Split an image prefix `<harbor-host[:port]>/<project>` into host and project (no validation)."""
    host, _, project = harbor_prefix.partition("/")
    return host, project


def harbor_prefix_problems(harbor_prefix: str) -> list[str]:
    """Problems with an image prefix `<harbor-host[:port]>/<project>` (what replaces an upstream host)."""
    host, project = split_prefix(harbor_prefix)
    problems = []
    if (problem := registry_host_problem(host)) is not None:
        problems.append(f"harbor_prefix host {problem}")
    if not PROJECT_NAME_RE.match(project):
        problems.append(f"harbor_prefix {harbor_prefix!r} must be `<harbor-host[:port]>/<project>` with one "
                        "lowercase Harbor project name and no trailing slash (e.g. harbor.example.com/ecr-cache)")
    return problems


# --- Kubernetes names ----------------------------------------------------------------------------------------

# A DNS-1123 label (namespaces, most object names) and a DNS-1123 subdomain (cluster-scoped policy names).
K8S_LABEL_RE: Final = re.compile(rf"^{_LOWER_LABEL}$")
K8S_SUBDOMAIN_RE: Final = re.compile(rf"^(?=.{{1,253}}$){_LOWER_LABEL}(?:\.{_LOWER_LABEL})*$")


def namespace_problem(name: str) -> str | None:
    """Why `name` is not a Kubernetes namespace name (a lowercase DNS label, 1-63 characters), or None."""
    if K8S_LABEL_RE.match(name) is None:
        return f"namespace {name!r} is not a DNS label (lowercase letters, digits and -, 1-63 characters)"
    return None


def subdomain_problem(name: str) -> str | None:
    """Why `name` is not a Kubernetes DNS subdomain name (lowercase, dots allowed, 1-253 characters), or None."""
    if K8S_SUBDOMAIN_RE.match(name) is None:
        return f"{name!r} is not a DNS subdomain name (lowercase letters, digits, - and ., 1-253 characters)"
    return None


# --- versions and durations ----------------------------------------------------------------------------------

# An exact chart version: semver, optionally with a leading v; no ranges, wildcards or "latest".
PINNED_VERSION_RE: Final = re.compile(r"^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
# A Go duration in hours, minutes and seconds as cert-manager takes it (2160h, 720h30m).
DURATION_RE: Final = re.compile(r"^(\d+h)?(\d+m)?(\d+s)?$")


def is_pinned_version(value: str) -> bool:
    """Whether value names one exact chart version (so every install gets the same chart)."""
    return PINNED_VERSION_RE.match(value) is not None


def duration_problem(value: str) -> str | None:
    """Why `value` is not a Go duration such as 2160h or 720h30m, or None."""
    if not value or DURATION_RE.match(value) is None:
        return f"{value!r} is not a Go duration such as 2160h or 720h30m"
    return None
