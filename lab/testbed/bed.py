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

    python -m lab testbed up --nodes 2 --dir /tmp/bed [--containerd2] [--subnet 10.251]
    python -m lab testbed status --dir /tmp/bed
    python -m lab testbed down --dir /tmp/bed
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from lab.paths import ROOT
from lab.testbed import upstream_health
from lab.testbed.commands import http_ok, run, tcp_open, wait_until
from lab.testbed.image import build_oci_image
from lab.testbed.layout import HARBOR_NAME, IMAGE_REPO, IMAGE_TAG, NODE_STATE_DIR, SOCKET, UPSTREAM_HOST
from lab.testbed.node import RESTART_SCRIPT, Node
from lab.testbed.registries import (
    CHALLENGE,
    parse_access_log,
    write_configs,
    write_plain_projects,
    write_realm,
    write_tls_server,
)
from lab.testbed.tools import containerd2_bin, crictl_bin, tools_ready
from lab.testbed.upstreams import ExtraUpstream, unix_socket_open, write_routes, write_upstream


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
    extra_upstreams: dict[str, dict[str, Any]] = field(default_factory=dict)


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
            pids = run(["ip", "netns", "pids", node.netns], check=False).stdout.split()
            for sig in (signal.SIGTERM, signal.SIGKILL):
                for pid in pids:
                    with contextlib.suppress(ProcessLookupError, ValueError):
                        os.kill(int(pid), sig)
                time.sleep(0.3)
        for node in self.state.nodes:
            if node.sshd_pid > 0:  # also when it is missing from the netns's pid list
                with contextlib.suppress(ProcessLookupError):
                    os.kill(node.sshd_pid, signal.SIGKILL)
            run(["ip", "netns", "del", node.netns], check=False)
            run(["ip", "link", "del", f"{self.tag}-v{node.index}"], check=False)
        for name in list(self.state.pids):
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.state.pids[name], signal.SIGTERM)
        time.sleep(0.2)
        for daemon_pid in self.state.pids.values():
            with contextlib.suppress(ProcessLookupError):
                os.kill(daemon_pid, signal.SIGKILL)
        run(["ip", "link", "del", self.state.bridge], check=False)
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
                             [Node(**n) for n in data["nodes"]], port,
                             data.get("extra_upstreams", {}))
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
        run(["ip", "link", "del", br], check=False)
        run(["ip", "link", "add", br, "type", "bridge"])
        run(["ip", "addr", "add", f"{self.host_addr}/16", "dev", br])
        run(["ip", "link", "set", br, "up"])

    def _keys(self) -> None:
        ssh = self.base / "ssh"
        ssh.mkdir(exist_ok=True)
        if not self.client_key.exists():
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(self.client_key)])
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
                run(cmd)
        self.ca_pem = (tls / "ca.crt").read_text()

    def _spawn(self, name: str, cmd: Sequence[str], cwd: Path | None = None) -> None:
        log = open(self.base / "logs" / f"{name}.log", "ab")  # handed to the child
        proc = subprocess.Popen(
            list(cmd), stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True, cwd=cwd
        )
        log.close()
        self.state.pids[name] = proc.pid
        self._save()

    def _registries(self) -> None:
        b, h = self.base, self.host_addr
        write_configs(b, h, self.harbor_port)
        self._spawn("upstream", ["docker-registry", "serve", str(b / "upstream.yml")])
        self._spawn("nginx", ["nginx", "-c", str(b / "nginx.conf")])
        wait_until("upstream registry", lambda: http_ok(f"http://{h}:5000/v2/"))
        self._spawn("mirror", ["docker-registry", "serve", str(b / "mirror.yml")])  # pings upstream at start
        self._spawn("local", ["docker-registry", "serve", str(b / "local.yml")])
        self._spawn("upstream-health", [sys.executable, "-m", "lab", "testbed", "upstream-health", "--dir", str(b)],
                    cwd=ROOT)
        wait_until("mirror behind nginx", lambda: http_ok(f"http://{h}:{self.harbor_port}/v2/", token="bed"))  # noqa: S106 - any token passes

    def _push_image(self) -> None:
        layout = self.base / "image"
        if not (layout / "index.json").exists():
            build_oci_image(layout)
        run(["skopeo", "copy", "--insecure-policy", "--dest-tls-verify=false", f"oci:{layout}:{IMAGE_TAG}",
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
        restart.write_text(RESTART_SCRIPT.format(node=shlex.quote(str(d)), sock=SOCKET))
        restart.chmod(0o755)
        for link, points_to in (("restart-containerd", restart), ("crictl", crictl_bin())):
            (d / "sbin" / link).unlink(missing_ok=True)
            (d / "sbin" / link).symlink_to(points_to)
        hostkey = d / "ssh_host_ed25519_key"
        if not hostkey.exists():
            run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(hostkey)])
        (d / "sshd_config").write_text(
            f"ListenAddress {node.addr}\nPort 22\nHostKey {hostkey}\nPidFile {d}/sshd.pid\n"
            f"AuthorizedKeysFile {self.base}/ssh/authorized_keys\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\n"
            "MaxStartups 64\nMaxSessions 64\nLogLevel INFO\n")
        ns, veth = node.netns, f"{self.tag}-v{i}"
        run(["ip", "netns", "del", ns], check=False)
        run(["ip", "netns", "add", ns])
        run(["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns])
        run(["ip", "link", "set", veth, "master", self.state.bridge, "up"])
        run(["ip", "-n", ns, "addr", "add", f"{node.addr}/16", "dev", "eth0"])
        run(["ip", "-n", ns, "link", "set", "eth0", "up"])
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
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
        wait_until(f"sshd on {name}", lambda: tcp_open(node.addr, 22))
        (d / "etc-containerd" / "config.toml").write_text(node.stock_config())
        node.restart_containerd()
        return node

    def serve_https(self, port: int, cert_pem: str, key_pem: str) -> None:
        """Serve Harbor's pull path over HTTPS on ``<host_addr>:port`` with this certificate (nginx reloads)."""
        write_tls_server(self.base, self.host_addr, port, cert_pem, key_pem)
        self._reload_nginx()
        wait_until(f"HTTPS pull path on :{port}", lambda: tcp_open(self.host_addr, port))

    def _reload_nginx(self) -> None:
        run(["nginx", "-c", str(self.base / "nginx.conf"), "-s", "reload"])
        time.sleep(0.5)  # the new worker takes over

    def set_realm(self, realm: str | None) -> None:
        """Announce another token realm on Harbor's pull path (None: the address the client used), as a Harbor
        with another externalURL does; nginx reloads its configuration."""
        write_realm(self.base, realm)
        self._reload_nginx()

    def serve_plain_projects(self, projects: Sequence[str]) -> None:
        """Serve these projects as Harbor serves plain (replicated) projects: the local copy, never the upstream."""
        write_plain_projects(self.base, list(projects))
        self._reload_nginx()

    def check_upstream_every(self, seconds: float) -> None:
        """How often the pull path's stand-in for Harbor's registry health check runs (Harbor: every 300 s)."""
        upstream_health.set_interval(self.base, seconds)

    # ---- more upstreams (lab/testbed/upstreams.py)
    def add_upstream(self, up: ExtraUpstream) -> None:
        """Start another upstream registry, with its own proxying registry, holding the test image under
        ``up.repo``; nginx serves it on ``<host_addr>:<up.port>``. Route projects to it with route_projects."""
        upstream, mirror = write_upstream(self.base, self.host_addr, up)
        self._spawn(upstream, ["docker-registry", "serve", str(self.base / f"{upstream}.yml")])
        self._reload_nginx()
        wait_until(f"upstream {up.name}", lambda: http_ok(f"{up.url(self.host_addr)}/v2/"))
        self._spawn(mirror, ["docker-registry", "serve", str(self.base / f"{mirror}.yml")])  # pings its upstream
        wait_until(f"{mirror} registry", lambda: unix_socket_open(self.base / f"{mirror}.sock"))
        layout = self.base / "image"
        if not (layout / "index.json").exists():
            build_oci_image(layout)
        run(["skopeo", "copy", "--insecure-policy", "--dest-tls-verify=false", f"oci:{layout}:{IMAGE_TAG}",
             f"docker://{self.host_addr}:{up.port}/{up.repo}:{IMAGE_TAG}"], timeout=120)
        self.state.extra_upstreams[up.name] = asdict(up)
        self._save()

    def route_projects(self, routes: dict[str, str]) -> None:
        """Serve each proxy-cache project (``{project: extra upstream name}``) from that upstream's proxying
        registry, as Harbor serves a project from its own registry endpoint; other projects stay on the first."""
        write_routes(self.base, routes, CHALLENGE)
        self._reload_nginx()

    def extra_upstream_requests(self, name: str, client: str | None = None) -> list[dict[str, str]]:
        """Requests that reached the extra upstream ``name``, optionally only from one client address."""
        reqs = self._requests(f"{name}-upstream-access.log")
        return [r for r in reqs if client is None or r["client"] == client]

    # ---- logs
    def clear_logs(self) -> None:
        """Truncate the access logs (nginx keeps appending to the same files)."""
        for name in ("upstream-access.log", "harbor-access.log"):
            p = self.base / "logs" / name
            if p.exists():
                p.write_text("")

    def _requests(self, name: str) -> list[dict[str, str]]:
        return parse_access_log(self.base / "logs" / name)

    def harbor_requests(self) -> list[dict[str, str]]:
        """Requests that reached the Harbor-shaped endpoint (nginx in front of the mirror)."""
        return self._requests("harbor-access.log")

    def upstream_requests(self, client: str | None = None) -> list[dict[str, str]]:
        """Requests that reached the upstream registry, optionally only from one client address."""
        reqs = self._requests("upstream-access.log")
        return [r for r in reqs if client is None or r["client"] == client]
