"""What the report needs from the stack: its outputs (which projects cache which hosts, Harbor's API URL and CA)
and Harbor's admin password, read with the ``pulumi`` CLI in the project directory. The password is held in
memory only: never printed, never on a command line (``pulumi config get`` decrypts it to a pipe)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PASSWORD_KEY = "harbor-cache:adminPassword"  # noqa: S105 - the setting's name, not a password


class ReportError(RuntimeError):
    """The report cannot be made; the message says which stack, output or call, and what to do."""


@dataclass(frozen=True)
class CacheTarget:
    """One proxy-cache project and the registry hosts whose pulls it caches."""

    project: str
    hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class StackView:
    """The stack's outputs the report reads."""

    stack: str
    api_url: str  # Harbor's base URL (without /api/v2.0)
    admin_user: str
    ca_pem: str | None
    targets: tuple[CacheTarget, ...] = field(default_factory=tuple)


def _project_of(prefix: str) -> str:
    return prefix.rstrip("/").rsplit("/", 1)[-1]


def targets_from_outputs(outputs: Mapping[str, Any]) -> tuple[CacheTarget, ...]:
    """The proxy-cache projects the outputs name, each with its hosts, in order of first mention.

    ``imagePrefixes`` (host -> ``<harbor>/<project>``) when the stack exports it; else the single-upstream
    outputs ``imagePrefix`` and ``upstreamRegistry``; else ``cacheProjects`` (no hosts known).
    """
    hosts: dict[str, list[str]] = {}
    prefixes = outputs.get("imagePrefixes")
    if isinstance(prefixes, Mapping) and prefixes:
        for host, prefix in prefixes.items():
            hosts.setdefault(_project_of(str(prefix)), []).append(str(host))
    elif outputs.get("imagePrefix"):
        upstream = outputs.get("upstreamRegistry")
        hosts[_project_of(str(outputs["imagePrefix"]))] = [str(upstream)] if upstream else []
    else:
        for name in outputs.get("cacheProjects") or []:
            hosts.setdefault(str(name), [])
    return tuple(CacheTarget(project, tuple(h)) for project, h in hosts.items())


def view_from_outputs(stack: str, outputs: Mapping[str, Any], api_url: str | None = None) -> StackView:
    """The report's view of ``outputs`` (``api_url`` overrides the ``apiUrl`` output)."""
    url = api_url or str(outputs.get("apiUrl") or "")
    if not url:
        raise ReportError(f"stack {stack} has no apiUrl output: run pulumi up first, or pass --api-url")
    url = url.rstrip("/").removesuffix("/api/v2.0")
    targets = targets_from_outputs(outputs)
    if not targets:
        raise ReportError(f"stack {stack} names no proxy-cache project in its outputs (imagePrefixes, imagePrefix "
                          "or cacheProjects): is the proxy project enabled?")
    ca = outputs.get("caCertificate")
    return StackView(stack, url, str(outputs.get("adminUser") or "admin"),
                     str(ca) if ca and url.startswith("https://") else None, targets)


def _pulumi(args: list[str], cwd: Path, what: str) -> str:
    try:
        done = subprocess.run(["pulumi", *args, "--non-interactive"], cwd=cwd, capture_output=True, text=True,
                              timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ReportError(f"cannot run pulumi to read {what}: {exc}") from None
    if done.returncode != 0:
        tail = " | ".join(done.stderr.strip().splitlines()[-3:])
        raise ReportError(f"pulumi could not read {what}: {tail}")
    return done.stdout


def read_stack(stack: str, cwd: Path, api_url: str | None = None) -> tuple[StackView, str]:
    """The stack's view and Harbor's admin password (``PULUMI_CONFIG_PASSPHRASE`` or the backend decrypts it)."""
    outputs = json.loads(_pulumi(["stack", "output", "--json", "--stack", stack], cwd, f"the outputs of {stack}"))
    password = _pulumi(["config", "get", PASSWORD_KEY, "--stack", stack], cwd, f"{PASSWORD_KEY} of {stack}")
    return view_from_outputs(stack, outputs, api_url), password.rstrip("\n")
