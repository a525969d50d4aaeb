"""A test bed of real nodes, registries and a Harbor-shaped pull path on one machine (needs root).

* Nodes are network namespaces on a bridge (``<subnet>.0.0/16``), each with its own mount namespace in
  which ``/etc/containerd``, ``/var/lib/containerd``, ``/run/containerd`` and ``/etc/hosts`` are per-node
  directories/files, its own sshd and its own containerd (Debian's 1.6, or a 2.x build bind-mounted over
  ``/usr/bin/containerd`` and ``/usr/bin/ctr``). Nodes have no systemd: ``bin/restart-containerd`` in the
  node directory restarts containerd (and fails once when ``fail-next-restart`` exists).
* An upstream registry (``docker-registry``) behind nginx on ``<subnet>.0.1:5000`` holds a hand-made image
  ``quickstart/hello:v1`` pushed with skopeo.
* A second registry in proxy mode plays Harbor's pull path behind nginx, which serves Harbor's layout
  ``/v2/<project>/<repo>`` on ``<subnet>.0.1:8080`` (HTTP, or ``harbor_port``) and ``:8443`` (HTTPS, certificate for
  ``harbor.test`` from a test CA). nginx's access logs (with client addresses) tell where bytes came from.
* Inside every node, ``/usr/local/sbin`` holds ``crictl`` and ``restart-containerd`` (so one restart command,
  ``NODE_RESTART_COMMAND``, works on all nodes) and ``/var/lib/harbor-cache`` is per node, as on real hosts.
  ``authorized_keys`` adds public keys (a sandbox stack's key) next to the bed's own client key.

Use ``with Testbed(Path(d), flavors=["1.6", "2"]) as bed:`` in tests, or the CLI for people::

    python -m tests.support.testbed up --nodes 2 --dir /tmp/bed [--containerd2] [--subnet 10.251]
    python -m tests.support.testbed status --dir /tmp/bed
    python -m tests.support.testbed down --dir /tmp/bed
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import hashlib
import io
import json
import os
import platform
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

TOOLS = Path(os.environ.get("HARBOR_CACHE_TOOLS", str(Path.home() / ".cache" / "harbor-cache-tools")))
_VERSIONS = Path(__file__).resolve().parents[2] / "scripts" / "versions.env"
PROJECT = "mif"
# ECR-shaped upstream name; its hosts.toml server is the bed's registry.
UPSTREAM_HOST = "123456789012.dkr.ecr.test-1.amazonaws.com"
HARBOR_NAME = "harbor.test"
IMAGE_REPO = "quickstart/hello"
IMAGE_TAG = "v1"
SOCKET = "/run/containerd/containerd.sock"
# The same on every node (each node binds its own bin directory over /usr/local/sbin).
NODE_RESTART_COMMAND = "/usr/local/sbin/restart-containerd"
NODE_HEALTH_COMMAND = f"/usr/bin/ctr --address {SOCKET} version"
NODE_STATE_DIR = "/var/lib/harbor-cache"


def _version(key: str) -> str:
    for line in _VERSIONS.read_text().splitlines():
        if line.startswith(key + "="):
            return line.split("=", 1)[1].strip()
    raise KeyError(key)


def containerd2_bin() -> Path:
    """Folder with the containerd 2.x build (scripts/build-tools containerd2)."""
    return TOOLS / f"containerd-{_version('CONTAINERD2_VERSION')}" / "bin"


def crictl_bin() -> Path:
    """The crictl build (scripts/build-tools crictl)."""
    return TOOLS / f"crictl-{_version('CRICTL_VERSION')}" / "bin" / "crictl"


def tools_ready(flavors: Sequence[str]) -> list[str]:
    """Names of missing prerequisites for the given node flavors (empty when all are there)."""
    needed = ("containerd", "sshd", "nginx", "docker-registry", "skopeo", "openssl", "ip", "nsenter")
    missing = [b for b in needed if not shutil.which(b) and not Path("/usr/sbin", b).exists()]
    if not crictl_bin().exists():
        missing.append(str(crictl_bin()))
    if any(f != "1.6" for f in flavors) and not (containerd2_bin() / "containerd").exists():
        missing.append(str(containerd2_bin() / "containerd"))
    if os.geteuid() != 0:
        missing.append("root")
    return missing


def _run(cmd: Sequence[str], check: bool = True, **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), check=check, text=True, capture_output=True, **kw)


def _wait(what: str, probe: Any, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(Exception):
            if probe():
                return
        time.sleep(0.1)
    raise TimeoutError(f"testbed: {what} did not come up within {timeout}s")


def _tcp_open(addr: str, port: int) -> bool:
    with socket.create_connection((addr, port), timeout=1):
        return True


def _http_ok(url: str) -> bool:
    with urllib.request.urlopen(url, timeout=2) as r:  # loopback/bed addresses only
        return bool(r.status == 200)


# ------------------------------------------------------------------------------------------ test image

def _sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def build_oci_image(dest: Path, tag: str = IMAGE_TAG, payload: bytes = b"hello from the bed\n") -> str:
    """Write a one-layer OCI image layout to ``dest``; returns the manifest digest."""
    tar_buf = io.BytesIO()
    with tarfile.open(fileobj=tar_buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo("hello.txt")
        info.size, info.mtime, info.mode = len(payload), 0, 0o644
        tar.addfile(info, io.BytesIO(payload))
    layer_tar = tar_buf.getvalue()
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb", mtime=0) as f:
        f.write(layer_tar)
    layer = gz.getvalue()
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    config = json.dumps({"architecture": arch, "os": "linux", "config": {"Cmd": ["/hello.txt"]},
                         "rootfs": {"type": "layers", "diff_ids": [_sha(layer_tar)]}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": _sha(config),
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": _sha(layer),
                    "size": len(layer)}],
    }).encode()
    blobs = dest / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    for blob in (layer, config, manifest):
        (blobs / _sha(blob).split(":")[1]).write_bytes(blob)
    index = {"schemaVersion": 2, "manifests": [{
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": _sha(manifest),
        "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    (dest / "index.json").write_text(json.dumps(index))
    (dest / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    return _sha(manifest)


# ------------------------------------------------------------------------------------------ nodes

_RESTART = """#!/bin/sh
# Test-node stand-in for `systemctl restart containerd` (no systemd in a namespace node).
N={node}
stop() {{
    if [ -f "$N/containerd.pid" ]; then
        pid=$(cat "$N/containerd.pid")
        kill "$pid" 2>/dev/null || true
        i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$N/containerd.pid"
    fi
}}
stop
if [ -f "$N/fail-next-restart" ]; then
    rm -f "$N/fail-next-restart"; echo "injected restart failure" >&2; exit 1
