"""The test bed's prerequisites: Debian packages, the crictl and containerd 2.x builds, root."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path

from lab.paths import read_versions, tools_root


def containerd2_bin() -> Path:
    """Folder with the containerd 2.x build (scripts/build-tools containerd2)."""
    return tools_root() / f"containerd-{read_versions()['CONTAINERD2_VERSION']}" / "bin"


def crictl_bin() -> Path:
    """The crictl build (scripts/build-tools crictl)."""
    return tools_root() / f"crictl-{read_versions()['CRICTL_VERSION']}" / "bin" / "crictl"


def tools_ready(flavors: Sequence[str]) -> list[str]:
    """Names of missing prerequisites for the given node flavors (empty when all are there)."""
    needed = ("containerd", "sshd", "nginx", "docker-registry", "skopeo", "openssl", "ip", "nsenter")
    missing = [b for b in needed if not shutil.which(b) and not Path("/usr/sbin", b).exists()]
    if not crictl_bin().exists():
        missing.append(str(crictl_bin()))
    if any(f != "1.6" for f in flavors) and not (containerd2_bin() / "containerd").exists():
        missing.append(str(containerd2_bin() / "containerd"))
    if os.geteuid() != 0:
        missing.append("root")
    return missing
