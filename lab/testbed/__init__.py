"""A test bed of real nodes, registries and a Harbor-shaped pull path on one machine (needs root).

``bed.py`` starts and stops it (``Testbed``), ``node.py`` is one node, ``registries.py`` the upstream registry
and Harbor's pull path behind nginx, ``upstream_health.py`` what that pull path does when the upstream is down,
``faults.py`` faults to inject, ``image.py`` the test image, ``tools.py`` the prerequisites, ``layout.py`` the
names every part agrees on. ``python -m lab testbed`` runs one for people.
"""

from lab.testbed.bed import Testbed
from lab.testbed.image import build_oci_image
from lab.testbed.layout import (
    HARBOR_NAME,
    IMAGE_REPO,
    IMAGE_TAG,
    NODE_HEALTH_COMMAND,
    NODE_RESTART_COMMAND,
    NODE_STATE_DIR,
    PROJECT,
    SOCKET,
    UPSTREAM_HOST,
)
from lab.testbed.node import Node
from lab.testbed.tools import containerd2_bin, crictl_bin, tools_ready

__all__ = [
    "HARBOR_NAME", "IMAGE_REPO", "IMAGE_TAG", "NODE_HEALTH_COMMAND", "NODE_RESTART_COMMAND", "NODE_STATE_DIR",
    "PROJECT", "SOCKET", "UPSTREAM_HOST", "Node", "Testbed", "build_oci_image", "containerd2_bin", "crictl_bin",
    "tools_ready",
]
