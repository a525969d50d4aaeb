"""Processes the lab starts in their own session: identity (pid + start time), liveness, stopping, logs, ports.

A pid alone can be reused by another process once ours exits, so every stop checks the kernel's start time
recorded next to the pid.
"""

from __future__ import annotations

import os
import signal
import socket
import time
from pathlib import Path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
