"""A local Kubernetes control plane: etcd, kube-apiserver and kube-controller-manager on loopback (``python -m lab
kube``), and the real cert-manager and Kyverno CRDs from the Go module cache (``crds.py``).

The modules use the standard library only (and the ``openssl``, ``kubectl`` and ``go`` commands).
"""

from lab.kube.crds import crd_files
from lab.kube.local import LocalKube
from lab.kube.pki import kubeconfig_text, make_pki
from lab.kube.tools import (
    KubeError,
    KubeToolsMissing,
    apply_manifests,
    find_binaries,
    find_controller_manager,
    kubectl_path,
    run_kubectl,
)

__all__ = [
    "KubeError", "KubeToolsMissing", "LocalKube", "apply_manifests", "crd_files", "find_binaries",
    "find_controller_manager", "kubeconfig_text", "kubectl_path", "make_pki", "run_kubectl",
]
