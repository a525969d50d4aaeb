"""Fault matrix row: ``pulumi up`` interrupted (Ctrl-C to its whole process group, then ``kill -9``) mid-run, once
while Harbor objects are being created and once while the node script runs on a node (docs/faults.md).

After the kill: the stack's lock and the engine's pending operations are left in the file backend, Harbor holds
at most one object of each name, every node is either untouched or fully configured with containerd running.
Recovery as docs/faults.md tells an operator: ``pulumi cancel`` (the lock of a dead run), ``pulumi refresh
--clear-pending-creates`` (operations the dead engine never finished), then ``pulumi up``: one object of each
kind, every node configured, no pending operation, and a further ``up`` has nothing to do.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from lab.testbed import faults
from tests.e2e.fault_sandbox import FaultStack, changes, fault_stack, pending_operations

pytestmark = pytest.mark.engine

EXPECTED = {"registries": ["interrupt-upstream"], "projects": ["mif", "mif-replica"],
            "policies": ["mif-replica-from-interrupt-upstream"]}


@pytest.fixture(scope="module")
def fs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    with fault_stack(tmp_path_factory.mktemp("interrupt"), "interrupt") as f:
        yield f


def interrupted_up(fs: FaultStack, in_flight: Callable[[], bool], timeout: float = 180) -> tuple[str, float]:
    """Start ``pulumi up`` in its own process group, wait until ``in_flight()``, then Ctrl-C and ``kill -9``
    the group; the engine's output and the seconds from start to the interrupt."""
    log = fs.work.parent / f"interrupted-up-{time.monotonic_ns()}.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(fs.up_argv(), env={**os.environ, **fs.env}, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    began = time.monotonic()
    try:
        while not in_flight():
            assert proc.poll() is None, "the up ended before the fault point:\n" + log.read_text()[-3000:]
            assert time.monotonic() - began < timeout, "never reached the fault point:\n" + log.read_text()[-3000:]
            time.sleep(0.1)
        at = time.monotonic() - began
        faults.interrupt_then_kill(proc, grace=2.0)
    finally:
        if proc.poll() is None:
            faults.interrupt_then_kill(proc, grace=0)
    return log.read_text(), at


def last_lines(output: str, n: int = 6) -> str:
    return " | ".join(line.strip() for line in output.strip().splitlines()[-n:])


def locked(fs: FaultStack) -> bool:
    return any(p.is_file() for p in (Path(fs.env["PULUMI_BACKEND_URL"][len("file://"):]) / ".pulumi" / "locks")
               .rglob("*.json"))


def assert_at_most_one(fs: FaultStack) -> dict[str, list[str]]:
    objects = fs.harbor_objects()
    for kind, names in objects.items():
        assert len(names) == len(set(names)), f"duplicate Harbor {kind}: {names}"
        assert set(names) <= set(EXPECTED[kind]), objects
    return objects


def assert_nodes_whole(fs: FaultStack, original: dict[str, dict[str, str]]) -> dict[str, str]:
    """Each node untouched or fully configured (its hosts.toml for the upstream present), containerd running."""
    verdict = {}
    for name, node in fs.nodes_state().items():
        assert node["containerd"], f"{name}: containerd is not running"
        files = node["files"]
        configured = any(p.endswith("hosts.toml") for p in files)
        if not configured:
            assert files == original[name], f"{name}: neither untouched nor configured: {sorted(files)}"
        verdict[name] = "configured" if configured else "untouched"
    return verdict


def recover(fs: FaultStack) -> dict[str, object]:
    """What docs/faults.md tells the operator after a killed ``up``, timed; returns what each step showed."""
    seen: dict[str, object] = {}
    refused = fs.cli("up", "--yes", "--skip-preview", "--non-interactive")
    said = refused.stdout + refused.stderr
    assert refused.returncode != 0 and "currently locked" in said and "pulumi cancel" in said, said[-2000:]
    seen["up_refused"] = True
    began = time.monotonic()
    cancel = fs.cli("cancel", "--yes")
    assert cancel.returncode == 0, cancel.stdout + cancel.stderr
    refresh = fs.cli("refresh", "--yes", "--skip-preview", "--non-interactive", "--clear-pending-creates")
    assert refresh.returncode == 0, refresh.stdout[-3000:] + refresh.stderr[-3000:]
    result = fs.stack.up(on_output=fs.output.append)
    seen["converge_s"] = round(time.monotonic() - began, 1)
    assert result.summary.result == "succeeded"
    seen["recovery_changes"] = changes(result.summary)
    again = fs.stack.up(on_output=fs.output.append)
    assert set(changes(again.summary)) == {"same"}, changes(again.summary)
    return seen


def assert_converged(fs: FaultStack) -> None:
    assert fs.harbor_objects() == EXPECTED
    assert not pending_operations(fs.deployment())
    assert not locked(fs)
    for name, node in fs.nodes_state().items():
        assert node["containerd"], name
        assert any(p.endswith("hosts.toml") for p in node["files"]), f"{name} not configured: {node['files']}"
    for name in fs.nodes_state():
        ok, log = fs.box.pulled_through_cache(name)
        assert ok, f"{name} did not pull through Harbor's path: {log}"


def test_interrupted_while_harbor_objects_are_created(fs: FaultStack) -> None:
    original = {n: s["files"] for n, s in fs.nodes_state().items()}
    fs.box.double.faults(slow=3.0)  # every Harbor API call takes 3 s: the kill lands inside a create
    registry_seen: list[float] = []

    def project_post_in_flight() -> bool:
        if not registry_seen and fs.harbor_objects()["registries"]:
            registry_seen.append(time.monotonic())
        # a project create is a look-up (3 s) then the POST (3 s): 4.5 s after the registry, inside the POST
        return bool(registry_seen) and time.monotonic() - registry_seen[0] > 4.5

    try:
        output, at = interrupted_up(fs, project_post_in_flight)
    finally:
        fs.box.double.faults(slow=0)
    time.sleep(4)  # a POST the double was still holding is carried out (the client is gone)
    left = assert_at_most_one(fs)
    nodes = assert_nodes_whole(fs, original)
    pending = pending_operations(fs.deployment())
    assert locked(fs), "a killed up leaves its lock"
    seen = recover(fs)
    assert_converged(fs)
    print(f"FAULT interrupt-harbor at_s={at:.1f} harbor_after_kill={left} nodes={nodes} pending={pending} "
          f"{seen} engine_said={last_lines(output)!r}")


def test_interrupted_while_a_node_script_runs(fs: FaultStack) -> None:
    fs.stack.destroy(on_output=fs.output.append)
    original = {n: s["files"] for n, s in fs.nodes_state().items()}
    node = fs.box.bed.nodes[0]
    hold = faults.hold_after_rename(node, "*/config.toml")
    try:
        output, at = interrupted_up(fs, hold.held.exists)
        time.sleep(1)
    finally:
        hold.release()  # the node script, whose SSH client is dead, goes on (or is gone)
    time.sleep(3)
    left = assert_at_most_one(fs)
    nodes = assert_nodes_whole(fs, original)
    pending = pending_operations(fs.deployment())
    assert locked(fs)
    seen = recover(fs)
    assert_converged(fs)
    print(f"FAULT interrupt-node at_s={at:.1f} harbor_after_kill={left} nodes={nodes} pending={pending} {seen} "
          f"engine_said={last_lines(output)!r}")
