"""Fixtures for engine tests: a local Kubernetes API server shared by the module's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.engine import require_engine
from tests.support.kube import LocalKube


@pytest.fixture(scope="session")
def local_kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKube]:
    """A running etcd + kube-apiserver on loopback for the whole session."""
    require_engine()
    kube = LocalKube(Path(tmp_path_factory.mktemp("kube")))
    kube.start()
    try:
        yield kube
    finally:
        kube.stop()
