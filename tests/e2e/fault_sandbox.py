"""A private sandbox and one stack on it, for the engine rows of the fault matrix that need the whole program
(interrupted ``up``, kube-apiserver restart, upstream down: tests/e2e/test_interrupt.py,
test_apiserver_restart.py, test_upstream_down.py), and what those rows check after a fault and after the
recovery ``up``: node files, containerd, Harbor's objects (the double's store) and Pulumi's state.

Subnet: ``HARBOR_CACHE_E2E_SUBNET`` (default 10.244), free loopback ports, temp file backend and passphrase.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from lab.engine import engine_env
from lab.paths import TOOLS_BIN
from lab.project import ssh_keypair
from lab.sandbox import Sandbox
from tests.support.lifecycle import certs_tree
from tests.support.requirements import require_engine, require_kube, require_root
from tests.support.sandboxes import admin_password, private_spec, program_stack

HARBORS_OWN_PROJECT = "library"


@dataclass
class FaultStack:
    """The sandbox, the stack and the engine environment of one fault row."""

    box: Sandbox
    stack: auto.Stack
    name: str
    work: Path
    env: dict[str, str]
    output: list[str] = field(default_factory=list)

    def cli(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        """The pulumi CLI on this stack, as a person runs it (text output, no check)."""
        return subprocess.run([str(TOOLS_BIN / "pulumi"), *args, "--stack", self.name, "--cwd", str(self.work)],
                              env={**os.environ, **self.env}, capture_output=True, text=True, timeout=timeout,
                              check=False)

    def up_argv(self) -> list[str]:
        """``pulumi up`` without prompts, as a person or CI runs it."""
        return [str(TOOLS_BIN / "pulumi"), "up", "--yes", "--skip-preview", "--non-interactive",
                "--stack", self.name, "--cwd", str(self.work)]

    def deployment(self) -> dict[str, Any]:
        """The stack's checkpoint (``pulumi stack export``): resources and pending operations."""
        out = self.cli("stack", "export")
        assert out.returncode == 0, out.stderr
        deployment: dict[str, Any] = json.loads(out.stdout)["deployment"]
        return deployment

    def harbor_objects(self) -> dict[str, list[str]]:
        """Names of every registry, project (but Harbor's own) and replication policy in the double's store."""
        state = self.box.double.state()
        return {"registries": sorted(r["name"] for r in state["registries"].values()),
                "projects": sorted(p["name"] for p in state["projects"].values()
                                   if p["name"] != HARBORS_OWN_PROJECT),
                "policies": sorted(p["name"] for p in state["policies"].values())}

    def nodes_state(self) -> dict[str, dict[str, Any]]:
        """Each node's /etc/containerd files and whether containerd answers."""
        return {n.name: {"files": certs_tree(n), "containerd": n.containerd_running()} for n in self.box.bed.nodes}


def pending_operations(deployment: dict[str, Any]) -> list[tuple[str, str]]:
    """(type, urn) of every operation a killed engine left pending in the checkpoint."""
    return [(op["type"], op["resource"]["urn"]) for op in deployment.get("pending_operations") or []]


def changes(summary: auto.UpdateSummary) -> dict[str, int]:
    """The summary's resource changes by operation name ("create", "same", ...)."""
    return {str(getattr(op, "value", op)): n for op, n in (summary.resource_changes or {}).items()}


@contextmanager
def fault_stack(base: Path, name: str, nodes: int = 2, **overrides: Any) -> Iterator[FaultStack]:
    """A sandbox (``nodes`` containerd 1.6 nodes) and the stack ``name`` of a temp copy of the program, configured
    like the e2e lifecycle (real chart, proxy project plus replication, SSH nodes); ``overrides`` replace
    top-level settings. Everything is destroyed and stopped at the end."""
    require_engine()
    require_kube()
    require_root()
    private_key, public_key = ssh_keypair(base)
    password = admin_password("fault")
    spec = private_spec(base, "10.244", password, public_key, flavors=["1.6"] * nodes)
    box = Sandbox(spec)
    st: auto.Stack | None = None
    try:
        box.up()
        program = program_stack(base, name, f"fault row {name}", {**box.stack_values(name), **overrides},
                                {"adminPassword": password, "upstreamSecretKey": "fault-" + secrets.token_hex(8),
                                 "sshPrivateKey": private_key})
        st = program.stack
        yield FaultStack(box, st, name, program.work, program.env)
    finally:
        try:
            if st is not None:
                pulumi = [str(TOOLS_BIN / "pulumi"), "--stack", name, "--cwd", str(base / "program")]
                env = {**os.environ, **engine_env(base / "state")}
                for args in (["cancel", "--yes"], ["refresh", "--yes", "--skip-preview", "--non-interactive",
                                                   "--clear-pending-creates"]):
                    subprocess.run([pulumi[0], *args, *pulumi[1:]], env=env, capture_output=True, check=False,
                                   timeout=300)
                try:
                    st.destroy()
                finally:
                    st.workspace.remove_stack(name, force=True)
        finally:
            box.down()
