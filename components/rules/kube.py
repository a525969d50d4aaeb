"""Kubernetes and Helm: object names, resource quantities, release names, chart versions and sources, images."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Final
from urllib.parse import urlsplit

from components.rules.net import _LOWER_LABEL, is_host

# A DNS-1123 label (namespaces, most object names) and a DNS-1123 subdomain (Secrets, issuers, policy names).
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


def storage_class_problem(name: str) -> str | None:
    """Why `name` is not a PVC storageClassName the Harbor chart passes on, or None.

    "" leaves the cluster's default class; "-" is the chart's spelling of storageClassName "" (no dynamic
    provisioning); anything else is a StorageClass name, a DNS subdomain.
    """
    if name in ("", "-"):
        return None
    problem = subdomain_problem(name)
    return None if problem is None else f"storage class {problem}; or \"\" for the cluster's default class"


# --- resource quantities (k8s.io/apimachinery resource.ParseQuantity) ----------------------------------------

_QUANTITY_RE: Final = re.compile(
    r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))"
    r"(?P<suffix>Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?[0-9]+)?$"
)
_BINARY: Final = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
_DECIMAL: Final = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
QUANTITY_HINT: Final = ("a number with an optional suffix: Ki Mi Gi Ti Pi Ei (powers of 1024) or k M G T P E "
                        "(powers of 1000), e.g. 200Gi")


def quantity_bytes(value: str) -> Decimal | None:
    """The size a Kubernetes quantity such as `200Gi` or `1.5G` stands for, or None when it is not one."""
    match = _QUANTITY_RE.match(value)
    if match is None:
        return None
    try:
        number = Decimal(match.group("number"))
    except InvalidOperation:
        return None
    suffix = match.group("suffix") or ""
    if suffix in _BINARY:
        return number * (1024 ** _BINARY[suffix])
    if suffix in _DECIMAL:
        return number * (Decimal(10) ** _DECIMAL[suffix])
    return number * (Decimal(10) ** int(suffix[1:]))


def storage_size_problem(value: str) -> str | None:
    """Why `value` is not a volume size Kubernetes takes (a quantity greater than zero), or None."""
    size = quantity_bytes(value)
    if size is None:
        hint = ""
        if re.match(r"^[0-9.]+\s*[KMGTPE]i?B$", value, re.IGNORECASE):
            unit = value.rstrip("bB").replace(" ", "").rstrip("iI")
            unit = unit[:-1] + unit[-1].upper()
            hint = f" (no B: write {unit} for powers of 1000 or {unit}i for 1024)"
        elif re.match(r"^[0-9.]+\s*[kmgtpe]i$", value):
            hint = " (the binary suffixes are capitalised: Gi, not gi)"
        return f"{value!r} is not a Kubernetes quantity{hint}: {QUANTITY_HINT}"
    if size <= 0:
        return f"{value!r} must be greater than zero (a volume needs a size): e.g. 200Gi"
    return None


# --- Helm releases and charts --------------------------------------------------------------------------------

# Helm 3's release name rule (pkg/chartutil ValidateReleaseName): a DNS subdomain of at most 53 characters.
HELM_RELEASE_RE: Final = re.compile(rf"^{_LOWER_LABEL}(?:\.{_LOWER_LABEL})*$")
HELM_RELEASE_MAX: Final = 53
# The Harbor chart names objects `<fullname>-<component>` (fullname: the release name when it contains "harbor",
# else `<release>-harbor`); the longest is the StatefulSet `<fullname>-database`, and a StatefulSet name must
# leave room in its pods' controller-revision-hash label (63 characters) for `-<10-character hash>`.
HARBOR_FULLNAME_MAX: Final = 52 - len("-database")


def helm_release_name_problem(name: str) -> str | None:
    """Why `name` is not a Helm release name (lowercase DNS subdomain, at most 53 characters), or None."""
    if HELM_RELEASE_RE.match(name) is None or len(name) > HELM_RELEASE_MAX:
        return (f"{name!r} is not a Helm release name: lowercase letters, digits, - and ., starting and ending "
                f"with a letter or digit, at most {HELM_RELEASE_MAX} characters")
    return None


def harbor_release_name_problem(name: str) -> str | None:
    """Why the Harbor chart cannot be installed under release `name`, or None.

    Helm's rule, and what the chart makes of it: Service names (`<fullname>-core`) are DNS-1035 labels (no
    dots, first character a letter) and its StatefulSets' names must stay within 52 characters.
    """
    if (problem := helm_release_name_problem(name)) is not None:
        return problem
    fullname = name if "harbor" in name else f"{name}-harbor"
    if "." in name or not name[0].isalpha():
        return (f"{name!r}: the Harbor chart names its Services after the release, and a Service name has no dots "
                "and starts with a letter (e.g. 'harbor')")
    if len(fullname) > HARBOR_FULLNAME_MAX:
        return (f"{name!r} is too long for the Harbor chart: its objects are named '{fullname}-database' and "
                f"such a StatefulSet name must stay within 52 characters (at most {HARBOR_FULLNAME_MAX} before "
                "'-database'; a release name without 'harbor' gets '-harbor' added)")
    return None


# An exact chart version: semver, optionally with a leading v; no ranges, wildcards or "latest".
PINNED_VERSION_RE: Final = re.compile(r"^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
# A chart name as Helm repositories index it (no slash: the repository is given separately).
CHART_NAME_RE: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def is_pinned_version(value: str) -> bool:
    """Whether value names one exact chart version (so every install gets the same chart)."""
    return PINNED_VERSION_RE.match(value) is not None


def chart_name_problem(name: str) -> str | None:
    """Why `name` is not a chart name Helm can look up in a repository, or None."""
    if CHART_NAME_RE.match(name) is None:
        return f"{name!r} is not a chart name: letters, digits, . _ - (no slash: the repository is its own key)"
    return None


def chart_repository_problem(url: str) -> str | None:
    """Why `url` is not a Helm chart repository (https://, http:// or oci://host[/path]), or None."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http", "oci"):
        return f"{url!r} must be a chart repository URL: https://..., http://... or oci://registry/path"
    if not parts.hostname or not is_host(parts.hostname) or parts.query or parts.fragment:
        return f"{url!r} has no valid host, or has a query: e.g. https://helm.goharbor.io"
    return None


# --- container images (distribution/reference grammar) -------------------------------------------------------

_PATH_COMPONENT: Final = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN_COMPONENT: Final = r"[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
_DOMAIN: Final = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*(?::[0-9]+)?"
IMAGE_REF_RE: Final = re.compile(
    rf"^(?P<name>(?:(?P<domain>{_DOMAIN})/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*)"
    r"(?::(?P<tag>[\w][\w.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$"
)


def image_reference_problem(ref: str) -> str | None:
    """Why `ref` is not an image reference containerd and the kubelet take, or None.

    The distribution/reference grammar: `[registry[:port]/]path[:tag][@digest]`, the path lowercase, the
    whole name at most 255 characters.
    """
    match = IMAGE_REF_RE.match(ref)
    if match is None:
        hint = " (repository paths are lowercase)" if ref != ref.lower() and "@" not in ref else ""
        return (f"{ref!r} is not an image reference{hint}: [registry[:port]/]path[:tag][@sha256:<digest>], "
                "e.g. docker.io/library/busybox:1.37")
    if len(match.group("name")) > 255:
        return f"{ref!r}: the repository name is longer than 255 characters"
    return None


def image_registry(ref: str) -> str:
    """The registry host[:port] an image reference pulls from (docker.io when it names none)."""
    first, sep, _ = ref.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return first
    return "docker.io"
