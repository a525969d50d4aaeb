"""The private sandbox an engine test module starts for itself: its subnet and its spec, written once."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from lab.engine import engine_env, python_project, stack
from lab.processes import free_port
from lab.project import StackFile, copy_project
from lab.sandbox import SandboxSpec


def e2e_subnet(default: str) -> str:
    """``HARBOR_CACHE_E2E_SUBNET`` when set and not empty, else the module's own default (modules differ so that
    two of them can run at once)."""
    return os.environ.get("HARBOR_CACHE_E2E_SUBNET") or default


def private_spec(base: Path, default_subnet: str, admin_password: str, public_key: str, **fields: Any) -> SandboxSpec:
    """A sandbox under ``base/sandbox`` on free loopback ports, whose nodes accept ``public_key``."""
    return SandboxSpec(dir=str(base / "sandbox"), admin_password=admin_password, subnet=e2e_subnet(default_subnet),
                       double_port=free_port(), control_port=free_port(), authorized_keys=[public_key], **fields)


def admin_password(label: str) -> str:
    """A fresh Harbor admin password that always passes Harbor's rule (an upper, a lower, a digit): a random
    token alone lacks a digit in about one run in fifteen."""
    return f"{label}-Aa1-{secrets.token_urlsafe(12)}"


@dataclass
class ProgramStack:
    """A temp copy of the program and one stack of it on a file backend."""

    work: Path
    env: dict[str, str]
    stack: auto.Stack
    config: StackFile


def program_stack(base: Path, name: str, description: str, values: dict[str, Any],
                  secret_settings: Mapping[str, str]) -> ProgramStack:
    """The program copied to ``base/program``, its stack ``name`` on a file backend in ``base/state``, with the
    plain ``values`` and the ``secret_settings`` (setting name -> value, stored as Pulumi secrets)."""
    work = copy_project(base / "program")
    (base / "state").mkdir()
    env = engine_env(base / "state")
    st = stack(work, name, env, python_project("harbor-cache", description))
    config = StackFile(work, name)
    config.set(values)
    for key, value in secret_settings.items():
        st.set_config(f"harbor-cache:{key}", auto.ConfigValue(value, secret=True))
    return ProgramStack(work, env, st, config)
