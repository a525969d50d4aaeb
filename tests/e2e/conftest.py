"""Fixtures for engine tests: a local Kubernetes control plane shared by the session (kube-controller-manager's own
controllers and cert-manager's controller), and Kyverno's admission controller for the tests that ask for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.controllers import Controllers, cert_manager, find_cert_manager
from lab.controllers.kyverno_admission import KyvernoAdmission, find_kyverno_admission
from lab.kube import KubeToolsMissing, LocalKube, crd_files
from lab.kube.crds import CERT_MANAGER
from tests.support.requirements import require, require_engine, require_kube


@pytest.fixture(scope="session")
def cert_manager_built() -> Path:
    """cert-manager's controller as scripts/build-tools certmanager built it (skips, naming the fix, if not)."""
    try:
        return find_cert_manager()
    except KubeToolsMissing as err:
        require([str(err)], "cert-manager's controller", "run scripts/setup")
        raise  # not reached: require skips


@pytest.fixture(scope="session")
def local_kube(tmp_path_factory: pytest.TempPathFactory, cert_manager_built: Path) -> Iterator[LocalKube]:
    """etcd, kube-apiserver and kube-controller-manager on loopback for the whole session (namespaces, garbage
    collection, Deployments -> Pods), with cert-manager's CRDs and its controller (lab/controllers) beside them."""
    require_engine()
    require_kube()
    kube = LocalKube(Path(tmp_path_factory.mktemp("kube")))
    controllers = Controllers(kube.state_dir / "controllers")
    try:
        kube.start()
        kube.apply_manifests(crd_files((CERT_MANAGER,)))
        controllers.start([cert_manager(kube.kubeconfig_path, controllers.state_dir)])
        yield kube
    finally:
        controllers.stop()
        kube.stop()


@pytest.fixture(scope="session")
def kyverno(local_kube: LocalKube, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KyvernoAdmission]:
    """Kyverno's real admission controller on loopback, registered as the session API server's mutating webhook
    (lab/controllers/kyverno_admission.py); stopped with its webhook configurations at the end."""
    try:
        find_kyverno_admission()
    except KubeToolsMissing as err:
        require([str(err)], "the admission tier", "run scripts/setup")
    admission = KyvernoAdmission(tmp_path_factory.mktemp("kyverno"), local_kube.kubeconfig_path).start()
    try:
        yield admission
    finally:
        admission.stop()
