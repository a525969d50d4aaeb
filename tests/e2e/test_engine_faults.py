"""Engine rows of the fault matrix (issue 18, docs/faults.md).

* Two ``pulumi up`` at once on one stack: the second is refused by the backend's stack lock with a message that
  says what to do, while the first finishes; the next ``up`` then has nothing to do.
* Harbor answers 503 for 60 s, then recovers (the Harbor double, ``harbor.install: false``): the ``up`` during
  the outage ends with a clear error after bounded retries and creates nothing twice; the ``up`` after it
  converges to exactly one of each object.

(The node rows are tests/nodes/test_faults.py; a lost Harbor response and a wrong password are
tests/e2e/test_harbor_faults.py.)
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from lab.engine import copy_program, engine_env, python_project, stack
from lab.harbor_double import HarborDouble
from lab.harbor_double.fake_upstream import FakeUpstream
from lab.kube import LocalKube
from lab.paths import TOOLS_BIN
from lab.project import StackFile, copy_project
from tests.support.requirements import require_engine
from tests.support.sandboxes import admin_password

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


OUTAGE_S = 60.0


def test_harbor_503_for_60s_then_recovers(tmp_path: Path, local_kube: LocalKube) -> None:
    require_engine()
    from pulumi import automation as auto

    password = admin_password("faults")
    with HarborDouble(password) as double, FakeUpstream() as upstream:
        work = copy_project(tmp_path / "program")
        backend = tmp_path / "state"
        backend.mkdir()
        st = stack(work, "outage", engine_env(backend), python_project("harbor-cache", "issue 18 outage"))
        StackFile(work, "outage").set({
            "kubeconfig": str(local_kube.kubeconfig_path),
            "harbor": {"install": False, "tlsMode": "http", "url": double.url, "apiUrl": double.url},
            "upstream": {"name": "outage-upstream", "type": "docker-registry", "url": upstream.url,
                         "insecure": True, "accessKeyId": "outage-reader"},
            "proxyProject": {"enabled": True, "name": "mif", "public": True},
        })
        st.set_config("harbor-cache:adminPassword", auto.ConfigValue(password, secret=True))
        st.set_config("harbor-cache:upstreamSecretKey", auto.ConfigValue("outage-secret-key", secret=True))
        try:
            double.set_faults(fail_status=503, fail_seconds=OUTAGE_S)
            began = time.monotonic()
            with pytest.raises(auto.CommandError) as failed:
                st.up()
            failed_after = time.monotonic() - began
            message = str(failed.value)
            assert "503" in message, message[-3000:]
            assert failed_after < OUTAGE_S, "the up during the outage must end (bounded retries), not hang"
            assert not double.state["registries"] and not [p for p in double.state["projects"].values()
                                                           if p["name"] != "library"]
            time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - began)) + 1)
            began = time.monotonic()
            result = st.up()
            converged_after = time.monotonic() - began
            assert result.summary.result == "succeeded"
            assert len(double.state["registries"]) == 1
            assert [p["name"] for p in double.state["projects"].values() if p["name"] != "library"] == ["mif"]
            last = [line for line in message.splitlines() if "503" in line][-1].strip()
            print(f"FAULT harbor-503 failed_after_s={failed_after:.2f} converge_s={converged_after:.2f} "
                  f"message={last[:300]!r}")
        finally:
            double.set_faults(fail_seconds=0)
            st.destroy()
            st.workspace.remove_stack("outage", force=True)
