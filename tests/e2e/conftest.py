"""Fixtures for engine tests: a local Kubernetes control plane shared by the session (kube-controller-manager's own
controllers, and the stand-in cert-manager and Kyverno controllers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.controllers import FakeControllers
from lab.kube import LocalKube
from tests.support.requirements import require_engine, require_kube


@pytest.fixture(scope="session")
def local_kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKube]:
    """etcd, kube-apiserver and kube-controller-manager on loopback for the whole session (namespaces, garbage
    collection, Deployments -> Pods), with the stand-in cert-manager and Kyverno controllers beside them."""
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
