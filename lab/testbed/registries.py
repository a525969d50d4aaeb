"""The bed's registries: an upstream registry and a proxying registry behind one nginx, which also plays
Harbor's pull path (``/v2/<project>/...``); nginx's access logs (with client addresses) say who served what, and
``logs/harbor-pulls.log`` (time, method, URI, status; never truncated) is what the Harbor double learns pulls from.

Like Harbor, the pull path answers a request without a token ``401`` with
``WWW-Authenticate: Bearer realm="<realm>",service="harbor-registry"`` and hands out an anonymous token at
``/service/token``. The realm defaults to the address the client used (Harbor's externalURL set right);
``write_realm`` sets another one (an externalURL nodes cannot use), and nginx is then reloaded."""

from __future__ import annotations

import re
from pathlib import Path

from lab.testbed.upstream_health import BACKEND_CONF, write_backend
from lab.testbed.upstreams import routes_include


def write_configs(b: Path, h: str, harbor_port: int) -> None:
    """Write both registries' configs and nginx.conf into the bed directory ``b`` for the bridge address ``h``."""
    for name, extra in (("upstream", ""), ("mirror", f"proxy:\n  remoteurl: http://{h}:5000\n")):
        (b / f"{name}-data").mkdir(exist_ok=True)
        (b / f"{name}.sock").unlink(missing_ok=True)
        (b / f"{name}.yml").write_text(
            "version: 0.1\nlog:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {b}/{name}-data\n  delete:\n    enabled: true\n"
            f"http:\n  net: unix\n  addr: {b}/{name}.sock\n{extra}")
    # Harbor's local copy alone (what it serves once the upstream is marked unhealthy): the proxy's storage.
    (b / "local.sock").unlink(missing_ok=True)
    (b / "local.yml").write_text(
        "version: 0.1\nlog:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: true\n"
        f"storage:\n  filesystem:\n    rootdirectory: {b}/mirror-data\n  maintenance:\n    readonly:\n"
        f"      enabled: true\nhttp:\n  net: unix\n  addr: {b}/local.sock\n")
    if not (b / BACKEND_CONF).exists():
        write_backend(b, healthy=True)
    if not (b / "plain-projects.conf").exists():
        write_plain_projects(b, [])
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (b / "nginx-tmp" / d).mkdir(parents=True, exist_ok=True)
    if not (b / "realm.conf").exists():
        write_realm(b, None)
    proxy = PROXY
    (b / "nginx.conf").write_text(f"""
worker_processes 1;
daemon off;
user root;
pid {b}/nginx.pid;
error_log {b}/logs/nginx-error.log;
events {{ worker_connections 256; }}
http {{
  access_log off;
  client_body_temp_path {b}/nginx-tmp/body; proxy_temp_path {b}/nginx-tmp/proxy;
  fastcgi_temp_path {b}/nginx-tmp/fastcgi; uwsgi_temp_path {b}/nginx-tmp/uwsgi;
  scgi_temp_path {b}/nginx-tmp/scgi;
  log_format bed '$remote_addr "$request" $status $body_bytes_sent';
  log_format pulls '$msec $request_method $request_uri $status';
  client_max_body_size 0;
  upstream upstream_reg {{ server unix:{b}/upstream.sock; }}
  upstream mirror_reg {{ server unix:{b}/mirror.sock; }}
  upstream local_reg {{ server unix:{b}/local.sock; }}
  server {{
    listen {h}:5000;
    access_log {b}/logs/upstream-access.log bed;
    location / {{ {proxy} proxy_pass http://upstream_reg; }}
  }}
  server {{
    listen {h}:{harbor_port};
    listen {h}:8443 ssl;
    ssl_certificate {b}/tls/server.crt; ssl_certificate_key {b}/tls/server.key;
    include {b}/harbor-path.conf;
  }}
  include {b}/servers/*.conf;
}}
""")
    (b / "servers").mkdir(exist_ok=True)
    # Every project of Harbor's layout maps onto the one proxying registry (Harbor serves them all).
    project = "[a-z0-9][a-z0-9._-]*"
    (b / "harbor-path.conf").write_text(f"""
    access_log {b}/logs/harbor-access.log bed;
    access_log {b}/logs/harbor-pulls.log pulls;  # the Harbor double's pull log (never truncated)
    include {b}/realm.conf;
    include {b}/{BACKEND_CONF};  # proxy-cache projects: the proxy, or the local copy once the upstream is unhealthy
    include {b}/plain-projects.conf;
    {routes_include(b)}  # proxy-cache projects routed to their own upstream (lab/testbed/upstreams.py)
    location = /service/token {{ default_type application/json; return 200 '{TOKEN}'; }}
    location = /v2/ {{ {CHALLENGE} {proxy} proxy_pass http://mirror_reg/v2/; }}
    location ~ ^/v2/{project}/(.*)$ {{ {CHALLENGE} {proxy} proxy_pass http://$harbor_backend/v2/$1$is_args$args; }}
    location / {{ return 404; }}
""")


