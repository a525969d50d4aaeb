"""Pure renderers for containerd's registry host configuration on the nodes.

containerd reads ``<config_path>/<host[:port]>/hosts.toml`` on every resolve (no restart needed). For each
upstream registry (the ECR host by default) the rendered file sends pulls to the Harbor proxy-cache project
first and falls back to the upstream ``server``:

* the mirror URL carries the project path (``/v2/<project>``) and ``override_path = true`` — without it
  containerd appends another ``/v2`` and every pull silently bypasses the cache (DOMAIN.md S1);
* HTTPS mirrors are verified with ``ca = "<certs.d>/<harbor host dir>/ca.crt"``, never ``skip_verify`` (S16);
* the Harbor host's own directory gets a ``hosts.toml`` and the CA, so images named by Harbor also work;
* every rendered hosts.toml has an explicit ``[host."<url>"]`` table: containerd 1.6 rejects a file without one
  ("invalid `host` tree", fixed in 1.7), ignores it whole and falls back to ``https://<name>`` (docs/nodes.md);
* for the static-ClusterIP exposure mode, nodes cannot resolve cluster DNS (S5): an ``/etc/hosts`` entry
  maps the Harbor name to the fixed ClusterIP.

Directory names follow containerd's port rules: ``host`` for a default port, ``host:port`` otherwise
(containerd looks in ``host_port_``, then ``host:port``, then ``_default``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from components.rules import HOSTNAME_RE, certs_dir_problem, is_ip, project_name_problem, registry_host_problem

Scheme = Literal["http", "https"]

DEFAULT_CERTS_DIR = "/etc/containerd/certs.d"
HOSTS_MARKER = "# harbor-cache"
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Registries whose API endpoint differs from the name used in image references.
_KNOWN_SERVERS = {"docker.io": "https://registry-1.docker.io"}


@dataclass(frozen=True)
class UpstreamMirror:
    """One upstream registry served by one Harbor proxy-cache project.

    ``host`` is the registry as written in image references (``host`` or ``host:port``); ``server`` is its
    API URL for the fallback (default ``https://<host>``, ``https://registry-1.docker.io`` for docker.io).
    """

    host: str
    project: str
    server: str | None = None
    replica_project: str | None = None
    """A plain project filled by replication, asked before ``project``: Harbor serves a plain project from its own
    store without asking the upstream, so its images still pull while the upstream is down (docs/faults.md)."""


@dataclass(frozen=True)
class NodeMirrorSpec:
    """What the nodes need to pull through Harbor.

    harbor_host: name or IP of Harbor as reachable *from the nodes* (not a cluster DNS name unless
    ``static_ip`` maps it); harbor_port: None for the scheme's default port; ca_pem: PEM of the CA that
    signed Harbor's certificate (HTTPS); certs_dir: containerd's hosts directory on the node (the value put
    into ``config_path``); static_ip: the static ClusterIP for the ``/etc/hosts`` exposure mode;
    dial_timeout: optional per-host dial timeout (containerd >= 2.1 honours it, older versions ignore it).
    """

    harbor_host: str
    upstreams: tuple[UpstreamMirror, ...]
    scheme: Scheme = "https"
    harbor_port: int | None = None
    ca_pem: str | None = None
    certs_dir: str = DEFAULT_CERTS_DIR
    static_ip: str | None = None
    dial_timeout: str | None = None
    capabilities: tuple[str, ...] = field(default=("pull", "resolve"))

    def __post_init__(self) -> None:
        """Reject specs that would render a broken or unsafe configuration."""
        validate_spec(self)


def validate_spec(spec: NodeMirrorSpec) -> None:
    """Raise ValueError for a spec that cannot render a correct configuration."""
    if not HOSTNAME_RE.match(spec.harbor_host):
        raise ValueError(f"harbor_host {spec.harbor_host!r} must be a bare host name or IP (no scheme/port)")
    if spec.scheme not in _DEFAULT_PORTS:
        raise ValueError(f"scheme must be http or https, not {spec.scheme!r}")
    if spec.harbor_port is not None and not 0 < spec.harbor_port < 65536:
        raise ValueError(f"harbor_port {spec.harbor_port} out of range")
    if not spec.upstreams:
        raise ValueError("at least one upstream registry is required")
    seen: set[str] = set()
    for up in spec.upstreams:
        if (problem := registry_host_problem(up.host)) is not None:
            raise ValueError(f"upstream host {problem}")
        if up.host in seen:
            raise ValueError(f"upstream host {up.host!r} listed twice")
        seen.add(up.host)
        if up.replica_project is not None and (problem := project_name_problem(up.replica_project)) is not None:
            raise ValueError(f"replica project {problem}")
        if (problem := project_name_problem(up.project)) is not None:
            raise ValueError(problem)
        if up.server is not None and not re.match(r"^https?://[^/\s]+(/\S*)?$", up.server):
            raise ValueError(f"upstream server {up.server!r} must be an http(s) URL")
    if spec.ca_pem is not None and "-----BEGIN CERTIFICATE-----" not in spec.ca_pem:
        raise ValueError("ca_pem must be a PEM certificate")
    if (problem := certs_dir_problem(spec.certs_dir)) is not None:
        raise ValueError(f"certs_dir {problem}")
    if spec.static_ip is not None:
        if not is_ip(spec.static_ip):
            raise ValueError(f"static_ip {spec.static_ip!r} is not an IP address")
        if is_ip(spec.harbor_host):
            raise ValueError("static_ip needs harbor_host to be a name, not an IP")
    if spec.dial_timeout is not None and not re.match(r"^\d+(ms|s|m)$", spec.dial_timeout):
        raise ValueError(f"dial_timeout {spec.dial_timeout!r} must look like 2s or 500ms")
    if not set(spec.capabilities) <= {"pull", "resolve"} or "pull" not in spec.capabilities:
        raise ValueError("capabilities must include pull and may add only resolve (a cache takes no pushes)")


def harbor_authority(spec: NodeMirrorSpec) -> str:
    """``host`` or ``host:port`` for Harbor, omitting the scheme's default port."""
    if spec.harbor_port is None or spec.harbor_port == _DEFAULT_PORTS[spec.scheme]:
        return spec.harbor_host
    return f"{spec.harbor_host}:{spec.harbor_port}"


def host_dir(authority: str) -> str:
    """Directory name containerd looks up for a registry ``host[:port]`` (the ``host:port`` form)."""
    return authority


def harbor_ca_path(spec: NodeMirrorSpec) -> str | None:
    """Absolute node path of Harbor's CA file, or None when no CA applies (plain HTTP or no CA)."""
    if spec.scheme != "https" or spec.ca_pem is None:
        return None
    return f"{spec.certs_dir}/{host_dir(harbor_authority(spec))}/ca.crt"


def upstream_server(up: UpstreamMirror) -> str:
    """The upstream's API URL used as the hosts.toml ``server`` (the fallback)."""
    if up.server:
        return up.server.rstrip("/")
    return _KNOWN_SERVERS.get(up.host, f"https://{up.host}")


def _toml_str(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _host_block(spec: NodeMirrorSpec, url: str, override_path: bool) -> list[str]:
    caps = ", ".join(_toml_str(c) for c in spec.capabilities)
    lines = [f"[host.{_toml_str(url)}]", f"  capabilities = [{caps}]"]
    ca = harbor_ca_path(spec)
    if ca is not None:
        lines.append(f"  ca = {_toml_str(ca)}")
    if override_path:
        lines.append("  override_path = true")
    if spec.dial_timeout is not None:
        lines.append(f"  dial_timeout = {_toml_str(spec.dial_timeout)}")
    return lines


def mirror_url(spec: NodeMirrorSpec, project: str) -> str:
    """The Harbor project endpoint containerd should ask: ``<scheme>://<harbor>/v2/<project>``."""
    return f"{harbor_url(spec)}/v2/{project}"


def upstream_hosts_toml(spec: NodeMirrorSpec, up: UpstreamMirror) -> str:
    """hosts.toml for one upstream registry: Harbor project first (the replicated project before the proxy-cache
    project when there is one: containerd asks the next host after a 404), upstream ``server`` as fallback."""
    lines = [
        "# Managed by harbor-cache: pull through the Harbor proxy-cache project, fall back to server",
        f"server = {_toml_str(upstream_server(up))}",
    ]
    for project in (up.replica_project, up.project):
        if project is not None:
            lines += ["", *_host_block(spec, mirror_url(spec, project), override_path=True)]
    return "\n".join(lines) + "\n"


def harbor_url(spec: NodeMirrorSpec) -> str:
    """Harbor's registry endpoint as the nodes reach it: ``<scheme>://<harbor>``."""
    return f"{spec.scheme}://{harbor_authority(spec)}"


def harbor_hosts_toml(spec: NodeMirrorSpec) -> str:
    """hosts.toml for the Harbor host itself, so images named ``<harbor>/<project>/...`` are trusted.

    The ``[host]`` table carries the endpoint and its CA; ``server`` and the top-level ``ca`` name the same
    endpoint, so the fallback containerd always appends is Harbor again (never ``https://`` on an HTTP port).
    """
    url = harbor_url(spec)
    lines = [
        "# Managed by harbor-cache: Harbor's own endpoint.",
        f"server = {_toml_str(url)}",
    ]
    ca = harbor_ca_path(spec)
    if ca is not None:
        lines.append(f"ca = {_toml_str(ca)}")
    lines += ["", *_host_block(spec, url, override_path=False)]
    return "\n".join(lines) + "\n"


def etc_hosts_line(spec: NodeMirrorSpec) -> str | None:
    """The managed ``/etc/hosts`` line for the static-ClusterIP mode, or None in the other modes."""
    if spec.static_ip is None:
        return None
    return f"{spec.static_ip} {spec.harbor_host} {HOSTS_MARKER}"


def render_certs_files(spec: NodeMirrorSpec) -> dict[str, str]:
    """All files under the certs.d directory, keyed by path relative to it (sorted, deterministic)."""
    files: dict[str, str] = {}
    for up in spec.upstreams:
        files[f"{host_dir(up.host)}/hosts.toml"] = upstream_hosts_toml(spec, up)
    harbor_dir = host_dir(harbor_authority(spec))
    if harbor_dir in {host_dir(up.host) for up in spec.upstreams}:
        raise ValueError(f"Harbor's host {harbor_dir!r} cannot also be an upstream")
    files[f"{harbor_dir}/hosts.toml"] = harbor_hosts_toml(spec)
    if harbor_ca_path(spec) is not None and spec.ca_pem is not None:
        pem = spec.ca_pem.strip() + "\n"
        files[f"{harbor_dir}/ca.crt"] = pem
    return dict(sorted(files.items()))
