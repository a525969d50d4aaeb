"""A local Kubernetes control plane (etcd, kube-apiserver and kube-controller-manager on loopback) for the
sandbox, tests and people.

kube-controller-manager runs Kubernetes' own controllers (CONTROLLERS): namespace deletion, garbage collection
(owner references, foreground deletion), Deployments -> ReplicaSets -> Pods, StatefulSets, service accounts and
their tokens, PVC protection. No scheduler or kubelet runs, so Pods stay Pending.

Each instance lives in its own state folder and picks free ports, so several can run side by side. Processes
are started in their own session and recorded in ``state.json``, so another process (the CLI's ``stop``) can
stop them.
"""

from __future__ import annotations

import os
import shutil
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Any

from lab.kube.pki import kubeconfig_text, make_pki
from lab.kube.tools import KubeError, apply_manifests, find_binaries, find_controller_manager, run_kubectl
from lab.processes import (
    free_port,
    pid_alive,
    process_start_time,
    read_state,
    spawn_logged,
    stop_process_group,
    tail,
    write_state,
)

SERVICE_CIDR = "10.0.0.0/24"
COMPONENTS = ("etcd", "apiserver", "controller-manager")
CONTROLLERS = (
    "namespace-controller", "garbage-collector-controller", "deployment-controller", "replicaset-controller",
    "statefulset-controller", "daemonset-controller", "job-controller", "serviceaccount-controller",
    "serviceaccount-token-controller", "root-ca-certificate-publisher-controller",
    "persistentvolumeclaim-protection-controller", "persistentvolume-protection-controller",
    "endpointslice-controller",
)


class _PortTaken(KubeError):
    """A process lost the race for a port it was given; start() retries with new ports."""


