"""The local control plane's tools: errors, the pinned kube-apiserver + etcd and kube-controller-manager builds,
and kubectl."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from lab.paths import read_versions, tools_root

FIELD_MANAGER = "harbor-cache-lab"


class KubeError(RuntimeError):
    """The local control plane could not be found, started or used."""


class KubeToolsMissing(KubeError):
    """kube-apiserver, etcd or kube-controller-manager has not been built yet."""


def find_binaries() -> tuple[Path, Path]:
    """Return (kube-apiserver, etcd): the pinned build in the tool cache, else both from PATH."""
    version = read_versions()["KUBE_VERSION"]
    folder = tools_root() / f"kube-{version}"
    apiserver, etcd = folder / "bin" / "kube-apiserver", folder / "bin" / "etcd"
    if (folder / ".done").exists() and apiserver.is_file() and etcd.is_file():
        return apiserver, etcd
    on_path = shutil.which("kube-apiserver"), shutil.which("etcd")
    if on_path[0] and on_path[1]:
        return Path(on_path[0]), Path(on_path[1])
    raise KubeToolsMissing(
        f"kube-apiserver and etcd {version} are not built: expected them in {folder}/bin "
        f"(HARBOR_CACHE_TOOLS={tools_root()}). Run scripts/setup (or scripts/build-tools kube) first."
    )


def find_controller_manager() -> Path:
    """kube-controller-manager: the pinned build in the tool cache (same Kubernetes version as kube-apiserver),
    else from PATH."""
    version = read_versions()["KUBE_VERSION"]
    folder = tools_root() / f"kube-controller-manager-{version}"
    binary = folder / "bin" / "kube-controller-manager"
    if (folder / ".done").exists() and binary.is_file():
        return binary
    on_path = shutil.which("kube-controller-manager")
    if on_path:
        return Path(on_path)
    raise KubeToolsMissing(
        f"kube-controller-manager {version} is not built: expected it in {folder}/bin "
        f"(HARBOR_CACHE_TOOLS={tools_root()}). Run scripts/setup (or scripts/build-tools kcm) first."
    )


def kubectl_path() -> str:
    """kubectl from $KUBECTL or PATH."""
    found = os.environ.get("KUBECTL") or shutil.which("kubectl")
    if not found:
        raise KubeError("kubectl not found on PATH (Debian: apt-get install kubectl); or set $KUBECTL")
    return found


def run_kubectl(
    kubeconfig: str | os.PathLike[str], *args: str, check: bool = True, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """Run kubectl with this kubeconfig; on failure with check=True raise KubeError with its stderr."""
    argv = [kubectl_path(), f"--kubeconfig={kubeconfig}", *args]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if check and proc.returncode != 0:
        raise KubeError(f"kubectl {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc


def apply_manifests(paths: Iterable[str | os.PathLike[str]], kubeconfig: str | os.PathLike[str]) -> list[str]:
    """``kubectl apply --server-side`` each file or folder; wait until applied CRDs are Established.

    Returns the applied object names (``kind.group/name``).
    """
    files = [arg for path in paths for arg in ("-f", str(path))]
    if not files:
        return []
    proc = run_kubectl(
        kubeconfig, "apply", "--server-side", "--force-conflicts", f"--field-manager={FIELD_MANAGER}",
        "-o", "name", *files)
    names = [line.strip() for line in proc.stdout.splitlines() if line.strip()]
    crds = [n for n in names if n.startswith("customresourcedefinition.")]
    if crds:
        run_kubectl(kubeconfig, "wait", "--for=condition=Established", "--timeout=60s", *crds)
    return names
