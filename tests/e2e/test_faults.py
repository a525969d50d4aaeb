"""Engine rows of the fault matrix (issue 18, docs/faults.md): two ``pulumi up`` at once on one stack.

The second ``up`` must be refused by the backend's stack lock with a message that says what to do, while the
first finishes; the next ``up`` then has nothing to do. (The node rows are tests/nodes/test_faults.py; a lost
Harbor response and a wrong password are tests/e2e/test_harbor_faults.py.)
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from lab.engine import copy_program, engine_env, stack
from lab.paths import TOOLS_BIN
from tests.support.requirements import require_engine

pytestmark = pytest.mark.engine
PROGRAM = Path(__file__).parent / "faults_program"


def up(work: Path, env: dict[str, str]) -> list[str]:
    """The ``pulumi up`` command line for the stack ``faults`` of the program in ``work``."""
    return [str(TOOLS_BIN / "pulumi"), "up", "--yes", "--skip-preview", "--non-interactive", "--stack", "faults",
            "--cwd", str(work)]


def test_second_up_on_one_stack_is_refused_by_the_lock(tmp_path: Path) -> None:
    require_engine()
    from pulumi import automation as auto

    backend = tmp_path / "state"
    backend.mkdir()
    work = copy_program(PROGRAM, tmp_path / "program")
    env = engine_env(backend)
    st = stack(work, "faults", env)
    st.set_config("seconds", auto.ConfigValue("10"))
    started = time.monotonic()
    first = subprocess.Popen(up(work, env), env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        locks = backend / ".pulumi" / "locks"
        while not (locks.exists() and any(p.is_file() for p in locks.rglob("*.json"))):
            assert first.poll() is None, first.communicate()[0]
            assert time.monotonic() - started < 60, "the first up never took the stack lock"
            time.sleep(0.2)
        second = subprocess.run(up(work, env), env=env, text=True, capture_output=True, timeout=120, check=False)
        refused_after = time.monotonic() - started
        out = second.stdout + second.stderr
        assert second.returncode != 0, out
        assert "currently locked" in out and "pulumi cancel" in out, out
        first_out, _ = first.communicate(timeout=180)
    finally:
        if first.poll() is None:
            first.kill()
    assert first.returncode == 0, first_out
    again = st.up()
    assert again.summary.result == "succeeded" and again.summary.resource_changes == {"same": 2}, \
        again.summary.resource_changes
    print(f"FAULT two-ups refused_after_s={refused_after:.2f} message={' | '.join(out.strip().splitlines())!r}")
    st.destroy()
    st.workspace.remove_stack("faults")
