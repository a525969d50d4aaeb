"""The private sandbox an engine test module starts for itself: its subnet and its spec, written once."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

from lab.processes import free_port
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
