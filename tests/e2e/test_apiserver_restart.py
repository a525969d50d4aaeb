"""Fault matrix row: kube-apiserver restarted while ``pulumi up`` updates the Helm release (docs/faults.md).

The stack is up; a chart value changes; when the engine starts the Release update, the sandbox's kube-apiserver
is stopped, kept down a few seconds and started again on the same etcd (``LocalKube.restart_apiserver``, by
hand ``python -m lab kube --state-dir <sandbox>/kube restart-apiserver --down 5``). That ``up`` must fail with an
error naming the release and the unreachable API server, leave Harbor's objects and the nodes as they were,
and the next ``up`` must converge: the release deployed with the new value, nothing pending, nothing to do after.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pulumi import automation as auto

from lab.kube import kubectl_path
from lab.project import StackFile
from tests.e2e.fault_sandbox import FaultStack, changes, fault_stack, pending_operations

pytestmark = pytest.mark.engine

DOWN_S = 5.0
NS = "harbor"


@pytest.fixture(scope="module")
def fs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    with fault_stack(tmp_path_factory.mktemp("apiserver"), "apiserver") as f:
        yield f


def helm_releases(fs: FaultStack) -> list[dict[str, Any]]:
    """Helm's release records of the ``harbor`` release (version, status), oldest first."""
    got = fs.box.kube.kubectl("get", "secrets", "-n", NS, "-l", "owner=helm,name=harbor", "-o", "json")
    items = json.loads(got.stdout)["items"]
    return sorted(({"version": int(s["metadata"]["labels"]["version"]),
                    "status": s["metadata"]["labels"]["status"]} for s in items), key=lambda r: r["version"])


def portal_annotation(fs: FaultStack) -> str | None:
    dep = json.loads(fs.box.kube.kubectl("get", "deployment", "harbor-portal", "-n", NS, "-o", "json").stdout)
    annotations: dict[str, str] = dep["spec"]["template"]["metadata"].get("annotations") or {}
    return annotations.get("harbor-cache/fault")


def set_annotation(fs: FaultStack, value: str) -> None:
    def change(values: dict[str, Any]) -> None:
        values["harbor"].setdefault("values", {})["portal"] = {"podAnnotations": {"harbor-cache/fault": value}}
    StackFile(fs.work, fs.name).edit(change)


def test_apiserver_restart_during_the_release_update(fs: FaultStack) -> None:
    first = fs.stack.up(on_output=fs.output.append)
    assert first.summary.result == "succeeded"
    objects, nodes = fs.harbor_objects(), fs.nodes_state()
    assert helm_releases(fs)[-1]["status"] == "deployed"

    set_annotation(fs, "restart")
    restarted: dict[str, float] = {}
    started = threading.Event()

    def watch(line: str) -> None:
        fs.output.append(line)
        if "helm.sh/v3:Release" in line and "updating" in line and not started.is_set():
            started.set()

    def restart() -> None:
        if started.wait(300):
            restarted["after_s"] = time.monotonic() - began
            restarted["unreachable_s"] = fs.box.kube.restart_apiserver(DOWN_S)

    injector = threading.Thread(target=restart)
    injector.start()
    began = time.monotonic()
    try:
        with pytest.raises(auto.CommandError) as failed:
            fs.stack.up(on_output=watch)
        failed_s = time.monotonic() - began
    finally:
        started.set()
        injector.join(120)
    message = str(failed.value)
    assert restarted, "the Release update never started"
    error_lines = [line.strip() for line in message.splitlines() if "error" in line.lower()]
    # Where helm was when the API server went (cluster check, a template's lookup, the apply) changes the words;
    # the Release is always the resource named, with the API server's address and the refused connection.
    api = fs.box.kube.server_url.removeprefix("https://")
    assert "helm.sh/v3:Release (harbor-release)" in message and api in message, message[-4000:]
    assert "connection refused" in message or "unreachable" in message, message[-4000:]

    # After the fault: Harbor's objects and the nodes as they were; the checkpoint holds no pending operation.
    assert fs.box.kube.is_ready()
    assert fs.harbor_objects() == objects
    assert fs.nodes_state() == nodes
    after_fault = helm_releases(fs)
    pending = pending_operations(fs.deployment())

    began = time.monotonic()
    try:
        recovery = fs.stack.up(on_output=fs.output.append)
    except auto.CommandError as exc:
        pytest.fail(f"the up after the restart did not converge (helm records {helm_releases(fs)}):\n"
                    f"{str(exc)[-4000:]}")
    converge_s = time.monotonic() - began
    assert recovery.summary.result == "succeeded"
    assert helm_releases(fs)[-1]["status"] == "deployed"
    assert portal_annotation(fs) == "restart"
    assert not pending_operations(fs.deployment())
    assert fs.harbor_objects() == objects
    assert fs.nodes_state() == nodes
    again = fs.stack.up(on_output=fs.output.append)
    assert set(changes(again.summary)) == {"same"}, changes(again.summary)
    print(f"FAULT apiserver-restart restarted_after_s={restarted['after_s']:.1f} "
          f"unreachable_s={restarted['unreachable_s']:.1f} up_failed_after_s={failed_s:.1f} "
          f"helm_after_fault={after_fault} pending={pending} recovery={changes(recovery.summary)} "
          f"converge_s={converge_s:.1f} error={' | '.join(error_lines[-4:])[:900]!r}")


