"""The bed's registries: an upstream registry and a proxying registry behind one nginx, which also plays
Harbor's pull path (``/v2/<project>/...``); nginx's access logs (with client addresses) say who served what."""

from __future__ import annotations

from pathlib import Path

from lab.testbed.layout import PROJECT


def write_configs(b: Path, h: str, harbor_port: int) -> None:
    """Write both registries' configs and nginx.conf into the bed directory ``b`` for the bridge address ``h``."""
    for name, extra in (("upstream", ""), ("mirror", f"proxy:\n  remoteurl: http://{h}:5000\n")):
        (b / f"{name}-data").mkdir(exist_ok=True)
        (b / f"{name}.sock").unlink(missing_ok=True)
        (b / f"{name}.yml").write_text(
            "version: 0.1\nlog:\n  level: info\n  formatter: text\n  accesslog:\n    disabled: true\n"
            f"storage:\n  filesystem:\n    rootdirectory: {b}/{name}-data\n  delete:\n    enabled: true\n"
            f"http:\n  net: unix\n  addr: {b}/{name}.sock\n{extra}")
    for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (b / "nginx-tmp" / d).mkdir(parents=True, exist_ok=True)
    proxy = "proxy_http_version 1.1; proxy_set_header Host $http_host; proxy_buffering off; " \
            "proxy_request_buffering off;"
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
  client_max_body_size 0;
  upstream upstream_reg {{ server unix:{b}/upstream.sock; }}
  upstream mirror_reg {{ server unix:{b}/mirror.sock; }}
  server {{
    listen {h}:5000;
    access_log {b}/logs/upstream-access.log bed;
    location / {{ {proxy} proxy_pass http://upstream_reg; }}
  }}
  server {{
    listen {h}:{harbor_port};
    listen {h}:8443 ssl;
    ssl_certificate {b}/tls/server.crt; ssl_certificate_key {b}/tls/server.key;
    access_log {b}/logs/harbor-access.log bed;
    location = /v2/ {{ {proxy} proxy_pass http://mirror_reg/v2/; }}
    location ~ ^/v2/{PROJECT}/(.*)$ {{ {proxy} proxy_pass http://mirror_reg/v2/$1$is_args$args; }}
    location / {{ return 404; }}
  }}
}}
""")


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
