"""A local Kubernetes control plane: etcd + kube-apiserver on loopback (``python -m lab kube``).

The modules use the standard library only (and the ``openssl`` and ``kubectl`` commands).
"""

from lab.kube.local import LocalKube
from lab.kube.pki import kubeconfig_text, make_pki
from lab.kube.tools import KubeError, KubeToolsMissing, apply_manifests, find_binaries, kubectl_path, run_kubectl

__all__ = [
    "KubeError", "KubeToolsMissing", "LocalKube", "apply_manifests", "find_binaries", "kubeconfig_text",
    "kubectl_path", "make_pki", "run_kubectl",
]
