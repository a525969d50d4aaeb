"""A whole harbor-cache sandbox on this machine, shared by ``scripts/sandbox``, the e2e tests and the benchmarks
(needs root).

Pieces: a local etcd, kube-apiserver and kube-controller-manager (``LocalKube``) with the real cert-manager and
Kyverno CRDs (lab/kube/crds.py), cert-manager's own controller in the background (lab/controllers/cert_manager.py),
Kyverno's real admission controller as the API server's mutating webhook on loopback
(lab/controllers/kyverno_admission.py, when built: ``scripts/setup`` builds it, ``scripts/setup demo`` does not, as
the demo stack rewrites no images), the node test bed (namespace nodes with sshd + containerd, the upstream
registry, two more upstreams each routed to its own project ``hub`` and ``generic``: lab/testbed/upstreams.py,
Harbor's pull path on ``harbor_port``) and the Harbor API double on loopback. The Helm release installs
the real Harbor chart from ../shared/charts (``chart_values``). Everything lives in one directory; ``sandbox.json``
there records addresses and process ids, so ``Sandbox.attach(dir)`` works from another process (``scripts/sandbox
status|down``).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from components.rules import DOCKER_HUB_URL
from components.settings.harbor import ChartRef
from lab.controllers import Controllers, cert_manager
from lab.controllers.kyverno_admission import KyvernoAdmission, find_kyverno_admission
from lab.harbor_double.client import DoubleClient
from lab.kube import KubeToolsMissing, LocalKube, crd_files
from lab.paths import ROOT, harbor_chart
from lab.processes import pid_alive, process_start_time, stop_process_group
from lab.testbed import (
    IMAGE_REPO,
    IMAGE_TAG,
    NODE_HEALTH_COMMAND,
    NODE_RESTART_COMMAND,
    Testbed,
    containerd2_bin,
)
from lab.testbed.upstreams import SANDBOX_UPSTREAMS


def default_flavors(count: int = 3) -> list[str]:
    """containerd 1.6 on every node, and the 2.x build on the last one when it has been built."""
    flavors = ["1.6"] * count
    if count > 1 and (containerd2_bin() / "containerd").exists():
        flavors[-1] = "2"
    return flavors


def chart_values(version: str | None = None) -> dict[str, str]:
    """The ``harbor.chart`` setting for the real chart at `version` (default: the program's default version),
    by its absolute path in ../shared/charts (ChartMissing when it is not there)."""
    version = version or ChartRef().version
    return {"name": "harbor", "version": version, "path": str(harbor_chart(version))}


@dataclass
class SandboxSpec:
    """Addresses and secrets of one sandbox (person's: the fixed values of Pulumi.sandbox.yaml)."""

    dir: str
    admin_password: str
    subnet: str = "10.252"
    harbor_port: int = 30002
    double_port: int = 18480
    control_port: int = 18481
    flavors: list[str] = field(default_factory=default_flavors)
    authorized_keys: list[str] = field(default_factory=list)

    @property
    def host_addr(self) -> str:
        """The bridge address: upstream registry on :5000, Harbor's pull path on :harbor_port."""
        return f"{self.subnet}.0.1"

    @property
    def upstream_url(self) -> str:
        return f"http://{self.host_addr}:5000"

    @property
    def image(self) -> str:
        """The test image by its upstream name."""
        return f"{self.host_addr}:5000/{IMAGE_REPO}:{IMAGE_TAG}"

    def node_addresses(self) -> list[str]:
        """Addresses the test bed gives its nodes (node1 = .1.11, ...)."""
        return [f"{self.subnet}.1.{11 + i}" for i in range(len(self.flavors))]


@dataclass
class _Process:
    pid: int
    start_time: int | None


class Sandbox:
    """Start, inspect and stop one sandbox in ``spec.dir``."""

    def __init__(self, spec: SandboxSpec) -> None:
        self.spec = spec
        self.dir = Path(spec.dir).resolve()
        self.kube = LocalKube(self.dir / "kube")
        self.controllers = Controllers(self.dir / "controllers")
        self.kyverno = KyvernoAdmission(self.dir / "kyverno", self.kube.kubeconfig_path)
        self.bed = Testbed(self.dir / "bed", spec.flavors, spec.subnet, harbor_port=spec.harbor_port,
                           authorized_keys=spec.authorized_keys)
        self.double = DoubleClient(f"http://127.0.0.1:{spec.double_port}",
                                   f"http://127.0.0.1:{spec.control_port}", spec.admin_password)
        self.processes: dict[str, _Process] = {}
        self.timings: dict[str, float] = {}

    # ---- addresses other code needs

    @property
    def kubeconfig(self) -> Path:
        return self.kube.kubeconfig_path

    @property
    def state_file(self) -> Path:
        return self.dir / "sandbox.json"

    # ---- lifecycle

    def up(self) -> Sandbox:
        """Start every piece (stopping leftovers of an earlier run first); records ``timings['start']``."""
        began = time.monotonic()
        self.down()
        self.dir.mkdir(parents=True, exist_ok=True)
        (self.dir / "logs").mkdir(exist_ok=True)
        try:
            self.kube.start()
            self.kube.apply_manifests(crd_files())
            self.controllers.start([cert_manager(self.kubeconfig, self.controllers.state_dir)])
            self._start_kyverno()
            self._start_double()
            self.bed.start()
            for extra in SANDBOX_UPSTREAMS:  # a Docker Hub stand-in and a generic registry (issue 17)
                self.bed.add_upstream(extra)
            self.bed.route_projects({extra.name: extra.name for extra in SANDBOX_UPSTREAMS})
        except BaseException:
            self.down()
            raise
        self.timings["start"] = round(time.monotonic() - began, 1)
        self._save()
        return self

    def down(self) -> None:
        """Stop everything this sandbox started (also one started by another process) and wipe its state."""
        self._load_processes()
        for name in list(self.processes):
            proc = self.processes.pop(name)
            stop_process_group(proc.pid, proc.start_time, timeout=10.0)
        self.controllers.stop()
        self.kyverno.stop()
        bed_state = self.dir / "bed" / "testbed.json"
        if bed_state.exists():
            Testbed.load(self.dir / "bed").stop()
        self.bed.stop()
        self.kube.stop()
        shutil.rmtree(self.dir / "harbor-double", ignore_errors=True)
        self.state_file.unlink(missing_ok=True)

    @classmethod
    def attach(cls, directory: Path) -> Sandbox:
        """A handle on a sandbox started by another process (from its ``sandbox.json``)."""
        data = json.loads((Path(directory) / "sandbox.json").read_text())
        box = cls(SandboxSpec(**data["spec"]))
        box.processes = {k: _Process(**v) for k, v in data["processes"].items()}
        box.timings = data.get("timings", {})
        bed_dir = Path(directory) / "bed"
        if (bed_dir / "testbed.json").exists():
            box.bed = Testbed.load(bed_dir)
        return box

    def status(self) -> dict[str, Any]:
        """Liveness of every piece."""
        bed = self.bed.status() if self.bed.nodes else {}
        return {
            "dir": str(self.dir), "kubeconfig": str(self.kubeconfig), "api_server_ready": self.kube.is_ready(),
            "processes": {name: pid_alive(p.pid, p.start_time) for name, p in self.processes.items()},
            "controllers": self.controllers.running(),
            "kyverno_admission": self._kyverno_status(),
            "harbor_api": {"url": self.double.url, "up": self.double.up()},
            "harbor_pull_path": f"http://{self.spec.host_addr}:{self.spec.harbor_port}",
            "upstream": self.spec.upstream_url, "image": self.spec.image,
            "test_bed": bed.get("processes", {}), "nodes": bed.get("nodes", []),
        }

    # ---- what tests and the demo use

    def node_settings(self) -> dict[str, Any]:
        """The ``harbor-cache:nodes`` value for this sandbox's nodes."""
        return {
            "transport": "ssh", "user": "root",
            "hosts": [{"name": n.name, "address": n.addr} for n in self.bed.nodes],
            "containerd": {"restartCommand": NODE_RESTART_COMMAND, "healthCommand": NODE_HEALTH_COMMAND},
            "verifyImage": self.spec.image,
        }

    def stack_values(self, name: str, nodes: int | None = None) -> dict[str, Any]:
        """harbor-cache settings for a program (a temp copy) on this sandbox: HTTP, the real chart at the
        default version (chart_values), proxy cache plus replication, the first `nodes` nodes (all when None);
        `name` labels the upstream."""
        spec = self.spec
        node_values = self.node_settings()
        if nodes is not None:
            node_values["hosts"] = node_values["hosts"][:nodes]
        return {
            "kubeconfig": str(self.kubeconfig),
            "harbor": {"tlsMode": "http",
                       "chart": chart_values(),
                       "expose": {"type": "nodePort", "nodeAddress": spec.host_addr,
                                  "nodePorts": {"http": spec.harbor_port}},
                       "skipAwait": True, "timeoutSeconds": 120, "apiUrl": self.double.url},
            "upstream": {"name": f"{name}-upstream", "type": "docker-registry", "url": spec.upstream_url,
                         "insecure": True, "accessKeyId": f"{name}-reader"},
            "proxyProject": {"enabled": True, "name": "mif", "public": True},
            "replication": {"enabled": True, "project": "mif-replica", "nameFilter": "quickstart/**"},
            "nodes": node_values,
        }

    def pulled_through_cache(self, node_name: str, image: str | None = None,
                             project: str = "mif") -> tuple[bool, list[dict[str, str]]]:
        """Pull an image (default: the test image by its upstream name) on a node (crictl); True when Harbor's
        path served it.

        The image is forgotten first, so the pull resolves it again: served means nginx logged the node's
        requests under ``/v2/<project>/`` with 200 (the manifest, and the blobs the node's store lacks) and
        the node sent nothing to the upstream registry.
        """
        node = next(n for n in self.bed.nodes if n.name == node_name)
        image = image or self.spec.image
        node.remove_image(image)
        self.bed.clear_logs()
        result = node.crictl("pull", image)
        served = [r for r in self.bed.harbor_requests() if r["client"] == node.addr
                  and r["path"].startswith(f"/v2/{project}/") and r["status"] == "200"]
        direct = self.bed.upstream_requests(node.addr)
        return result.returncode == 0 and bool(served) and not direct, self.bed.harbor_requests()

    def serve_issued_certificate(self, namespace: str, secret: str, port: int, timeout: float = 300) -> None:
        """Serve Harbor's pull path over HTTPS on ``port`` with the certificate the program's TLS chain issued:
        wait until the Certificate's Secret (issued by cert-manager's controller) exists in the local API
        server, then hand its ``tls.crt``/``tls.key`` to the bed's nginx (the role Harbor's own nginx plays)."""
        end = time.monotonic() + timeout
        while True:
            got = self.kube.kubectl("get", "secret", secret, "-n", namespace, "-o", "json", check=False)
            data = json.loads(got.stdout).get("data", {}) if got.returncode == 0 else {}
            if data.get("tls.crt") and data.get("tls.key"):
                break
            if time.monotonic() > end:
                raise TimeoutError(f"the Secret {namespace}/{secret} was not issued within {timeout:.0f}s")
            time.sleep(0.5)
        cert, key = (base64.b64decode(data[k]).decode() for k in ("tls.crt", "tls.key"))
        self.bed.serve_https(port, cert, key)

    # ---- pieces

    def _start_kyverno(self) -> None:
        """Kyverno's admission controller, when it has been built (else ClusterPolicies never become Ready)."""
        try:
            find_kyverno_admission()
        except KubeToolsMissing as err:
            print(f"sandbox: not starting Kyverno: {err}", file=sys.stderr, flush=True)
            return
        began = time.monotonic()
        self.kyverno.start()
        self.timings["kyverno"] = round(time.monotonic() - began, 1)

    def _kyverno_status(self) -> dict[str, Any]:
        if self.kyverno.is_running():
            return {"webhook": f"https://{self.kyverno.server}", "ready": self.kyverno.is_ready()}
        try:
            find_kyverno_admission()
        except KubeToolsMissing as err:
            return {"running": False, "why": str(err)}
        return {"running": False}

    def _start_double(self) -> None:
        state = self.dir / "harbor-double"
        state.mkdir(parents=True, exist_ok=True)
        password = state / "admin-password"
        password.write_text(self.spec.admin_password)
        password.chmod(0o600)
        self._spawn("harbor-double", [
            sys.executable, "-m", "lab", "double", "--port", str(self.spec.double_port),
            "--control-port", str(self.spec.control_port), "--admin-password-file", str(password),
            "--state-dir", str(state),
            # getArtifact of a proxy-cache project answers from what the pull path's registry really holds
            "--setting", "proxy_storage=" + json.dumps({"*": str(self.dir / "bed" / "mirror-data"), **{
                extra.name: str(extra.mirror_storage(self.dir / "bed")) for extra in SANDBOX_UPSTREAMS}}),
            # Harbor's docker-hub adapter checks Docker Hub: here the hub stand-in answers for it
            "--setting", "upstream_map=" + json.dumps({DOCKER_HUB_URL: SANDBOX_UPSTREAMS[0].url(self.spec.host_addr)}),
            # and learns every pull the pull path served (repositories, artifacts, pull counts, bytes used)
            "--setting", "pull_log=" + str(self.dir / "bed" / "logs" / "harbor-pulls.log")])
        end = time.monotonic() + 30
        while not self.double.up():
            if time.monotonic() > end or not pid_alive(self.processes["harbor-double"].pid):
                log = (self.dir / "logs" / "harbor-double.log").read_text()[-2000:]
                raise RuntimeError(f"the Harbor double did not come up on {self.double.url}:\n{log}")
            time.sleep(0.2)

    def _spawn(self, name: str, argv: Sequence[str]) -> None:
        with open(self.dir / "logs" / f"{name}.log", "ab") as log:
            proc = subprocess.Popen(list(argv), cwd=ROOT, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                    start_new_session=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        self.processes[name] = _Process(proc.pid, process_start_time(proc.pid))
        self._save()

    def _save(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        data = {"spec": asdict(self.spec), "processes": {k: asdict(v) for k, v in self.processes.items()},
                "timings": self.timings, "kubeconfig": str(self.kubeconfig), "double_url": self.double.url,
                "double_control_url": self.double.control_url,
                "nodes": [{"name": n.name, "address": n.addr, "flavor": n.flavor} for n in self.bed.nodes]}
        self.state_file.write_text(json.dumps(data, indent=2))

    def _load_processes(self) -> None:
        if not self.processes and self.state_file.exists():
            with contextlib.suppress(ValueError, KeyError, TypeError):
                data = json.loads(self.state_file.read_text())
                self.processes = {k: _Process(**v) for k, v in data["processes"].items()}
