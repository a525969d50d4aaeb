"""Where things are: the repository, the lab's data files, the pinned tool versions and the tool cache."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = ROOT / "lab" / "files"
CRDS = FILES / "crds"
CHART = FILES / "chart" / "harbor"
SANDBOX_PUBLIC_KEY = FILES / "ssh" / "sandbox_ed25519.pub"
VERSIONS_ENV = ROOT / "scripts" / "versions.env"
TOOLS_BIN = ROOT / ".tools" / "bin"


def read_versions(path: Path = VERSIONS_ENV) -> dict[str, str]:
    """Parse the KEY=value lines of scripts/versions.env."""
    out: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            out[key.strip()] = value.strip().strip("\"'")
    return out


def tools_root() -> Path:
    """The tool cache: $HARBOR_CACHE_TOOLS, by default ~/.cache/harbor-cache-tools."""
    return Path(os.environ.get("HARBOR_CACHE_TOOLS") or Path.home() / ".cache" / "harbor-cache-tools")