def test_apiserver_restart_while_helm_upgrades(fs: FaultStack) -> None:
    """The restart lands after helm wrote the new revision as ``pending-upgrade`` (helm is applying the chart)."""
    objects, nodes = fs.harbor_objects(), fs.nodes_state()
    set_annotation(fs, "pending")
    watch = subprocess.Popen([*kubectl_argv(fs), "get", "secrets", "-n", NS, "-l", "owner=helm,status=pending-upgrade",
                              "--watch-only", "-o", "name"], stdout=subprocess.PIPE, text=True)
    restarted: dict[str, float] = {}

    def restart_on_pending() -> None:
        assert watch.stdout is not None
        if watch.stdout.readline():
            restarted["unreachable_s"] = fs.box.kube.restart_apiserver(DOWN_S)

    injector = threading.Thread(target=restart_on_pending)
    injector.start()
    outcome = "succeeded"
    try:
        fs.stack.up(on_output=fs.output.append)
    except auto.CommandError as exc:
        outcome = " | ".join(line.strip() for line in str(exc).splitlines() if "error" in line.lower())[-900:]
    finally:
        watch.kill()
        injector.join(120)
    assert restarted, "helm never wrote a pending-upgrade revision"
    after_fault = helm_releases(fs)
    assert fs.harbor_objects() == objects
    assert fs.nodes_state() == nodes
    began = time.monotonic()
    said: list[str] = []
    try:
        recovery = fs.stack.up(on_output=said.append)
    except auto.CommandError as exc:
        pytest.fail(f"the up after the restart did not converge (helm records {helm_releases(fs)}):\n"
                    f"{str(exc)[-4000:]}")
    converge_s = time.monotonic() - began
    if after_fault[-1]["status"] == "pending-upgrade":  # helm was cut off: the program unblocks the release
        assert any("was pending-upgrade, left by an interrupted run" in line for line in said), said[-40:]
    assert helm_releases(fs)[-1]["status"] == "deployed"
    assert portal_annotation(fs) == "pending"
    assert not pending_operations(fs.deployment())
    again = fs.stack.up(on_output=fs.output.append)
    assert set(changes(again.summary)) == {"same"}, changes(again.summary)
    print(f"FAULT apiserver-restart-mid-helm outcome={outcome!r} helm_after_fault={after_fault} "
          f"recovery={changes(recovery.summary)} converge_s={converge_s:.1f}")


def kubectl_argv(fs: FaultStack) -> list[str]:
    return [str(kubectl_path()), "--kubeconfig", str(fs.box.kube.kubeconfig_path)]
