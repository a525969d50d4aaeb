"""Helpers for the end-to-end lifecycle tests: a temp copy of the program, its stack file, timings, nodes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.testbed import Node, Testbed

ROOT = Path(__file__).resolve().parents[2]
NAMESPACE = "harbor-cache"
PROGRAM_FILES = ("__main__.py", "Pulumi.yaml", "requirements.txt")
PROGRAM_DIRS = ("components", "sandbox/chart")


def require_root() -> None:
    """Fail under CI, skip elsewhere, when not root (network namespaces, sshd, containerd)."""
    if os.geteuid() == 0:
        return
    message = "the e2e tier needs root (network namespaces, sshd and containerd for the nodes)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def copy_project(dest: Path) -> Path:
    """The program (no stack files) in ``dest``, so a test's stack files never land in the repository."""
    dest.mkdir(parents=True, exist_ok=True)
    for name in PROGRAM_FILES:
        shutil.copy2(ROOT / name, dest / name)
    for name in PROGRAM_DIRS:
        shutil.copytree(ROOT / name, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def ssh_keypair(directory: Path) -> tuple[str, str]:
    """A fresh ed25519 key pair (private PEM, public line) for one test run."""
    key = directory / "id_ed25519"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "harbor-cache e2e", "-f", str(key)],
                   check=True, capture_output=True)
    private, public = key.read_text(), (directory / "id_ed25519.pub").read_text().strip()
    key.unlink()
    return private, public


class StackFile:
    """``Pulumi.<stack>.yaml`` of the temp project: plain values written directly, secrets left as they are."""

    def __init__(self, work_dir: Path, stack: str) -> None:
        self.path = work_dir / f"Pulumi.{stack}.yaml"

    def read(self) -> dict[str, Any]:
        doc: dict[str, Any] = yaml.safe_load(self.path.read_text()) if self.path.exists() else {}
        return doc or {}

    def values(self) -> dict[str, Any]:
        """The harbor-cache values (key without namespace), secrets excluded."""
        config = self.read().get("config") or {}
        return {k.split(":", 1)[1]: v for k, v in config.items()
                if k.startswith(NAMESPACE + ":") and not (isinstance(v, dict) and "secure" in v)}

    def set(self, values: dict[str, Any]) -> None:
        """Replace the given harbor-cache keys (objects as YAML objects), keeping secrets and the salt."""
        doc = self.read()
        config = doc.setdefault("config", {})
        for key, value in values.items():
            config[f"{NAMESPACE}:{key}"] = value
        self.path.write_text(yaml.safe_dump(doc, sort_keys=False))

    def edit(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Apply ``change`` to a copy of the values and write them back."""
        values = json.loads(json.dumps(self.values()))
        change(values)
        self.set(values)


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