class LocalKube:
    """etcd, kube-apiserver and kube-controller-manager on 127.0.0.1 with an admin kubeconfig, in ``state_dir``.

    Use ``with LocalKube(path) as kube:`` or ``start()``/``stop()``. ``LocalKube(path)`` on the folder of a
    running instance (started by another process) attaches to it, so ``stop()`` works from anywhere.
    """

    def __init__(self, state_dir: str | os.PathLike[str], ready_timeout: float = 90.0) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.ready_timeout = ready_timeout
        self.pki_dir = self.state_dir / "pki"
        self.log_dir = self.state_dir / "logs"
        self.kubeconfig_path = self.state_dir / "kubeconfig"
        self.controller_manager_kubeconfig = self.state_dir / "controller-manager.kubeconfig"
        self.state_file = self.state_dir / "state.json"
        self.start_seconds: float | None = None
        self._procs: dict[str, subprocess.Popen[bytes]] = {}  # children of this process, to reap them
        self._state: dict[str, Any] = self._load_state()

    # public API

    @property
    def server_url(self) -> str:
        """https://127.0.0.1:<port> of the API server (after start, or when attached)."""
        if "apiserver" not in self._state:
            raise KubeError(f"no control plane recorded in {self.state_dir}; call start() first")
        return f"https://127.0.0.1:{self._state['apiserver']['port']}"

    @property
    def etcd_url(self) -> str:
        """http://127.0.0.1:<port> of etcd."""
        return f"http://127.0.0.1:{self._state['etcd']['port']}"

    @property
    def pids(self) -> dict[str, int]:
        """Process ids by component (empty when not started)."""
        return {
            name: self._state[name]["pid"]
            for name in COMPONENTS
            if "pid" in self._state.get(name, {})
        }

    def is_running(self) -> bool:
        """All three processes are alive."""
        pids = self.pids
        return len(pids) == len(COMPONENTS) and all(
            pid_alive(pid, self._state[name]["start_time"]) for name, pid in pids.items()
        )

    def is_ready(self) -> bool:
        """The API server answers /readyz with 200."""
        return self.is_running() and self._get("/readyz")[0] == 200

    def env(self) -> dict[str, str]:
        """Environment variables that point kubectl and the Pulumi provider at this cluster."""
        return {"KUBECONFIG": str(self.kubeconfig_path)}

    def start(self) -> LocalKube:
        """Start etcd, kube-apiserver and kube-controller-manager and wait until they answer; a no-op if this
        instance already runs."""
        if self.is_ready():
            return self
        self.stop()  # stale or half-started: clean it first
        apiserver, etcd = find_binaries()
        began = time.monotonic()
        for attempt in range(3):
            try:
                self._start_once(apiserver, etcd)
                break
            except _PortTaken:
                self.stop()
                if attempt == 2:
                    raise
            except BaseException:
                self.stop()
                raise
        self.start_seconds = time.monotonic() - began
        return self

    def stop(self, keep_logs: bool = True) -> None:
        """Stop the processes and remove etcd data, certificates, kubeconfigs and state (logs stay)."""
        pids = self.pids
        for name in reversed(COMPONENTS):
            if name in pids:
                stop_process_group(pids[name], self._state[name]["start_time"])
        for proc in self._procs.values():
            proc.poll()
        self._procs = {}
        self._state = {}
        for path in (self.state_dir / "etcd-data", self.pki_dir, self.state_dir / "controller-manager-certs"):
            shutil.rmtree(path, ignore_errors=True)
        for path in (self.kubeconfig_path, self.controller_manager_kubeconfig, self.state_file):
            path.unlink(missing_ok=True)
        if not keep_logs:
            shutil.rmtree(self.log_dir, ignore_errors=True)

    def restart_apiserver(self, down_seconds: float = 0.0) -> float:
        """Stop kube-apiserver (SIGTERM, then SIGKILL), keep it down ``down_seconds``, start it again on the same
        port and etcd (the cluster's data stays), and wait until it is ready; returns the seconds it was
        unreachable. A fault for the sandbox (docs/faults.md); etcd and kube-controller-manager keep running."""
        proc = self._state["apiserver"]
        stop_process_group(proc["pid"], proc["start_time"], timeout=5.0)
        stopped = time.monotonic()
        time.sleep(down_seconds)
        apiserver, _ = find_binaries()
        self._spawn("apiserver", self._apiserver_argv(apiserver, self._state["etcd"]["port"], proc["port"]))
        self._wait_ready()
        return time.monotonic() - stopped

    def kubectl(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run kubectl against this cluster and return the completed process (text output)."""
        return run_kubectl(self.kubeconfig_path, *args, check=check, timeout=timeout)

    def apply_manifests(self, paths: Iterable[str | os.PathLike[str]]) -> list[str]:
        """Server-side apply files or folders; see the module-level apply_manifests."""
        return apply_manifests(paths, self.kubeconfig_path)

    def __enter__(self) -> LocalKube:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # internals

    def _load_state(self) -> dict[str, Any]:
        return read_state(self.state_file)

    def _save_state(self) -> None:
        write_state(self.state_file, self._state)

    def _spawn(self, name: str, argv: list[str]) -> None:
        proc, offset = spawn_logged(argv, self.log_dir / f"{name}.log", self.state_dir)
        self._procs[name] = proc
        self._state[name].update(log_offset=offset, pid=proc.pid, start_time=process_start_time(proc.pid))
        self._save_state()

    def _start_once(self, apiserver: Path, etcd: Path) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        make_pki(self.pki_dir)
        ports = [free_port() for _ in range(4)]
        while len(set(ports)) < 4:
            ports = [free_port() for _ in range(4)]
        etcd_port, peer_port, api_port, kcm_port = ports
        self._state = {"etcd": {"port": etcd_port, "peer_port": peer_port}, "apiserver": {"port": api_port},
                       "controller-manager": {"port": kcm_port}}
        self._spawn("etcd", self._etcd_argv(etcd, etcd_port, peer_port))
        self._spawn("apiserver", self._apiserver_argv(apiserver, etcd_port, api_port))
        for path, client in ((self.kubeconfig_path, "admin"), (self.controller_manager_kubeconfig,
                                                               "controller-manager")):
            path.write_text(kubeconfig_text(self.server_url, self.pki_dir, client=client))
            path.chmod(0o600)
        self._wait_ready()
        # Looked up once the API server runs (a missing build is named then, with the fix).
        self._spawn("controller-manager", self._controller_manager_argv(find_controller_manager(), kcm_port))
        self._wait_controller_manager()

    def _etcd_argv(self, etcd: Path, port: int, peer_port: int) -> list[str]:
        client, peer = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{peer_port}"
        return [
            str(etcd),
            "--name=local",
            f"--data-dir={self.state_dir / 'etcd-data'}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=local={peer}",
            "--unsafe-no-fsync",
            "--log-level=warn",
        ]

    def _apiserver_argv(self, apiserver: Path, etcd_port: int, port: int) -> list[str]:
        pki = self.pki_dir
        return [
            str(apiserver),
            f"--etcd-servers=http://127.0.0.1:{etcd_port}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={port}",
            f"--cert-dir={pki}",
            f"--tls-cert-file={pki / 'apiserver.crt'}",
            f"--tls-private-key-file={pki / 'apiserver.key'}",
            f"--client-ca-file={pki / 'ca.crt'}",
            f"--service-account-issuer=https://127.0.0.1:{port}",
            f"--service-account-key-file={pki / 'sa.pub'}",
            f"--service-account-signing-key-file={pki / 'sa.key'}",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            "--authorization-mode=RBAC",
            "--disable-admission-plugins=ServiceAccount",
            "--allow-privileged=true",
            "--profiling=false",
            "--v=0",
        ]

    def _controller_manager_argv(self, binary: Path, port: int) -> list[str]:
        pki = self.pki_dir
        return [
            str(binary),
            f"--kubeconfig={self.controller_manager_kubeconfig}",
            f"--controllers={','.join(CONTROLLERS)}",
            "--use-service-account-credentials=false",
            f"--service-account-private-key-file={pki / 'sa.key'}",
            f"--root-ca-file={pki / 'ca.crt'}",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            f"--secure-port={port}",
            f"--cert-dir={self.state_dir / 'controller-manager-certs'}",
            "--profiling=false",
            "--v=0",
        ]

    def _get(self, path: str) -> tuple[int, str]:
        """GET path with the admin certificate; (0, error) when unreachable."""
        try:
            ctx = ssl.create_default_context(cafile=str(self.pki_dir / "ca.crt"))
            ctx.load_cert_chain(str(self.pki_dir / "admin.crt"), str(self.pki_dir / "admin.key"))
            with urllib.request.urlopen(self.server_url + path, context=ctx, timeout=5) as resp:  # noqa: S310 (https)
                return int(resp.status), resp.read().decode(errors="replace")
        except urllib.error.HTTPError as err:
            return int(err.code), err.read().decode(errors="replace")
        except (OSError, ssl.SSLError) as err:
            return 0, str(err)

    def _check_alive(self) -> None:
        for name in COMPONENTS:
            proc = self._state.get(name, {})
            if "pid" in proc and not pid_alive(proc["pid"], proc["start_time"]):
                log = tail(self.log_dir / f"{name}.log", offset=self._state[name]["log_offset"])
                if "address already in use" in log:
                    raise _PortTaken(f"{name}: port taken")
                where = self.log_dir / f"{name}.log"
                raise KubeError(f"{name} exited during start; last lines of {where}:\n{log}")

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        status, body = 0, ""
        while time.monotonic() < deadline:
            self._check_alive()
            status, body = self._get("/readyz")
            # Pulumi objects without a namespace land in "default", which a bootstrap hook creates.
            if status == 200 and self._get("/api/v1/namespaces/default")[0] == 200:
                return
            time.sleep(0.1)
        detail = self._get("/readyz?verbose")[1] if status else body
        raise KubeError(
            f"kube-apiserver at {self.server_url} not ready after {self.ready_timeout:.0f}s "
            f"(last /readyz: {status} {detail.strip()[-1500:]}).\n"
            f"Last lines of {self.log_dir / 'apiserver.log'}:\n"
            + tail(self.log_dir / "apiserver.log", offset=self._state["apiserver"]["log_offset"])
        )

    def _wait_controller_manager(self) -> None:
        """Wait for kube-controller-manager's /healthz (its own self-signed serving certificate)."""
        port = self._state["controller-manager"]["port"]
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # loopback only; the certificate is one it made for itself at start
        deadline = time.monotonic() + self.ready_timeout
        last = ""
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                url = f"https://127.0.0.1:{port}/healthz"
                with urllib.request.urlopen(url, context=ctx, timeout=5) as resp:  # noqa: S310 (https)
                    if resp.status == 200:
                        return
            except urllib.error.HTTPError as err:
                last = f"{err.code} {err.read().decode(errors='replace')[-500:]}"
            except OSError as err:
                last = str(err)
            time.sleep(0.1)
        log = self.log_dir / "controller-manager.log"
        raise KubeError(
            f"kube-controller-manager not healthy after {self.ready_timeout:.0f}s (last /healthz: {last}).\n"
            f"Last lines of {log}:\n" + tail(log, offset=self._state["controller-manager"]["log_offset"])
        )
