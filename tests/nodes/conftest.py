"""Fixtures for the node tests: one test bed per session (namespace nodes with sshd + containerd)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from components.node_ssh import KEY_CONFIG, NodeContainerdConfigProvider, NodePullCheckProvider
from lab.testbed import Testbed, containerd2_bin, tools_ready
from tests.support.requirements import require

# Debian's containerd 1.6 on node1 and node2; the containerd 2.x build on node3 once it has been built.
FLAVORS = ["1.6", "1.6", "2"] if (containerd2_bin() / "containerd").exists() else ["1.6", "1.6"]


@pytest.fixture(scope="session")
def bed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Testbed]:
    """The running bed; skipped (failed in CI) without its prerequisites."""
    require(tools_ready(FLAVORS), "the node test bed",
            "scripts/install-debian-packages, scripts/build-tools crictl containerd2")
    subnet = os.environ.get("HARBOR_CACHE_TEST_SUBNET", "10.251")
    with Testbed(tmp_path_factory.mktemp("bed"), FLAVORS, subnet) as running:
        yield running


@pytest.fixture(scope="session")
def provider(bed: Testbed) -> NodeContainerdConfigProvider:
    """The real provider, configured the way the engine does it (the stack's secret config)."""
    p = NodeContainerdConfigProvider()
    p.configure(ConfigureRequest(Config({KEY_CONFIG: bed.client_key.read_text()}, "harbor-cache")))
    return p


@pytest.fixture(scope="session")
def pull_provider(bed: Testbed) -> NodePullCheckProvider:
    """The verification provider, configured with the same key."""
    p = NodePullCheckProvider()
    p.configure(ConfigureRequest(Config({KEY_CONFIG: bed.client_key.read_text()}, "harbor-cache")))
    return p
