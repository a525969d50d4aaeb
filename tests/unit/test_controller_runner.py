"""lab/controllers: the controller process runner and where cert-manager's controller build is found (no API
server needed: the controllers here are small Python programs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lab.controllers import ControllerExited, Controllers, ControllerSpec, find_cert_manager
from lab.controllers.cert_manager import build_version
from lab.kube import KubeToolsMissing
from lab.paths import ROOT
from lab.processes import pid_alive


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_start_waits_for_ready_and_another_instance_stops_it(tmp_path: Path) -> None:
    ready = tmp_path / "ready"
    spec = ControllerSpec("writer", python(
        f"import pathlib, time; print('hello from the controller', flush=True); time.sleep(0.5); "
        f"pathlib.Path({str(ready)!r}).write_text('ok'); time.sleep(120)"), ready=ready.exists)
    controllers = Controllers(tmp_path / "state").start([spec])
    assert ready.exists()  # start returned only once the controller said so
    assert controllers.running() == {"writer": True}
    controllers.check()
    assert "hello from the controller" in controllers.log_path("writer").read_text()

    other = Controllers(tmp_path / "state")  # e.g. `scripts/sandbox down` in another process
    pid = other._state["writer"]["pid"]
    other.stop()
    assert not pid_alive(pid)
    assert not (tmp_path / "state" / "controllers.json").exists()
    assert Controllers(tmp_path / "state").running() == {}


def test_a_controller_that_exits_fails_start_with_its_log(tmp_path: Path) -> None:
    crash = ControllerSpec("crash", python("import sys; print('cannot reach the API server'); sys.exit(3)"),
                           ready=lambda: False)
    calm = ControllerSpec("calm", python("import time; time.sleep(120)"))
    controllers = Controllers(tmp_path)
    with pytest.raises(ControllerExited, match=r"(?s)controller crash is not running.*crash\.log.*"
                                               r"cannot reach the API server"):
        controllers.start([calm, crash])
    assert controllers.running() == {}  # the one that was fine is stopped too


def test_a_controller_never_ready_times_out(tmp_path: Path) -> None:
    spec = ControllerSpec("slow", python("import time; print('syncing caches', flush=True); time.sleep(120)"),
                          ready=lambda: False)
    with pytest.raises(ControllerExited, match=r"(?s)controller slow was not ready within 1s.*syncing caches"):
        Controllers(tmp_path, ready_timeout=1).start([spec])


def test_without_a_ready_check_alive_after_settling_is_enough(tmp_path: Path) -> None:
    with Controllers(tmp_path) as controllers:
        controllers.start([ControllerSpec("plain", python("import time; time.sleep(120)"))])
        assert controllers.running() == {"plain": True}
    assert Controllers(tmp_path).running() == {}


def test_the_build_is_looked_up_under_the_name_build_tools_gives_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # certmanager_version() of scripts/build-tools, run on its own
    script = (f'here={ROOT / "scripts"}; . "$here/versions.env"; '
              f'eval "$(sed -n "/^certmanager_version()/,/^}}/p" "$here/build-tools")"; certmanager_version')
    named = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=True).stdout.strip()
    assert named == build_version()
    monkeypatch.setenv("HARBOR_CACHE_TOOLS", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(KubeToolsMissing, match=r"scripts/build-tools certmanager") as err:
        find_cert_manager()
    assert f"{tmp_path}/cert-manager-controller-{named}/bin/cert-manager-controller" in str(err.value)
    binary = tmp_path / f"cert-manager-controller-{named}" / "bin" / "cert-manager-controller"
    binary.parent.mkdir(parents=True)
    binary.write_text("#!/bin/sh\n")
    (binary.parent.parent / ".done").touch()
    assert find_cert_manager() == binary
