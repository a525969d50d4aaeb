"""More upstream registries for the bed, each with its own proxying registry, and Harbor's pull path routing each
proxy-cache project to its own upstream (as Harbor does: a proxy-cache project proxies one registry endpoint).

An extra upstream ``name`` is a plain registry behind nginx on ``<bridge>:<port>`` (access log
``logs/<name>-upstream-access.log``) holding the bed's test image under ``repo``, and a registry in proxy mode
(``<name>-mirror``, storage ``<name>-mirror-data``) that fills from it. ``project-routes.conf`` (included by
Harbor's pull path before its catch-all project location) sends ``/v2/<project>/...`` of each routed project to
that upstream's proxying registry; a project not routed is served as before (the bed's first upstream).

The sandbox offers two: ``hub`` (a Docker Hub stand-in on :5001 holding ``library/hello:v1``, an official image)
and ``generic`` (any registry served by Harbor's docker-registry adapter, on :5002 holding ``tools/hello:v1``).
"""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass
from pathlib import Path

ROUTES = "project-routes.conf"
PROXY = "proxy_http_version 1.1; proxy_set_header Host $http_host; proxy_buffering off; proxy_request_buffering off;"


@dataclass(frozen=True)
class ExtraUpstream:
    """An upstream registry of the bed besides the first one (on :5000)."""

    name: str
    port: int
    repo: str

    def url(self, host: str) -> str:
        """Its registry URL on the bridge address ``host``."""
        return f"http://{host}:{self.port}"

    def mirror_storage(self, b: Path) -> Path:
        """Where its proxying registry keeps what it cached (Harbor's storage for its project)."""
        return b / f"{self.name}-mirror-data"


SANDBOX_UPSTREAMS = (ExtraUpstream("hub", 5001, "library/hello"), ExtraUpstream("generic", 5002, "tools/hello"))


def _registry_yml(b: Path, name: str, storage: Path, extra: str = "") -> None:
    (b / f"{name}.sock").unlink(missing_ok=True)
    storage.mkdir(exist_ok=True)
    (b / f"{name}.yml").write_text(
        "version: 0.1\nlog:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {storage}\n  delete:\n    enabled: true\n"
        f"http:\n  net: unix\n  addr: {b}/{name}.sock\n{extra}")


def write_upstream(b: Path, host: str, up: ExtraUpstream) -> list[str]:
    """Write the configs of one extra upstream and its proxying registry (nginx picks the server up from
    ``servers/``; reload it); returns the names of the two registry processes to start (config ``<name>.yml``)."""
    upstream, mirror = f"{up.name}-upstream", f"{up.name}-mirror"
    _registry_yml(b, upstream, b / f"{upstream}-data")
    _registry_yml(b, mirror, up.mirror_storage(b), f"proxy:\n  remoteurl: {up.url(host)}\n")
    (b / "servers").mkdir(exist_ok=True)
    (b / "servers" / f"upstream-{up.name}.conf").write_text(
        f"upstream {up.name}_upstream_reg {{ server unix:{b}/{upstream}.sock; }}\n"
        f"upstream {up.name}_mirror_reg {{ server unix:{b}/{mirror}.sock; }}\n"
        f"server {{\n  listen {host}:{up.port};\n  access_log {b}/logs/{upstream}-access.log bed;\n"
        f"  location / {{ {PROXY} proxy_pass http://{up.name}_upstream_reg; }}\n}}\n")
    return [upstream, mirror]


def write_routes(b: Path, routes: dict[str, str], challenge: str) -> None:
    """Route each project (``{project: extra upstream name}``) to that upstream's proxying registry, answering
    like Harbor (``challenge``: the 401 without a token); nginx must be reloaded. An empty mapping serves every
    project from the bed's first upstream."""
    (b / ROUTES).write_text("".join(
        f"    location ~ ^/v2/{re.escape(project)}/(.*)$ {{ {challenge} {PROXY} "
        f"proxy_pass http://{name}_mirror_reg/v2/$1$is_args$args; }}\n" for project, name in sorted(routes.items())))


def unix_socket_open(path: Path) -> bool:
    """Whether a server accepts connections on the unix socket ``path`` (a registry started and listening)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        try:
            sock.connect(str(path))
        except OSError:
            return False
    return True


def routes_include(b: Path) -> str:
    """The line Harbor's pull path includes (before its catch-all project location); creates an empty file."""
    if not (b / ROUTES).exists():
        (b / ROUTES).write_text("")
    return f"include {b}/{ROUTES};"
