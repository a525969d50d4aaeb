"""Running the real Pulumi engine on a copy of a program: the tool environment and Automation API workspaces.

Used by the sandbox CLI, the e2e tests and the benchmarks.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pulumi import automation as auto

from lab.paths import ROOT, TOOLS_BIN, tools_root

PASSPHRASE = "harbor-cache-tests"  # noqa: S105 (temp stacks of tests and benchmarks only)
ENGINE_BINARIES = ("pulumi", "pulumi-language-python")


def engine_ready() -> bool:
    """scripts/setup has linked the Pulumi engine and our language host into .tools/bin."""
    return all((TOOLS_BIN / name).exists() for name in ENGINE_BINARIES)


def engine_env(backend_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for the pulumi CLI: our tools first on PATH, a file backend, nothing from the internet."""
    env = {
        "PATH": f"{TOOLS_BIN}:{ROOT / '.venv' / 'bin'}:{os.environ.get('PATH', '')}",
        "PULUMI_HOME": os.environ.get("PULUMI_HOME", str(tools_root() / "pulumi-home")),
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
