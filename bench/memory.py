"""Peak resident memory of the Pulumi Python processes started under this process (program and provider).

A background thread walks /proc every ``interval`` seconds, finds our descendants, and keeps the highest
``VmHWM`` (the kernel's own peak-RSS counter, so a peak between two samples is not missed as long as the
process is seen once before it exits) per role: ``program`` (the language host's Python running
``__main__``) and ``provider`` (the dynamic-provider Python).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType


def _status(pid: str) -> dict[str, str]:
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        out[key] = value.strip()
    return out


def _descendants(root: int) -> list[str]:
    parents: dict[str, str] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parents[entry] = _status(entry).get("PPid", "")
            except OSError:
                continue
    found: list[str] = []
    frontier = {str(root)}
    while frontier:
        children = {pid for pid, ppid in parents.items() if ppid in frontier}
        found += children
        frontier = children
    return found


def role(cmdline: str) -> str | None:
    """``program``, ``provider`` or None (not a Pulumi Python process)."""
    if "python" not in cmdline:
        return None
    if "dynamic" in cmdline or "pulumi-resource-pulumi-python" in cmdline:
        return "provider"
    if "__main__" in cmdline or "pulumi-language-python-exec" in cmdline or "language" in cmdline:
        return "program"
    return None


class PeakRss:
    """``with PeakRss() as peak: ...``; then ``peak.mb`` = {role: MiB} and ``peak.commands`` for the record."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.kb: dict[str, int] = {}
        self.commands: dict[str, str] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    @property
    def mb(self) -> dict[str, float]:
        """Peak RSS per role in MiB."""
        return {k: round(v / 1024, 1) for k, v in self.kb.items()}

    def _loop(self) -> None:
        me = os.getpid()
        while not self._stop.wait(self.interval):
            for pid in _descendants(me):
                try:
                    cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                    hwm = int(_status(pid).get("VmHWM", "0 kB").split()[0])
                except (OSError, ValueError):
                    continue
                kind = role(cmd)
                if kind and hwm > self.kb.get(kind, 0):
                    self.kb[kind] = hwm
                    self.commands[kind] = cmd[:200]
