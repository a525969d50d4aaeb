"""cert-manager's own controller for the local control plane.

``tools/cert-manager-controller/main.go`` wires the controllers of the cert-manager module (CERT_MANAGER_VERSION)
that issue the program's chain: Issuers, ClusterIssuers, the Certificate controllers (trigger, key manager,
request manager, issuing, readiness, revision manager), the CertificateRequest approver and the CA and
self-signed CertificateRequest issuers. ``scripts/build-tools certmanager`` builds it into the tool cache, in a
folder named after the module version and the main's content (``build_version``), so an edited main is rebuilt.

It runs out of cluster with the kubeconfig it is given, without leader election (one instance per API server),
and needs no kubelet: it only reads and writes API objects (CertificateRequests, Secrets, statuses, Events).
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from lab.controllers.runner import ControllerSpec
from lab.kube.tools import KubeToolsMissing
from lab.paths import ROOT, read_versions, tools_root

NAME = "cert-manager"
BINARY = "cert-manager-controller"
MAIN_GO = ROOT / "tools" / "cert-manager-controller" / "main.go"
# Where the Secrets of ClusterIssuers live: cert-manager's own default (the namespace exists on every cluster).
CLUSTER_RESOURCE_NAMESPACE = "kube-system"


def build_version() -> str:
    """``<CERT_MANAGER_VERSION>-<first 12 hex digits of main.go's sha256>``, as scripts/build-tools names it."""
    digest = hashlib.sha256(MAIN_GO.read_bytes()).hexdigest()[:12]
    return f"{read_versions()['CERT_MANAGER_VERSION']}-{digest}"


def find_cert_manager() -> Path:
    """The build of the current main in the tool cache, else ``cert-manager-controller`` on PATH;
    KubeToolsMissing names the fix."""
    folder = tools_root() / f"{BINARY}-{build_version()}"
    binary = folder / "bin" / BINARY
    if (folder / ".done").exists() and binary.is_file():
        return binary
    on_path = shutil.which(BINARY)
    if on_path:
        return Path(on_path)
    raise KubeToolsMissing(
        f"cert-manager's controller is not built for the current {MAIN_GO.relative_to(ROOT)}: expected {binary} "
        f"(HARBOR_CACHE_TOOLS={tools_root()}). Run scripts/setup (or scripts/build-tools certmanager) first.")


def cert_manager(kubeconfig: str | os.PathLike[str], state_dir: str | os.PathLike[str],
                 verbosity: int = 2) -> ControllerSpec:
    """The controller against the API server of `kubeconfig`; ready once its informer caches have synced (it
    writes ``<state_dir>/cert-manager.ready`` then). Verbosity 2 logs each issuance and each Ready change."""
    ready_file = Path(state_dir).resolve() / f"{NAME}.ready"
    ready_file.unlink(missing_ok=True)
    argv = [
        str(find_cert_manager()),
        f"--kubeconfig={Path(kubeconfig).resolve()}",
        f"--cluster-resource-namespace={CLUSTER_RESOURCE_NAMESPACE}",
        f"--ready-file={ready_file}",
        f"--v={verbosity}",
    ]
    return ControllerSpec(NAME, argv, ready=ready_file.exists)
