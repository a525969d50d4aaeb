"""Running the real Pulumi engine from tests: the tool environment and Automation API workspaces."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

ROOT = Path(__file__).resolve().parents[2]
TOOLS_BIN = ROOT / ".tools" / "bin"
PASSPHRASE = "harbor-cache-tests"


def require_engine() -> None:
    """Fail (in CI) or skip (elsewhere) when scripts/setup has not prepared the engine."""
    if (TOOLS_BIN / "pulumi").exists() and (TOOLS_BIN / "pulumi-language-python").exists():
        return
    message = "the Pulumi engine is not set up: run scripts/setup"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def engine_env(backend_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for the pulumi CLI: our tools first on PATH, a file backend, nothing from the internet."""
    tools = os.environ.get("HARBOR_CACHE_TOOLS", str(Path.home() / ".cache" / "harbor-cache-tools"))
    env = {
        "PATH": f"{TOOLS_BIN}:{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
        "PULUMI_HOME": os.environ.get("PULUMI_HOME", f"{tools}/pulumi-home"),
        "PULUMI_BACKEND_URL": backend_dir.as_uri(),
        "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
        "PULUMI_DIY_BACKEND_NO_LEGACY_WARNING": "true",
    }
    env.update(extra)
    return env


def python_project(name: str, description: str = "") -> auto.ProjectSettings:
    """Project settings for a Python program running in the repository's virtualenv."""
    return auto.ProjectSettings(
        name=name, description=description,
        runtime=auto.ProjectRuntimeInfo(name="python", options={"virtualenv": str(ROOT / ".venv")}))


def copy_program(source: Path, dest: Path) -> Path:
    """Copy a program into a temp work dir (stack files then land there, not in the repository)."""
    shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", "Pulumi.*.yaml"))
    return dest


def stack(work_dir: Path, stack_name: str, env: dict[str, str], project: auto.ProjectSettings | None = None,
          ) -> auto.Stack:
    """Create (or select) a stack of the program in work_dir with the given environment."""
    cmd = auto.PulumiCommand(root=str(TOOLS_BIN.parent), skip_version_check=True) \
        if (TOOLS_BIN / "pulumi").exists() else None
    opts = auto.LocalWorkspaceOptions(work_dir=str(work_dir), env_vars=env, project_settings=project,
                                      pulumi_command=cmd)
    return auto.create_or_select_stack(stack_name, work_dir=str(work_dir), opts=opts)


def quiet(lines: list[str]) -> Any:
    """An on_output callback that keeps the engine's output for assertions and failure messages."""
    return lines.append
