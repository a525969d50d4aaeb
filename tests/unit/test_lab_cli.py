"""The lab's one command line and the scripts that wrap it (no tools needed for these)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from lab.cli import parser
from lab.paths import ROOT


def test_every_area_is_a_subcommand() -> None:
    help_text = parser().format_help()
    for area in ("sandbox", "kube", "double", "testbed", "controllers"):
        assert area in help_text
    args = parser().parse_args(["kube", "--state-dir", "/tmp/x", "status"])
    assert (args.area, args.action, args.state_dir) == ("kube", "status", Path("/tmp/x"))


def test_kube_local_wraps_python_m_lab_kube(tmp_path: Path) -> None:
    script = subprocess.run([str(ROOT / "scripts" / "kube-local"), "--state-dir", str(tmp_path), "status"],
                            capture_output=True, text=True, timeout=60, check=False)
    module = subprocess.run([sys.executable, "-m", "lab", "kube", "--state-dir", str(tmp_path), "status"],
                            capture_output=True, text=True, timeout=60, check=False, cwd=ROOT)
    assert (script.returncode, script.stdout) == (module.returncode, module.stdout) == (3, "stopped\n")
