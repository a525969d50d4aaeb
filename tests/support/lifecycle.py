"""Helpers of the end-to-end lifecycle tests: step timings, and what a node holds (certs.d tree, containerd pid).

The temp copy of the program and its stack file are in lab/project.py (the benchmarks use them too).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from lab.testbed import Node, Testbed


class Timings:
    """Wall-clock seconds of named steps, kept in order of first occurrence (repeats are listed too)."""

    def __init__(self) -> None:
        self.steps: dict[str, list[float]] = {}

    @contextmanager
    def measure(self, name: str) -> Iterator[None]:
        began = time.monotonic()
        try:
            yield
        finally:
            self.steps.setdefault(name, []).append(round(time.monotonic() - began, 1))

    def record(self, name: str, seconds: float) -> None:
        self.steps.setdefault(name, []).append(round(seconds, 1))

    def write(self, path: Path, **extra: Any) -> None:
        """Write ``{"steps": {name: {"first", "all"}}, ...extra}`` as JSON."""
        path.parent.mkdir(parents=True, exist_ok=True)
        steps = {k: {"first": v[0], "all": v} for k, v in self.steps.items()}
        path.write_text(json.dumps({"steps": steps, **extra}, indent=2) + "\n")


def certs_tree(node: Node) -> dict[str, str]:
    """Every file under the node's /etc/containerd (relative path -> content)."""
    etc = node.path / "etc-containerd"
    return {str(p.relative_to(etc)): p.read_text() for p in sorted(etc.rglob("*")) if p.is_file()}


def containerd_pids(bed: Testbed) -> dict[str, str]:
    """Each node's containerd pid (a restart changes it)."""
    return {n.name: (n.path / "containerd.pid").read_text().strip() for n in bed.nodes}


def hosts_toml(node: Node, host: str) -> Path:
    """The node's hosts.toml for one registry host."""
    return node.path / "etc-containerd" / "certs.d" / host / "hosts.toml"
