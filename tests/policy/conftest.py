"""Fixtures for the policy engine test: a local API server with the cert-manager and Kyverno CRDs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.engine import ROOT, require_engine
from tests.support.kube import LocalKube


@pytest.fixture(scope="module")
def policy_kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKube]:
    """etcd + kube-apiserver on loopback, with the sandbox CRDs and the `harbor` namespace."""
    require_engine()
    kube = LocalKube(Path(tmp_path_factory.mktemp("policy-kube")))
    kube.start()
    try:
        kube.apply_manifests([ROOT / "sandbox" / "crds" / "cert-manager.yaml",
                              ROOT / "sandbox" / "crds" / "kyverno.yaml"])
        kube.kubectl("wait", "--for=condition=established", "--timeout=60s", "crd", "--all")
        kube.kubectl("create", "namespace", "harbor")
        yield kube
    finally:
        kube.stop()
