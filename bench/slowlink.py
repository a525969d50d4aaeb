"""The upstream registry behind a slow link: its own network namespace with a rate limit and added latency.

The bed's upstream ``docker-registry`` listens on a unix socket (a filesystem path, so reachable from any
network namespace). Inside ``<tag>-upstream``: nginx on ``<subnet>.0.2:5000`` (access log with client
addresses) -> ``bench.delayrelay`` on 127.0.0.1:5001 (every response chunk 40 ms late) -> the registry socket.
``tc tbf`` limits both directions of the namespace's veth to 100 Mbit/s. This kernel has no ``sch_netem``
(``CONFIG_NET_SCH_NETEM`` is not set), hence the userspace relay for the delay.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from bench.common import ROOT, run


def parse_line(line: str) -> dict[str, str]:
    """One line of the ``bench`` log format: ``addr "METHOD path HTTP/1.1" status bytes``."""
    addr, _, rest = line.partition(' "')
    request, _, tail = rest.partition('" ')
    method, path = ([*request.split(), "", ""])[:2]
    status, size = ([*tail.split(), "", ""])[:2]
    return {"client": addr, "method": method, "path": path, "status": status, "bytes": size}


class SlowUpstream:
    """Start/stop the slow upstream endpoint (a context manager; cleans up also on failure)."""

    def __init__(self, base: Path, tag: str, bridge: str, subnet: str, socket_path: Path,
                 delay: str = "40ms", rate: str = "100mbit") -> None:
        self.base, self.tag, self.bridge, self.subnet = base, tag, bridge, subnet
        self.socket_path, self.delay, self.rate = socket_path, delay, rate
        self.netns, self.veth = f"{tag}-upstream", f"{tag}-vup"
        self.addr = f"{subnet}.0.2"
        self.pids: list[int] = []

    @property
    def url(self) -> str:
        """The slow upstream's registry URL."""
        return f"http://{self.addr}:5000"

    @property
    def host(self) -> str:
        """host:port as written in image references."""
        return f"{self.addr}:5000"

    def __enter__(self) -> SlowUpstream:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _tbf(self) -> list[str]:
        return ["tbf", "rate", self.rate, "burst", "128kb", "latency", "200ms"]

    def _spawn(self, name: str, argv: list[str]) -> int:
        log = open(self.base / f"{name}.out", "ab")  # handed to the child
        proc = subprocess.Popen(["ip", "netns", "exec", self.netns, *argv], stdout=log, stderr=log, cwd=ROOT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        return proc.pid

    def start(self) -> None:
        """Namespace, veth on the bed's bridge, tbf both ways, delay relay, nginx."""
        ns, veth = self.netns, self.veth
        run(["ip", "netns", "del", ns], check=False)
        run(["ip", "link", "del", veth], check=False)
        run(["ip", "netns", "add", ns])
        run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns])
        run(["ip", "link", "set", veth, "master", self.bridge, "up"])
        run(["ip", "-n", ns, "addr", "add", f"{self.addr}/16", "dev", "eth0"])
        run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
        run(["ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "eth0", "root", *self._tbf()])
        run(["tc", "qdisc", "add", "dev", veth, "root", *self._tbf()])
        self.base.mkdir(parents=True, exist_ok=True)
        tmp = self.base / "nginx-tmp"
        for d in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (tmp / d).mkdir(parents=True, exist_ok=True)
        conf = self.base / "nginx.conf"
        conf.write_text(f"""
worker_processes 1;
daemon off;
user root;
pid {self.base}/nginx.pid;
error_log {self.base}/nginx-error.log;
events {{ worker_connections 256; }}
http {{
  client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
  uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
  log_format bench '$remote_addr "$request" $status $body_bytes_sent';
  access_log {self.base}/access.log bench;
  client_max_body_size 0;
  server {{
    listen {self.addr}:5000;
    location / {{
      proxy_http_version 1.1; proxy_set_header Host $http_host; proxy_buffering off;
      proxy_request_buffering off; proxy_pass http://127.0.0.1:5001;
    }}
  }}
}}
""")
        delay = str(float(self.delay.removesuffix("ms")) / 1000)
        self.pids = [self._spawn("relay", [sys.executable, "-m", "bench.delayrelay", "--listen", "127.0.0.1:5001",
                                           "--unix", str(self.socket_path), "--delay", delay]),
                     self._spawn("nginx", ["nginx", "-c", str(conf)])]
        end = time.monotonic() + 20
        while time.monotonic() < end:
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(f"http://{self.addr}:5000/v2/", timeout=2) as r:  # bench namespace only
                    if r.status == 200:
                        return
            time.sleep(0.2)
        raise TimeoutError("slow upstream did not answer within 20s")

    def requests(self) -> list[str]:
        """Access-log lines so far (client "request" status bytes)."""
        p = self.base / "access.log"
        return p.read_text().splitlines() if p.exists() else []

    def parsed(self) -> list[dict[str, str]]:
        """Access-log lines as client, method, path, status and bytes (the response body sent)."""
        return [parse_line(line) for line in self.requests()]

    def clear_log(self) -> None:
        """Truncate the access log."""
        p = self.base / "access.log"
        if p.exists():
            p.write_text("")

    def stop(self) -> None:
        """Kill nginx (every process in the namespace), delete the namespace and veth (safe to call twice)."""
        pids = run(["ip", "netns", "pids", self.netns], check=False).stdout.split()
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for text in pids:
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(text), sig)
            time.sleep(0.2)
        for pid in self.pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        run(["ip", "netns", "del", self.netns], check=False)
        run(["ip", "link", "del", self.veth], check=False)