fi
setsid /usr/bin/containerd >>"$N/containerd.log" 2>&1 </dev/null &
echo $! >"$N/containerd.pid"
i=0
while [ $i -lt 200 ]; do
    /usr/bin/ctr --address {sock} version >/dev/null 2>&1 && exit 0
    kill -0 "$(cat "$N/containerd.pid")" 2>/dev/null || {{ echo "containerd exited" >&2; exit 1; }}
    sleep 0.1; i=$((i + 1))
done
echo "containerd did not answer" >&2
exit 1
"""


@dataclass
class Node:
    """One test node: a network + mount namespace with sshd and containerd."""

    name: str
    index: int
    dir: str
    addr: str
    netns: str
    flavor: str
    sshd_pid: int = 0

    @property
    def path(self) -> Path:
        """The node's directory on the host."""
        return Path(self.dir)

    @property
    def restart_cmd(self) -> str:
        """Command that restarts this node's containerd (run inside the node)."""
        return str(self.path / "bin" / "restart-containerd")

    @property
    def health_cmd(self) -> str:
        """Command that succeeds while this node's containerd answers (run inside the node)."""
        return f"/usr/bin/ctr --address {SOCKET} version"

    @property
    def state_dir(self) -> str:
        """Per-node harbor-cache state directory (a script parameter)."""
        return str(self.path / "harbor-cache-state")

    def sh(self, cmd: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``sh -c cmd`` inside the node's namespaces (as sshd sees them)."""
        return _run(["nsenter", "-t", str(self.sshd_pid), "-m", "-n", "--", "sh", "-c", cmd],
                    check=check, timeout=timeout)

    def config_text(self) -> str | None:
        """The node's /etc/containerd/config.toml, or None when absent."""
        p = self.path / "etc-containerd" / "config.toml"
        return p.read_text() if p.exists() else None

    def stock_config(self) -> str:
        """``containerd config default`` of this node's containerd."""
        return self.sh("/usr/bin/containerd config default").stdout

    def containerd_running(self) -> bool:
        """True when the node's containerd answers on its socket."""
        return self.sh(self.health_cmd, check=False).returncode == 0

    def stop_containerd(self) -> None:
        """Stop the node's containerd and wait until it is gone."""
        pidfile = self.path / "containerd.pid"
        if not pidfile.exists():
            return
        pid_text = pidfile.read_text().strip()
        if not pid_text.isdigit():
            pidfile.unlink()
            return
        pid = int(pid_text)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                os.kill(pid, 0)
                time.sleep(0.1)
            os.kill(pid, signal.SIGKILL)
        pidfile.unlink(missing_ok=True)

    def restart_containerd(self) -> None:
        """Restart containerd with the current config (raises on failure)."""
        self.sh(self.restart_cmd)

    def reset(self, config: str | None) -> None:
        """Stop containerd, wipe /etc/containerd and state, write ``config`` (None: no file), start again."""
        self.stop_containerd()
        etc = self.path / "etc-containerd"
        for child in etc.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        state = Path(self.state_dir)  # bound over /var/lib/harbor-cache in the node: empty it, keep the inode
        for child in state.iterdir() if state.exists() else ():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        store = self.path / "var-lib-containerd"  # a fresh image store: every pull fetches every blob
        for child in store.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        (self.path / "etc-hosts").write_text(f"127.0.0.1 localhost\n{self.addr} {self.name}\n")
        (self.path / "fail-next-restart").unlink(missing_ok=True)
        if config is not None:
            (etc / "config.toml").write_text(config)
        self.restart_containerd()

    def crictl(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run crictl against the node's containerd CRI socket (inside the node)."""
        ep = f"unix://{SOCKET}"
        argv = [str(crictl_bin()), "--runtime-endpoint", ep, "--image-endpoint", ep, "--timeout", "60s"]
        argv += args
        cmd = " ".join(shlex.quote(a) for a in argv)
        return self.sh(cmd, check=False, timeout=timeout)

    def remove_image(self, ref: str) -> None:
        """Forget a pulled image so the next pull fetches it again."""
        self.sh(f"/usr/bin/ctr --address {SOCKET} -n k8s.io images rm {shlex.quote(ref)} >/dev/null 2>&1; "
                f"/usr/bin/ctr --address {SOCKET} -n k8s.io content prune references >/dev/null 2>&1 || true",
                check=False)


# ------------------------------------------------------------------------------------------ the bed

@dataclass
class BedState:
    """What ``down``/``status`` need from a bed started by another process."""

    base: str
    subnet: str
    tag: str
    bridge: str
    pids: dict[str, int] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    harbor_port: int = 8080


class Testbed:
    """Start/stop the whole bed; a context manager for tests, ``up``/``down`` for people."""

    __test__ = False  # not a test class, despite the name

    def __init__(
        self, base: Path, flavors: Sequence[str] = ("1.6",), subnet: str = "10.251", tag: str | None = None,
        harbor_port: int = 8080, authorized_keys: Sequence[str] = (),
    ) -> None:
        self.base = Path(base).resolve()
        self.flavors = list(flavors)
        self.subnet = subnet
        self.tag = tag or "hc" + subnet.split(".")[1]
        self.host_addr = f"{subnet}.0.1"
        self.harbor_port = harbor_port
        self.authorized_keys = [k.strip() for k in authorized_keys if k.strip()]
        self.state = BedState(str(self.base), subnet, self.tag, f"{self.tag}-br", harbor_port=harbor_port)
        self.ca_pem = ""
        self.client_key = self.base / "ssh" / "id_ed25519"

    # ---- addresses and names
    @property
    def nodes(self) -> list[Node]:
        """The running nodes."""
        return self.state.nodes

    @property
    def upstream_server(self) -> str:
        """The upstream registry's URL (what hosts.toml ``server`` must be)."""
        return f"http://{self.host_addr}:5000"

    def image_ref(self, host: str = UPSTREAM_HOST) -> str:
        """The test image by its upstream name."""
        return f"{host}/{IMAGE_REPO}:{IMAGE_TAG}"

    def unreachable_addr(self) -> str:
        """An address inside the bed's subnet where no node lives."""
        return f"{self.subnet}.1.250"

    # ---- lifecycle
    def __enter__(self) -> Testbed:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        """Bring up network, registries, image and nodes; records state in ``<base>/testbed.json``."""
        missing = tools_ready(self.flavors)
        if missing:
            raise RuntimeError(f"testbed prerequisites missing: {', '.join(missing)}")
        self.base.mkdir(parents=True, exist_ok=True)
        (self.base / "logs").mkdir(exist_ok=True)
        self._save()
        self._network()
        self._keys()
        self._registries()
        self._push_image()
        Path("/run/sshd").mkdir(exist_ok=True)
        for i, flavor in enumerate(self.flavors, start=1):
            self.state.nodes.append(self._start_node(i, flavor))
            self._save()

    def stop(self) -> None:
        """Kill everything the bed started and remove its namespaces and bridge (safe to call twice)."""
        for node in self.state.nodes:
            pids = _run(["ip", "netns", "pids", node.netns], check=False).stdout.split()
            for sig in (signal.SIGTERM, signal.SIGKILL):
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError, ValueError):
                        os.kill(int(pid), sig)
                time.sleep(0.3)
        for node in self.state.nodes:
            if node.sshd_pid > 0:  # also when it is missing from the netns's pid list
                with contextlib.suppress(ProcessLookupError):
                    os.kill(node.sshd_pid, signal.SIGKILL)
            _run(["ip", "netns", "del", node.netns], check=False)
            _run(["ip", "link", "del", f"{self.tag}-v{node.index}"], check=False)
        for name in list(self.state.pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.state.pids[name], signal.SIGTERM)
        time.sleep(0.2)
        for daemon_pid in self.state.pids.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(daemon_pid, signal.SIGKILL)
        _run(["ip", "link", "del", self.state.bridge], check=False)
        self.state.pids.clear()
        self.state.nodes.clear()
        if self.base.exists():
            self._save()

    def _save(self) -> None:
        (self.base / "testbed.json").write_text(json.dumps(asdict(self.state), indent=2))

    @classmethod
    def load(cls, base: Path) -> Testbed:
        """A handle on a bed started earlier (by the CLI) from its state file."""
        data = json.loads((Path(base) / "testbed.json").read_text())
        port = int(data.get("harbor_port", 8080))
        bed = cls(Path(data["base"]), [n["flavor"] for n in data["nodes"]], data["subnet"], data["tag"], port)
        bed.state = BedState(data["base"], data["subnet"], data["tag"], data["bridge"], data["pids"],
                             [Node(**n) for n in data["nodes"]], port)
        ca = bed.base / "tls" / "ca.crt"
        bed.ca_pem = ca.read_text() if ca.exists() else ""
        return bed

    def status(self) -> dict[str, Any]:
        """Liveness of every process and node."""
        def alive(pid: int) -> bool:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return False
            return True
        return {
            "base": str(self.base), "host": self.host_addr,
            "processes": {k: alive(v) for k, v in self.state.pids.items()},
            "nodes": [{"name": n.name, "addr": n.addr, "flavor": n.flavor, "sshd": alive(n.sshd_pid),
                       "containerd": n.containerd_running() if alive(n.sshd_pid) else False}
                      for n in self.state.nodes],
            "image": self.image_ref(), "ssh_key": str(self.client_key),
        }

    # ---- pieces
    def _network(self) -> None:
        br = self.state.bridge
        _run(["ip", "link", "del", br], check=False)
        _run(["ip", "link", "add", br, "type", "bridge"])
        _run(["ip", "addr", "add", f"{self.host_addr}/16", "dev", br])
        _run(["ip", "link", "set", br, "up"])

    def _keys(self) -> None:
        ssh = self.base / "ssh"
        ssh.mkdir(exist_ok=True)
        if not self.client_key.exists():
            _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.client_key)])
        own = Path(str(self.client_key) + ".pub").read_text().strip()
        (ssh / "authorized_keys").write_text("\n".join([own, *self.authorized_keys]) + "\n")
        tls = self.base / "tls"
        tls.mkdir(exist_ok=True)
        if not (tls / "server.crt").exists():
            ext = tls / "san.ext"
            ext.write_text(f"subjectAltName=DNS:{HARBOR_NAME},IP:{self.host_addr}\n")
            for cmd in (
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "7", "-subj",
                 "/CN=harbor-cache test CA", "-keyout", str(tls / "ca.key"), "-out", str(tls / "ca.crt")],
                ["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={HARBOR_NAME}",
                 "-keyout", str(tls / "server.key"), "-out", str(tls / "server.csr")],
                ["openssl", "x509", "-req", "-in", str(tls / "server.csr"), "-CA", str(tls / "ca.crt"),
                 "-CAkey", str(tls / "ca.key"), "-CAcreateserial", "-days", "7", "-extfile", str(ext),
                 "-out", str(tls / "server.crt")],
            ):
                _run(cmd)
        self.ca_pem = (tls / "ca.crt").read_text()

    def _spawn(self, name: str, cmd: Sequence[str]) -> None:
        log = open(self.base / "logs" / f"{name}.log", "ab")  # handed to the child
        proc = subprocess.Popen(
            list(cmd), stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
        )
        log.close()
        self.state.pids[name] = proc.pid
        self._save()

    def _registries(self) -> None:
        b, h = self.base, self.host_addr
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
    listen {h}:{self.harbor_port};
    listen {h}:8443 ssl;
    ssl_certificate {b}/tls/server.crt; ssl_certificate_key {b}/tls/server.key;
    access_log {b}/logs/harbor-access.log bed;
    location = /v2/ {{ {proxy} proxy_pass http://mirror_reg/v2/; }}
    location ~ ^/v2/{PROJECT}/(.*)$ {{ {proxy} proxy_pass http://mirror_reg/v2/$1$is_args$args; }}
    location / {{ return 404; }}
  }}
}}
""")
        self._spawn("upstream", ["docker-registry", "serve", str(b / "upstream.yml")])
        self._spawn("nginx", ["nginx", "-c", str(b / "nginx.conf")])
        _wait("upstream registry", lambda: _http_ok(f"http://{h}:5000/v2/"))
        self._spawn("mirror", ["docker-registry", "serve", str(b / "mirror.yml")])  # pings upstream at start
        _wait("mirror behind nginx", lambda: _http_ok(f"http://{h}:{self.harbor_port}/v2/"))

    def _push_image(self) -> None:
        layout = self.base / "image"
        if not (layout / "index.json").exists():
            build_oci_image(layout)
        _run(["skopeo", "copy", "--insecure-policy", "--dest-tls-verify=false", f"oci:{layout}:{IMAGE_TAG}",
              f"docker://{self.host_addr}:5000/{IMAGE_REPO}:{IMAGE_TAG}"], timeout=120)
        self.clear_logs()

    def _start_node(self, i: int, flavor: str) -> Node:
        name = f"node{i}"
        d = self.base / "nodes" / name
        for sub in ("etc-containerd", "var-lib-containerd", "run-containerd", "bin", "sbin", "harbor-cache-state"):
            (d / sub).mkdir(parents=True, exist_ok=True)
        node = Node(name, i, str(d), f"{self.subnet}.1.{10 + i}", f"{self.tag}-{name}", flavor)
        (d / "etc-hosts").write_text(f"127.0.0.1 localhost\n{node.addr} {name}\n")
        restart = d / "bin" / "restart-containerd"
        restart.write_text(_RESTART.format(node=shlex.quote(str(d)), sock=SOCKET))
        restart.chmod(0o755)
        for link, points_to in (("restart-containerd", restart), ("crictl", crictl_bin())):
            (d / "sbin" / link).unlink(missing_ok=True)
            (d / "sbin" / link).symlink_to(points_to)
        hostkey = d / "ssh_host_ed25519_key"
        if not hostkey.exists():
            _run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(hostkey)])
        (d / "sshd_config").write_text(
            f"ListenAddress {node.addr}\nPort 22\nHostKey {hostkey}\nPidFile {d}/sshd.pid\n"
            f"AuthorizedKeysFile {self.base}/ssh/authorized_keys\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\n"
            "MaxStartups 64\nMaxSessions 64\nLogLevel INFO\n")
        ns, veth = node.netns, f"{self.tag}-v{i}"
        _run(["ip", "netns", "del", ns], check=False)
        _run(["ip", "netns", "add", ns])
        _run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns])
        _run(["ip", "link", "set", veth, "master", self.state.bridge, "up"])
        _run(["ip", "-n", ns, "addr", "add", f"{node.addr}/16", "dev", "eth0"])
        _run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        _run(["ip", "-n", ns, "link", "set", "lo", "up"])
        for target in ("/var/lib/containerd", "/run/containerd", "/etc/containerd", NODE_STATE_DIR):
            Path(target).mkdir(parents=True, exist_ok=True)  # mount points (stay empty on the host)
        binds = [(d / "etc-containerd", "/etc/containerd"), (d / "var-lib-containerd", "/var/lib/containerd"),
                 (d / "run-containerd", "/run/containerd"), (d / "etc-hosts", "/etc/hosts"),
                 (d / "sbin", "/usr/local/sbin"), (d / "harbor-cache-state", NODE_STATE_DIR)]
        if flavor != "1.6":
            v2 = containerd2_bin()
            binds += [(v2 / "containerd", "/usr/bin/containerd"), (v2 / "ctr", "/usr/bin/ctr")]
        mounts = " && ".join(f"mount --bind {shlex.quote(str(s))} {t}" for s, t in binds)
        inner = f"{mounts} && exec /usr/sbin/sshd -D -f {d}/sshd_config -E {d}/sshd.log"
        log = open(d / "sshd.out", "ab")  # handed to the child
        proc = subprocess.Popen(["ip", "netns", "exec", ns, "unshare", "--mount", "--propagation", "private",
                                 "sh", "-c", inner], stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        log.close()
        node.sshd_pid = proc.pid
        _wait(f"sshd on {name}", lambda: _tcp_open(node.addr, 22))
        (d / "etc-containerd" / "config.toml").write_text(node.stock_config())
        node.restart_containerd()
        return node

    # ---- logs
    def clear_logs(self) -> None:
        """Truncate the access logs (nginx keeps appending to the same files)."""
        for name in ("upstream-access.log", "harbor-access.log"):
            p = self.base / "logs" / name
            if p.exists():
                p.write_text("")

    def _requests(self, name: str) -> list[dict[str, str]]:
        p = self.base / "logs" / name
        out = []
        for line in p.read_text().splitlines() if p.exists() else []:
            addr, _, rest = line.partition(' "')
            request, _, tail = rest.partition('" ')
            parts = request.split()
            parts += ["", ""]
            out.append({"client": addr, "method": parts[0], "path": parts[1],
                        "status": tail.split()[0] if tail else ""})
        return out

    def harbor_requests(self) -> list[dict[str, str]]:
        """Requests that reached the Harbor-shaped endpoint (nginx in front of the mirror)."""
        return self._requests("harbor-access.log")

    def upstream_requests(self, client: str | None = None) -> list[dict[str, str]]:
        """Requests that reached the upstream registry, optionally only from one client address."""
        reqs = self._requests("upstream-access.log")
        return [r for r in reqs if client is None or r["client"] == client]


def _main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tests.support.testbed", description=__doc__.split("\n\n")[0])
    ap.add_argument("action", choices=["up", "down", "status"])
    ap.add_argument("--dir", required=True, type=Path, help="bed directory (state, logs, keys)")
    ap.add_argument("--nodes", type=int, default=2, help="number of nodes (up)")
    ap.add_argument("--containerd2", action="store_true", help="every second node runs containerd 2.x")
    ap.add_argument("--subnet", default="10.251", help="first two octets of the bed's /16")
    ap.add_argument("--harbor-port", type=int, default=8080, help="HTTP port of the Harbor-shaped pull path")
    ap.add_argument("--authorized-key", action="append", default=[], help="another public key nodes accept")
    args = ap.parse_args(argv)
    if args.action == "up":
        flavors = ["2" if args.containerd2 and i % 2 else "1.6" for i in range(args.nodes)]
        bed = Testbed(args.dir, flavors, args.subnet, harbor_port=args.harbor_port,
                      authorized_keys=args.authorized_key)
        try:
            bed.start()
        except BaseException:
            bed.stop()
            raise
        print(json.dumps(bed.status(), indent=2))
        return 0
    if not (args.dir / "testbed.json").exists():
        print(f"no bed in {args.dir}", file=sys.stderr)
        return 1
    bed = Testbed.load(args.dir)
    if args.action == "status":
        print(json.dumps(bed.status(), indent=2))
    else:
        bed.stop()
        print(f"bed in {args.dir} is down")
    return 0


def iter_flavors(available_v2: bool) -> Iterator[str]:
    """The containerd flavors tests should cover: Debian's 1.6, and the 2.x build when present."""
    yield "1.6"
    if available_v2:
        yield "2"


if __name__ == "__main__":
    sys.exit(_main())
