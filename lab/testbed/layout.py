"""Names and fixed paths every part of the test bed agrees on (nodes, registries, tests)."""

from __future__ import annotations

PROJECT = "mif"
# ECR-shaped upstream name; its hosts.toml server is the bed's registry.
UPSTREAM_HOST = "123456789012.dkr.ecr.test-1.amazonaws.com"
HARBOR_NAME = "harbor.test"
IMAGE_REPO = "quickstart/hello"
IMAGE_TAG = "v1"
SOCKET = "/run/containerd/containerd.sock"
# The same on every node (each node binds its own bin directory over /usr/local/sbin).
NODE_RESTART_COMMAND = "/usr/local/sbin/restart-containerd"
NODE_HEALTH_COMMAND = f"/usr/bin/ctr --address {SOCKET} version"
NODE_STATE_DIR = "/var/lib/harbor-cache"
