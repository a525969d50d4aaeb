"""Processes the lab starts in their own session: identity (pid + start time), liveness, stopping, logs, ports.

A pid alone can be reused by another process once ours exits, so every stop checks the kernel's start time
recorded next to the pid.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

# Ports handed to servers the lab starts: below the kernel's ephemeral range (ip_local_port_range, 32768 and up
# by default), where the kernel's own "any free port" and every outgoing connection take theirs. A port taken
# from the ephemeral range could be given to someone's outgoing connection, or to another test run's
# free_port(), before our server binds it (seen with the tiers running side by side).
_SERVER_PORTS = range(20000, 32000)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now, chosen at random outside the ephemeral range."""
    for _ in range(200):
        port = secrets.choice(_SERVER_PORTS)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise OSError(f"no free TCP port on 127.0.0.1 in {_SERVER_PORTS.start}-{_SERVER_PORTS.stop - 1}")


def _proc_stat(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (index 0 is the state), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_start_time(pid: int) -> int | None:
    """The kernel's start time of pid (clock ticks since boot): with the pid, a unique process identity."""
    fields = _proc_stat(pid)
    return int(fields[19]) if fields else None


def pid_alive(pid: int, start_time: int | None = None) -> bool:
    """True if pid runs (not a zombie) and, when start_time is given, is still that same process."""
    fields = _proc_stat(pid)
    if not fields or fields[0] in ("Z", "X"):
        return False
    return start_time is None or int(fields[19]) == start_time


def spawn_logged(argv: Sequence[str], log_path: Path, cwd: Path,
                 env: Mapping[str, str] | None = None) -> tuple[subprocess.Popen[bytes], int]:
    """Start ``argv`` in its own session with stdout and stderr appended to ``log_path`` after a dated header
    line; returns the process and the byte offset where this run's log begins (for ``tail``)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "ab") as log:
        offset = log.tell()
        log.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} {' '.join(argv)}\n".encode())
        log.flush()
        child = subprocess.Popen(list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                 cwd=cwd, env=None if env is None else dict(env), start_new_session=True)
    return child, offset


def read_state(path: Path) -> dict[str, Any]:
    """A JSON state file's content ({} when missing or unreadable)."""
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return {}


def write_state(path: Path, state: Mapping[str, Any]) -> None:
    """Write a JSON state file atomically (another process may read it at any moment)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2) + "\n")
    tmp.replace(path)


def tail(path: Path, lines: int = 40, offset: int = 0) -> str:
    """The last lines of a log file from byte offset on ('' if missing)."""
    try:
        with open(path, "rb") as log:
            log.seek(offset)
            return "\n".join(log.read().decode(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def _gone(pid: int, start_time: int | None) -> bool:
    """pid has exited: reaped if it is our child, else no longer running (or no longer the same process).

    A multi-threaded child shows as a zombie before waitpid can collect it, so children are waited for.
    """
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return not pid_alive(pid, start_time)


def stop_process_group(pid: int, start_time: int | None, timeout: float = 15.0) -> None:
    """SIGTERM the process group led by pid, then SIGKILL it if it has not exited after timeout.

    Nothing is signalled once pid has exited or belongs to another process (start time differs).
    """
    for sig in (signal.SIGTERM, signal.SIGKILL):
        if _gone(pid, start_time):
            return
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _gone(pid, start_time):
                return
            time.sleep(0.05)
