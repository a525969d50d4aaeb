"""The planner's expected files (tests/unit/data/config_toml/expected/) are what real containerd reads.

The fast tier compares the planner's output with these files byte for byte; this test closes the loop: each
file goes through ``containerd --config FILE config dump`` of Debian's containerd 1.6 and of the 2.x build,
and the effective registry ``config_path`` must be the directory the planner set. No root, no bed: only the
binaries (a missing binary fails under CI, like every node test).
"""

from __future__ import annotations

import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from lab.testbed import containerd2_bin
from tests.support.requirements import require

pytestmark = pytest.mark.nodes
EXPECTED = Path(__file__).parents[1] / "unit" / "data" / "config_toml" / "expected"
CERTS = "/etc/containerd/certs.d"
# imports.toml names files that exist only on the node it was written for.
NOT_STANDALONE = {"imports.toml"}


def containerd(flavor: str) -> Path:
    """The containerd binary of a flavor (skips when absent, so fails in CI)."""
    path = Path("/usr/bin/containerd") if flavor == "1.6" else containerd2_bin() / "containerd"
    require([] if path.exists() else [str(path)], "the config dump check",
            "scripts/install-debian-packages, scripts/build-tools containerd2")
    return path


def effective_config_path(dump: str) -> Any:
    """The CRI registry's config_path in a ``config dump`` (1.x table, or the 2.x images plugin's)."""
    plugins = tomllib.loads(dump)["plugins"]
    for plugin in ("io.containerd.grpc.v1.cri", "io.containerd.cri.v1.images"):
        if "registry" in plugins.get(plugin, {}):
            return plugins[plugin]["registry"].get("config_path")
    raise AssertionError("no CRI registry table in the dump")


CASES = [(path.name, flavor) for path in sorted(EXPECTED.glob("*.toml")) if path.name not in NOT_STANDALONE
         for flavor in (("2",) if tomllib.loads(path.read_text()).get("version") == 3 else ("1.6", "2"))]


@pytest.mark.parametrize(("name", "flavor"), CASES, ids=[f"{n}-containerd{f}" for n, f in CASES])
def test_expected_file_is_read_by_containerd(name: str, flavor: str) -> None:
    proc = subprocess.run([str(containerd(flavor)), "--config", str(EXPECTED / name), "config", "dump"],
                          capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert effective_config_path(proc.stdout) == CERTS


def test_containerd_1_6_ignores_a_version_3_file() -> None:
    """Why the planner refuses a version-3 file on containerd 1.x: 1.6 loads it without the 2.x table."""
    proc = subprocess.run([str(containerd("1.6")), "--config", str(EXPECTED / "new-version-3.toml"), "config",
                           "dump"], capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert effective_config_path(proc.stdout) == ""
