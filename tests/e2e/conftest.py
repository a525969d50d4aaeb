"""Fixtures for engine tests: a local Kubernetes API server (with stand-in controllers) shared by the session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.controllers import FakeControllers
from lab.kube import LocalKube
from tests.support.requirements import require_engine, require_kube


@pytest.fixture(scope="session")
def local_kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKube]:
    """A running etcd + kube-apiserver on loopback for the whole session, with the fake controllers finishing
    what kube-controller-manager would (foreground deletions, namespace finalization)."""
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
