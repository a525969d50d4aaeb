"""Kyverno's real admission controller (``cmd/kyverno`` of the Kyverno module, ``scripts/build-tools
kyverno-admission``) on loopback, registered as the local API server's mutating webhook.

Kyverno runs out of cluster the way its own flags allow (``--kubeconfig``, ``--serverIP``): it listens on
``127.0.0.1:<port>`` (``--webhookServerHost/Port``) and writes that address into the webhook configurations it
manages (``https://<serverIP><path>``), which the API server, also on this host, can call. Kyverno makes its own
CA and serving certificate into Secrets of its namespace (``--caSecretName``/``--tlsSecretName``, with
``127.0.0.1`` as an IP SAN because of ``--serverIP``) and puts the CA into the webhooks' ``caBundle``. It uses the
admin kubeconfig, so no RBAC is needed. Before it starts, ``start()`` applies the CRDs its informers watch
(lab/kube/crds.py ``KYVERNO_ADMISSION``), its namespace and its config ConfigMaps.

Whatever Kyverno does with a policy is its own doing: it validates ClusterPolicies in its policy webhook, adds
their rules to ``kyverno-resource-mutating-webhook-cfg`` and sets their ``Ready`` condition once they are in it.

``KyvernoAdmission(state_dir, kubeconfig)``: ``start()``, ``stop()`` (which also removes the webhook
configurations, as Kyverno does itself when its Deployment goes away in a cluster), ``kill()`` (a crash: the
webhook configurations stay and point at nothing), ``is_running()``. ``state.json`` in ``state_dir`` records the
process, so another process can attach and stop it.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from lab.kube.crds import KYVERNO_ADMISSION, crd_files
from lab.kube.tools import KubeError, KubeToolsMissing, apply_manifests, run_kubectl
from lab.paths import read_versions, tools_root
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

NAMESPACE = "kyverno"
# The names the Kyverno chart gives the Secrets Kyverno fills (kyverno-svc.<namespace>.svc.kyverno-tls-{ca,pair}).
CA_SECRET = "kyverno-svc.kyverno.svc.kyverno-tls-ca"  # noqa: S105 (a Secret's name)
TLS_SECRET = "kyverno-svc.kyverno.svc.kyverno-tls-pair"  # noqa: S105 (a Secret's name)
RESOURCE_MUTATING_WEBHOOK = "kyverno-resource-mutating-webhook-cfg"
MANAGED_BY = "webhook.kyverno.io/managed-by=kyverno"


def find_kyverno_admission() -> Path:
    """The pinned build of Kyverno's admission controller in the tool cache; KubeToolsMissing names the fix."""
    version = read_versions()["KYVERNO_VERSION"]
    folder = tools_root() / f"kyverno-admission-{version}"
    binary = folder / "bin" / "kyverno-admission"
    if (folder / ".done").exists() and binary.is_file():
        return binary
    raise KubeToolsMissing(
        f"Kyverno's admission controller {version} is not built: expected {binary} "
        f"(HARBOR_CACHE_TOOLS={tools_root()}). Run scripts/setup (or scripts/build-tools kyverno-admission).")


def crd_name(path: Path) -> str:
    """``<plural>.<group>`` of a CRD file named ``<group>_<plural>.yaml`` (how Kyverno's module names them)."""
    group, _, plural = path.stem.partition("_")
    return f"{plural}.{group}"


