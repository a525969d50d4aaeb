"""Fixtures for engine tests: a local Kubernetes control plane shared by the session (kube-controller-manager's own
controllers, and the stand-in cert-manager controller), and Kyverno's admission controller for the tests that ask
for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.controllers import FakeControllers
from lab.controllers.kyverno_admission import KyvernoAdmission, find_kyverno_admission
from lab.kube import KubeToolsMissing, LocalKube
from tests.support.requirements import require, require_engine, require_kube


@pytest.fixture(scope="session")
def local_kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKube]:
    """etcd, kube-apiserver and kube-controller-manager on loopback for the whole session (namespaces, garbage
    collection, Deployments -> Pods), with the stand-in cert-manager controller beside them."""
    require_engine()
    require_kube()
    kube = LocalKube(Path(tmp_path_factory.mktemp("kube")))
    kube.start()
    controllers = FakeControllers(kube.kubeconfig_path).start()
    try:
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