def write_plain_projects(b: Path, projects: list[str]) -> None:
    """Serve these projects as Harbor serves a plain (e.g. replicated) project: from its local copy only, never
    asking the upstream (the bed's stand-in for what replication copied is the proxy's storage); nginx must be
    reloaded."""
    (b / "plain-projects.conf").write_text("".join(
        f"    location ~ ^/v2/{re.escape(p)}/(.*)$ {{ {CHALLENGE} {PROXY} "
        "proxy_pass http://local_reg/v2/$1$is_args$args; }\n" for p in projects))


def write_tls_server(b: Path, h: str, port: int, cert_pem: str, key_pem: str) -> None:
    """Harbor's pull path also over HTTPS on ``h:port`` with this certificate (e.g. the one the program's TLS
    chain issued); nginx must be reloaded."""
    tls = b / "tls"
    (tls / f"harbor-{port}.crt").write_text(cert_pem)
    key = tls / f"harbor-{port}.key"
    key.write_text(key_pem)
    key.chmod(0o600)
    (b / "servers" / f"https-{port}.conf").write_text(
        f"server {{\n  listen {h}:{port} ssl;\n  ssl_certificate {tls}/harbor-{port}.crt; "
        f"ssl_certificate_key {key};\n  include {b}/harbor-path.conf;\n}}\n")


PROXY = "proxy_http_version 1.1; proxy_set_header Host $http_host; proxy_buffering off; proxy_request_buffering off;"
TOKEN = '{"token": "hc-anonymous", "access_token": "hc-anonymous", "expires_in": 1800}'  # noqa: S105 - the anonymous token nginx hands out
# Harbor's answer to a request without a token (its registry's token auth), with the realm of realm.conf.
CHALLENGE = ('if ($http_authorization = "") { add_header WWW-Authenticate '
             '\'Bearer realm="$harbor_realm",service="harbor-registry"\' always; '
             "return 401 '{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"unauthorized to access "
             "repository\"}]}'; }")


def write_realm(b: Path, realm: str | None) -> None:
    """The token realm nginx announces: ``None`` = the address the client used, else this URL."""
    value = realm or "$scheme://$http_host/service/token"
    (b / "realm.conf").write_text(f'set $harbor_realm "{value}";\n')


def parse_access_log(path: Path) -> list[dict[str, str]]:
    """Requests in an nginx access log of the bed's format: client, method, path, status."""
    out = []
    for line in path.read_text().splitlines() if path.exists() else []:
        addr, _, rest = line.partition(' "')
        request, _, tail = rest.partition('" ')
        parts = request.split()
        parts += ["", ""]
        out.append({"client": addr, "method": parts[0], "path": parts[1],
                    "status": tail.split()[0] if tail else ""})
    return out
