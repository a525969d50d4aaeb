"""The one way a test says what it needs: ``require(...)`` skips the test when something is missing.

A skip here is a skip locally and a failure in CI: the root ``conftest.py`` turns every skipped test into a
failed one when ``CI`` is set, so a tier can never silently not run there. Do not call ``pytest.fail`` for a
missing tool, and do not read ``CI`` anywhere else.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import pytest

from lab.engine import ENGINE_BINARIES, engine_ready
from lab.kube import KubeError, find_binaries, find_controller_manager, kubectl_path
from lab.paths import TOOLS_BIN


def require(missing: Sequence[str], needed_by: str, fix: str) -> None:
    """Skip unless ``missing`` is empty: "<needed_by> needs: <missing> (<fix>)"."""
    if missing:
        pytest.skip(f"{needed_by} needs: {', '.join(missing)} ({fix})")


def require_kube() -> None:
    """The pinned kube-apiserver + etcd and kube-controller-manager builds (or on PATH) and kubectl, for a local
    control plane."""
    try:
        find_binaries()
        find_controller_manager()
        kubectl_path()
    except KubeError as err:
        require([str(err)], "the local control plane", "run scripts/setup")


def require_engine() -> None:
    """The Pulumi engine and our language host that scripts/setup links into .tools/bin."""
    if not engine_ready():
        require([str(TOOLS_BIN / name) for name in ENGINE_BINARIES], "the engine tier", "run scripts/setup")


def require_root(needed_by: str = "this test") -> None:
    """Root (network namespaces, sshd, containerd)."""
    if os.geteuid() != 0:
        require(["root"], needed_by, "network namespaces, sshd and containerd for the nodes")
