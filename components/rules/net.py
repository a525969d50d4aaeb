"""Hosts, addresses, URLs and names on the network: what containerd, cert-manager, Go's HTTP proxy and Redis take."""

from __future__ import annotations

import ipaddress
import re
from typing import Final
from urllib.parse import urlsplit

from components.rules.harbor import PROJECT_NAME_RE

_DNS_LABEL: Final = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# A DNS name (RFC 1123, any case, at most 253 characters); a dotted IPv4 address matches too.
HOSTNAME_RE: Final = re.compile(rf"^(?=.{{1,253}}$){_DNS_LABEL}(?:\.{_DNS_LABEL})*$")
_LOWER_LABEL: Final = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# A registry as image references name it: lowercase `host` or `host:port` (no scheme, no path, no IPv6).
REGISTRY_HOST_RE: Final = re.compile(rf"^(?P<name>{_LOWER_LABEL}(?:\.{_LOWER_LABEL})*)(?::(?P<port>[0-9]{{1,5}}))?$")
REGISTRY_HOST_EXAMPLE: Final = "255250787067.dkr.ecr.ap-northeast-2.amazonaws.com"
DNS_NAME_HINT: Final = ("letters, digits and - in dot-separated labels of 1-63 characters (not starting or ending "
                        "with -), 253 characters at most")


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


def ip_problem(value: str) -> str | None:
    """Why `value` is not an IPv4 or IPv6 address, or None."""
    return None if is_ip(value) else f"{value!r} is not an IP address (e.g. 10.0.0.11 or fd00::11)"


def host_problem(value: str) -> str | None:
    """Why `value` is neither an IP address nor a DNS name (RFC 1123, no port or scheme), or None."""
    if is_host(value):
        return None
    hint = ""
    if "://" in value or "/" in value:
        hint = ": give the bare host, without scheme or path"
    elif value.count(":") == 1:
        hint = ": give the host without a port"
    elif " " in value or "_" in value:
        hint = f": {DNS_NAME_HINT}"
    return f"{value!r} is neither an IP address nor a DNS name{hint}"


def node_reachable_host_problem(value: str) -> str | None:
    """Why `value` cannot be the Harbor endpoint nodes use: an IPv4 address or a DNS name, or None.

    IPv6 is refused: containerd names its hosts directories `host:port`, which an IPv6 address cannot spell
    without brackets, and the renderer (components/containerd.py) does not write bracketed directories.
    """
    if is_ip(value) and ":" in value:
        return f"{value!r} is an IPv6 address: nodes reach Harbor by an IPv4 address or a DNS name only"
    return host_problem(value)


def dns_name_problem(name: str, *, wildcard: bool = False) -> str | None:
    """Why `name` is not a DNS name for a certificate (RFC 1123; `*.` first with `wildcard`), or None.

    cert-manager puts it in the certificate's subjectAltName as is; TLS clients match a wildcard against one
    whole leftmost label only, so `*.example.com` works and `a.*.example.com` or `*foo.example.com` never match.
    """
    if is_ip(name):
        return f"{name!r} is an IP address: put it in tls.extraIpAddresses"
    rest = name[2:] if wildcard and name.startswith("*.") else name
    if "*" in rest:
        return (f"{name!r} has a wildcard that is not the whole first label: only `*.example.com` matches "
                "(a wildcard stands for one whole leftmost label)")
    if HOSTNAME_RE.match(rest) is None:
        return f"{name!r} is not a DNS name: {DNS_NAME_HINT}"
    return None


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


# --- URLs ----------------------------------------------------------------------------------------------------

def http_url_problem(url: str, *, path: bool = False) -> str | None:
    """Why `url` is not an http(s) URL with a host (and no path unless `path`; never a query), or None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return f"{url!r} is not a URL ({exc})"
    if parts.scheme not in ("http", "https"):
        return f"{url!r} must start with http:// or https://"
    if not parts.hostname or not is_host(parts.hostname):
        return f"{url!r} has no valid host after the scheme"
    if port == 0:
        return f"{url!r} has port 0"
    if parts.query or parts.fragment or (not path and parts.path not in ("", "/")):
        what = "a path, query or fragment" if not path else "a query or fragment"
        return f"{url!r} must not have {what}: give scheme://host[:port] only"
    if parts.username or parts.password:
        return f"{url!r} must not carry a user or password"
    return None


def proxy_url_problem(url: str) -> str | None:
    """Why `url` is not an egress proxy as Go's HTTP_PROXY/HTTPS_PROXY take it, or None.

    Go (net/http ProxyFromEnvironment) reads `[scheme://]host[:port]`, adds http:// when the scheme is missing,
    and takes http, https, socks5 and socks5h; anything else fails every request Harbor makes upstream.
    """
    full = url if "://" in url else f"http://{url}"
    try:
        parts = urlsplit(full)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        return f"{url!r} is not a proxy URL ({exc})"
    if parts.scheme not in ("http", "https", "socks5", "socks5h"):
        return f"{url!r} has scheme {parts.scheme!r}: use http://, https:// or socks5://"
    if not parts.hostname or not is_host(parts.hostname) or parts.path not in ("", "/"):
        return f"{url!r} is not a proxy URL: give [http://]host:port, e.g. http://proxy.internal:3128"
    return None


def no_proxy_warnings(value: str) -> list[str]:
    """Entries of a NO_PROXY list that Go's proxy matcher can never match (it skips them silently)."""
    warnings = []
    for entry in (e.strip() for e in value.split(",")):
        if not entry or entry == "*":
            continue
        try:
            ipaddress.ip_network(entry, strict=False)
            continue
        except ValueError:
            pass
        host = entry[2:] if entry.startswith("*.") else entry.lstrip(".")
        host = split_host_port(host)[0] if not is_ip(host) else host
        if "://" in entry or "/" in entry or not is_host(host):
            warnings.append(f"entry {entry!r} never matches: use a host, .domain, IP or CIDR (no scheme or path)")
    return warnings


def redis_addr_problem(addr: str, *, sentinel: bool) -> str | None:
    """Why `addr` is not what the chart's redis.external.addr takes, or None.

    `host:port` for one Redis, `host1:port1,host2:port2` for Sentinel (with sentinelMasterSet).
    """
    entries = addr.split(",")
    if len(entries) > 1 and not sentinel:
        return f"{addr!r} lists several addresses: that is Sentinel, which needs sentinelMasterSet"
    for entry in entries:
        host, port = split_host_port(entry.strip())
        if port is None or not 0 < port < 65536 or not is_host(host):
            return (f"{addr!r} must be host:port (e.g. redis.internal:6379)"
                    + (", comma-separated for Sentinel" if sentinel else ""))
    return None
