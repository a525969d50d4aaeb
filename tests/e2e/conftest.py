"""Fixtures for engine tests: a local Kubernetes API server (with stand-in controllers) shared by the session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.engine import require_engine
from tests.support.fake_controllers import FakeControllers
from tests.support.kube import LocalKube


@pytest.fixture(scope="session")
def local_kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKube]:
    """A running etcd + kube-apiserver on loopback for the whole session, with the fake controllers finishing
    what kube-controller-manager would (foreground deletions, namespace finalization)."""
    require_engine()
    kube = LocalKube(Path(tmp_path_factory.mktemp("kube")))
    kube.start()
    controllers = FakeControllers(kube.kubeconfig_path).start()
    try:
        yield kube
    finally:
        controllers.stop()
        kube.stop()
