"""``Controllers``: controller programs as background processes beside a local control plane.

Each controller (a ``ControllerSpec``: name, command line, optional readiness check) runs in its own session with
its output in ``<state_dir>/<name>.log``; ``<state_dir>/controllers.json`` records each pid with the kernel's start
time, so another process (``scripts/sandbox down``) can stop them. ``start()`` returns once every controller says
it is ready (or, without a readiness check, is still alive after ``SETTLE_SECONDS``); a controller that exits
meanwhile fails it with the last lines of its log.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from lab.kube.tools import KubeError
from lab.processes import (
    pid_alive,
    process_start_time,
    read_state,
    spawn_logged,
    stop_process_group,
    tail,
    write_state,
)

SETTLE_SECONDS = 1.0


class ControllerExited(KubeError):
    """A controller process is not running (any more); the message holds the end of its log."""


@dataclass(frozen=True)
class ControllerSpec:
    """One controller program: its name (log and state key), command line, extra environment, and a check that
    says it is ready (None: being alive after SETTLE_SECONDS is enough)."""

    name: str
    argv: Sequence[str]
    env: Mapping[str, str] = field(default_factory=dict)
    ready: Callable[[], bool] | None = None


class Controllers:
    """Start, check and stop the controller processes recorded in ``state_dir``."""

    def __init__(self, state_dir: str | os.PathLike[str], ready_timeout: float = 90.0) -> None:
        self.state_dir = Path(state_dir).resolve()
        self.ready_timeout = ready_timeout
        self.state_file = self.state_dir / "controllers.json"
        self._children: dict[str, subprocess.Popen[bytes]] = {}  # started here, to reap them
        self._state: dict[str, dict[str, Any]] = self._load_state()

    def log_path(self, name: str) -> Path:
        """Where controller `name` writes its output."""
        return self.state_dir / f"{name}.log"

    def running(self) -> dict[str, bool]:
        """Liveness of each recorded controller."""
        return {name: pid_alive(rec["pid"], rec["start_time"]) for name, rec in self._state.items()}

    def start(self, specs: Sequence[ControllerSpec]) -> Controllers:
        """Stop what an earlier start left, start every spec and wait until all are ready."""
        self.stop()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        try:
            for spec in specs:
                self._spawn(spec)
            self._wait_ready(specs)
        except BaseException:
            self.stop()
            raise
        return self

    def check(self) -> None:
        """Raise ControllerExited naming the first recorded controller that no longer runs."""
        for name, alive in self.running().items():
            if not alive:
                raise ControllerExited(self._exited_message(name, "is not running"))

    def stop(self) -> None:
        """Stop every recorded controller (also ones another process started) and forget them; logs stay."""
        for rec in self._state.values():
            stop_process_group(rec["pid"], rec["start_time"], timeout=15.0)
        for child in self._children.values():
            child.poll()
        self._children = {}
        self._state = {}
        self.state_file.unlink(missing_ok=True)

    def __enter__(self) -> Controllers:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # internals

    def _spawn(self, spec: ControllerSpec) -> None:
        child, offset = spawn_logged(spec.argv, self.log_path(spec.name), self.state_dir, {**os.environ, **spec.env})
        self._children[spec.name] = child
        self._state[spec.name] = {"pid": child.pid, "start_time": process_start_time(child.pid),
                                  "log_offset": offset}
        self._save_state()

    def _wait_ready(self, specs: Sequence[ControllerSpec]) -> None:
        began = time.monotonic()
        waiting = list(specs)
        while waiting:
            self.check()
            elapsed = time.monotonic() - began
            waiting = [s for s in waiting if not (s.ready() if s.ready else elapsed >= SETTLE_SECONDS)]
            if waiting and elapsed > self.ready_timeout:
                raise ControllerExited(self._exited_message(
                    waiting[0].name, f"was not ready within {self.ready_timeout:.0f}s"))
            if waiting:
                time.sleep(0.2)

    def _exited_message(self, name: str, what: str) -> str:
        path = self.log_path(name)
        return f"controller {name} {what}; last lines of {path}:\n" + tail(
            path, 40, offset=int(self._state.get(name, {}).get("log_offset", 0)))

    def _load_state(self) -> dict[str, dict[str, Any]]:
        return read_state(self.state_file)

    def _save_state(self) -> None:
        write_state(self.state_file, self._state)
