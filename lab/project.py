"""A temp copy of the program (so stack files never land in the repository), its stack file, a fresh SSH key."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from lab.paths import ROOT

NAMESPACE = "harbor-cache"
PROGRAM_FILES = ("__main__.py", "Pulumi.yaml", "requirements.txt")
PROGRAM_DIRS = ("components",)  # the Harbor chart is installed from ../shared/charts by absolute path


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
