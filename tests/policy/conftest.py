"""Fixtures for the policy engine test: a local API server with the cert-manager and Kyverno CRDs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.kube import LocalKube, crd_files
from tests.support.requirements import require_engine, require_kube


@pytest.fixture(scope="module")
def policy_kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKube]:
    """A local control plane with the real cert-manager and Kyverno CRDs and the `harbor` namespace."""
    require_engine()
    require_kube()
    kube = LocalKube(Path(tmp_path_factory.mktemp("policy-kube")))
    kube.start()
    try:
        kube.apply_manifests(crd_files())  # waits until they are Established
        kube.kubectl("create", "namespace", "harbor")
        yield kube
    finally:
        kube.stop()
