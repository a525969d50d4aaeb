"""Where things are: the repository, the lab's data files, the Harbor charts beside the repository, the pinned
tool versions and the tool cache."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FILES = ROOT / "lab" / "files"
# Unmodified copies of the Harbor chart, one folder per version (a clone in CI has shared/ beside it). They are
# installed from there by path and never copied into the repository.
SHARED_CHARTS = ROOT.parent / "shared" / "charts"
SANDBOX_PUBLIC_KEY = FILES / "ssh" / "sandbox_ed25519.pub"
VERSIONS_ENV = ROOT / "scripts" / "versions.env"
TOOLS_BIN = ROOT / ".tools" / "bin"


class ChartMissing(FileNotFoundError):
    """The Harbor chart of a version is not where the lab expects it."""


def harbor_chart(version: str) -> Path:
    """The real Harbor chart at `version` (``../shared/charts/harbor-<version>``); ChartMissing says what is there."""
    chart = SHARED_CHARTS / f"harbor-{version}"
    if not (chart / "Chart.yaml").is_file():
        present = sorted(p.name for p in SHARED_CHARTS.glob("harbor-*")) if SHARED_CHARTS.is_dir() else []
        raise ChartMissing(
            f"the Harbor chart {version} is not at {chart}: the sandbox, e2e tests and benchmarks install the real "
            f"chart from {SHARED_CHARTS} (beside the repository, never copied into it); "
            + (f"found there: {', '.join(present)}" if present else f"{SHARED_CHARTS} does not exist"))
    return chart


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