def config_maps(namespace: str = NAMESPACE) -> list[dict[str, Any]]:
    """Kyverno's config ConfigMaps (``kyverno``, ``kyverno-metrics``), with only what matters here: Kyverno leaves
    its own namespace and Events alone (resource filters), and its webhooks skip its namespace."""
    own_namespace = {"namespaceSelector": {"matchExpressions": [
        {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": [namespace]}]}}
    config = {
        "resourceFilters": f"[Event,*,*][*/*,{namespace},*]",
        "webhooks": json.dumps(own_namespace),
        "defaultRegistry": "docker.io",
        "enableDefaultRegistryMutation": "true",
    }
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "namespace": namespace}, "data": data}
        for name, data in (("kyverno", config), ("kyverno-metrics", {}))
    ]


class KyvernoAdmission:
    """Kyverno's admission controller against the API server of ``kubeconfig``, on free loopback ports."""

    def __init__(self, state_dir: str | os.PathLike[str], kubeconfig: str | os.PathLike[str],
                 ready_timeout: float = 120.0) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.kubeconfig = Path(kubeconfig)
        self.ready_timeout = ready_timeout
        self.log_path = self.state_dir / "kyverno.log"
        self.state_file = self.state_dir / "state.json"
        self._proc: subprocess.Popen[bytes] | None = None
        self._state: dict[str, Any] = self._load_state()

    @property
    def server(self) -> str:
        """``127.0.0.1:<port>``: where the webhook server listens and what the webhook URLs name."""
        return f"127.0.0.1:{self._state['port']}"

    def is_running(self) -> bool:
        """The process recorded in state.json is alive."""
        return "pid" in self._state and pid_alive(self._state["pid"], self._state.get("start_time"))

    def is_ready(self) -> bool:
        """Kyverno's readiness probe (its serving certificate is valid) answers 200."""
        return self.is_running() and self._probe() == 200

    def start(self) -> KyvernoAdmission:
        """Apply Kyverno's CRDs, namespace and ConfigMaps, start it (on the port of an earlier start, if any, so
        the webhook configurations it left still point at it) and wait until it is ready and has registered its
        webhooks. A no-op when it already runs."""
        if self.is_ready():
            return self
        binary = find_kyverno_admission()
        self._stop_process()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._apply_crds()
        self._apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}}, *config_maps()])
        port = int(self._state.get("port") or free_port())
        metrics_port = free_port()
        self._state = {"port": port, "metrics_port": metrics_port}
        self._spawn(binary, port, metrics_port)
        try:
            self._wait_ready()
        except BaseException:
            self._stop_process()
            raise
        return self

    def kill(self) -> None:
        """Kill the process (SIGKILL, no clean-up), as a crash would: its webhook configurations stay registered
        and point at a port nothing answers on. ``start()`` brings it back on the same port."""
        if self.is_running():
            os.killpg(self._state["pid"], 9)
            stop_process_group(self._state["pid"], self._state.get("start_time"), timeout=10)
        self._forget_process()

    def stop(self) -> None:
        """Stop the process and remove the webhook configurations it registered (so the API server stops calling
        a webhook that is gone), then forget the state."""
        started = bool(self._state)
        self._stop_process()
        if started and self.kubeconfig.exists():
            for kind in ("mutatingwebhookconfigurations", "validatingwebhookconfigurations"):
                run_kubectl(self.kubeconfig, "delete", kind, "-l", MANAGED_BY, "--ignore-not-found",
                            check=False, timeout=30)
        self._state = {}
        self.state_file.unlink(missing_ok=True)

    def logs(self, lines: int = 40) -> str:
        """The last lines of Kyverno's log."""
        return tail(self.log_path, lines)

    # internals

    def argv(self, binary: Path, port: int, metrics_port: int) -> list[str]:
        """The command line: out of cluster with the admin kubeconfig, webhooks at ``127.0.0.1:<port>``, and no
        admission reports or listeners beyond loopback."""
        return [
            str(binary),
            f"--kubeconfig={self.kubeconfig}",
            # Out of cluster: webhook URLs are https://127.0.0.1:<port>/..., the serving certificate has that IP.
            f"--serverIP=127.0.0.1:{port}",
            "--webhookServerHost=127.0.0.1",
            f"--webhookServerPort={port}",
            f"--caSecretName={CA_SECRET}",
            f"--tlsSecretName={TLS_SECRET}",
            # Reports need the reports controller, which does not run here; they would pile up in etcd.
            "--admissionReports=false",
            "--metricsHost=127.0.0.1",
            f"--metricsPort={metrics_port}",
            "--controllerRuntimeMetricsAddress=0",
            "--autoMemLimitEnabled=false",
            "--disableLogColor",
            "--v=2",
        ]

    def _env(self) -> dict[str, str]:
        return {
            **os.environ,
            "KYVERNO_NAMESPACE": NAMESPACE,
            "KYVERNO_POD_NAME": "kyverno-admission-local",
            "KYVERNO_SERVICEACCOUNT_NAME": "kyverno-admission-controller",
            "KYVERNO_DEPLOYMENT": "kyverno-admission-controller",
            "KYVERNO_SVC": "kyverno-svc",
            "INIT_CONFIG": "kyverno",
            "METRICS_CONFIG": "kyverno-metrics",
        }

    def _spawn(self, binary: Path, port: int, metrics_port: int) -> None:
        self._proc, offset = spawn_logged(self.argv(binary, port, metrics_port), self.log_path, self.state_dir,
                                          self._env())
        self._state.update(log_offset=offset, pid=self._proc.pid, start_time=process_start_time(self._proc.pid))
        self._save_state()

    def _wait_ready(self) -> None:
        """Until the readiness probe answers 200 and the resource mutating webhook points at this port."""
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                raise KubeError(f"Kyverno's admission controller exited during start; last lines of "
                                f"{self.log_path}:\n{tail(self.log_path, 40, self._state.get('log_offset', 0))}")
            if self._probe() == 200 and self._webhook_registered():
                return
            time.sleep(0.5)
        raise KubeError(f"Kyverno's admission controller was not ready within {self.ready_timeout:.0f}s; last "
                        f"lines of {self.log_path}:\n{tail(self.log_path, 40, self._state.get('log_offset', 0))}")

    def _webhook_registered(self) -> bool:
        got = run_kubectl(self.kubeconfig, "get", "mutatingwebhookconfiguration", RESOURCE_MUTATING_WEBHOOK,
                          "-o", "json", check=False)
        if got.returncode != 0:
            return False
        # No webhooks while no policy has rules for it; each one there must call this instance.
        hooks = json.loads(got.stdout).get("webhooks") or []
        return all(
            (h.get("clientConfig") or {}).get("url", "").startswith(f"https://{self.server}/") for h in hooks)

    def _probe(self) -> int:
        """Status of GET /health/readiness on the webhook server (0 when it does not answer)."""
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # a loopback probe; the API server checks the certificate for real
        try:
            with urllib.request.urlopen(f"https://{self.server}/health/readiness", context=ctx,
                                        timeout=5) as resp:
                return int(resp.status)
        except urllib.error.HTTPError as err:
            return int(err.code)
        except OSError:
            return 0

    def _apply_crds(self) -> None:
        """Apply the CRDs Kyverno needs that the cluster does not serve yet (a local control plane starts empty and
        is never upgraded in place; an unchanged 4 MB apply would cost a restart some 20 s)."""
        served = set(run_kubectl(self.kubeconfig, "get", "crd", "-o", "name").stdout.split())
        missing = [path for path in crd_files((KYVERNO_ADMISSION,))
                   if f"customresourcedefinition.apiextensions.k8s.io/{crd_name(path)}" not in served]
        apply_manifests(missing, self.kubeconfig)

    def _apply(self, objects: list[dict[str, Any]]) -> None:
        """Server-side apply (the server validates; kubectl's own check would fetch the whole OpenAPI document,
        slow right after Kyverno's large CRDs were added)."""
        path = self.state_dir / "objects.json"
        path.write_text(json.dumps({"apiVersion": "v1", "kind": "List", "items": objects}))
        run_kubectl(self.kubeconfig, "apply", "--server-side", "--force-conflicts", "--validate=false",
                    "--field-manager=harbor-cache-lab", "-f", str(path))

    def _stop_process(self) -> None:
        if "pid" in self._state:
            stop_process_group(self._state["pid"], self._state.get("start_time"), timeout=20)
        self._forget_process()

    def _forget_process(self) -> None:
        if self._proc is not None:
            self._proc.poll()
            self._proc = None
        for key in ("pid", "start_time"):
            self._state.pop(key, None)
        if self._state:
            self._save_state()

    def _load_state(self) -> dict[str, Any]:
        return read_state(self.state_file)

    def _save_state(self) -> None:
        write_state(self.state_file, self._state)

