"""The node rows of the fault matrix (issue 18, docs/faults.md), on the real test bed through the real script.

Each test injects one fault (``lab/testbed/faults.py``) into an apply, checks the node right after it (every
file containerd reads is whole: its original bytes or the configured ones; containerd running), then runs the
provider again without the fault and checks that it converges and that remove restores the original byte for
byte. Times are printed as ``FAULT <row> ...`` lines (``pytest -s``) for docs/faults.md.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from components.node_ssh import NodeContainerdConfigProvider
from components.ssh import NodeError
from lab.testbed import Node, Testbed, faults
from tests.support.node_cases import http_spec, node_of, node_props

pytestmark = pytest.mark.nodes
FLAVORS = ["1.6", "2"]
TEMP_MARK = ".harbor-cache-tmp."


def outs_of(result: Any) -> dict[str, Any]:
    """A provider result's outputs."""
    assert result.outs is not None
    return dict(result.outs)


def visible(node: Node) -> dict[str, bytes]:
    """The node's /etc/containerd files containerd can read (no temp files) and its /etc/hosts."""
    files = {str(p.relative_to(node.path)): p.read_bytes()
             for p in sorted((node.path / "etc-containerd").rglob("*")) if p.is_file() and TEMP_MARK not in p.name}
    files["etc-hosts"] = (node.path / "etc-hosts").read_bytes()
    return files


def everything(node: Node) -> dict[str, bytes]:
    """Like ``visible`` but with leftover temp files too (a converged node has none)."""
    files = {str(p.relative_to(node.path)): p.read_bytes()
             for p in sorted((node.path / "etc-containerd").rglob("*")) if p.is_file()}
    files["etc-hosts"] = (node.path / "etc-hosts").read_bytes()
    return files


def reference(provider: NodeContainerdConfigProvider, node: Node, props: dict[str, Any]
              ) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """The node's files before harbor-cache and when configured (one clean apply + remove in between)."""
    node.reset(node.stock_config())
    before = everything(node)
    outs = outs_of(provider.create(props))
    configured = everything(node)
    provider.delete(node.name, outs)
    assert everything(node) == before
    return before, configured


def assert_whole(node: Node, before: dict[str, bytes], configured: dict[str, bytes]) -> str:
    """Every file is its original or its configured bytes, containerd runs; returns 'untouched', 'configured'
    or 'mixed' (some files new, some old: each whole; containerd reads config.toml only at its restart)."""
    now = visible(node)
    assert set(now) <= set(before) | set(configured), set(now) - set(before) - set(configured)
    states = set()
    for path in set(before) | set(configured):
        assert now.get(path) in (before.get(path), configured.get(path)), f"{path} is neither old nor new"
        if before.get(path) != configured.get(path):  # a file the apply leaves as it is tells nothing
            states.add("old" if now.get(path) == before.get(path) else "new")
    assert node.containerd_running()
    return {frozenset({"old"}): "untouched", frozenset({"new"}): "configured"}.get(frozenset(states), "mixed")


def converge(provider: NodeContainerdConfigProvider, node: Node, props: dict[str, Any],
             configured: dict[str, bytes]) -> tuple[dict[str, Any], float]:
    """The recovery apply (as the next ``pulumi up`` runs it); returns its outputs and its duration."""
    started = time.monotonic()
    outs = outs_of(provider.create(props))
    took = time.monotonic() - started
    assert everything(node) == configured, "the next apply must converge with no temp file left"
    assert outs_of(provider.read(node.name, outs))["in_sync"] is True
    assert node.containerd_running()
    return outs, took


def state_file(node: Node, name: str) -> Path:
    """A file in the node's harbor-cache state directory."""
    return Path(node.state_dir) / name


def report(row: str, **figures: Any) -> None:
    print(f"FAULT {row} " + " ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}"
                                     for k, v in figures.items()))


# ------------------------------------------------------------------------------------------ rows

@pytest.mark.parametrize("flavor", FLAVORS)
def test_ssh_dropped_after_the_first_file(bed: Testbed, provider: NodeContainerdConfigProvider,
                                          flavor: str) -> None:
    node = node_of(bed, flavor)
    props = node_props(node, http_spec(bed))
    before, configured = reference(provider, node, props)
    node.reset(node.stock_config())
    hold = faults.hold_after_rename(node, "*/certs.d/*")
    run = faults.ScriptRun(props, bed.client_key.read_text())
    try:
        pgid = hold.wait()
        run.drop()
        time.sleep(1)  # what sshd does with the session now happens while the script is still paused
    finally:
        hold.release()
    faults.wait_group_gone(pgid)
    after = assert_whole(node, before, configured)
    pending = state_file(node, "restart-pending").exists()
    outs, took = converge(provider, node, props, configured)
    report(f"ssh-drop[{flavor}]", after_fault=after, restart_pending=pending,
           recovery_restarted=outs["restarted"], converge_s=took)
    provider.delete(node.name, outs)
    assert everything(node) == before


@pytest.mark.parametrize("flavor", FLAVORS)
def test_kill_9_between_config_write_and_restart(bed: Testbed, provider: NodeContainerdConfigProvider,
                                                 flavor: str) -> None:
    node = node_of(bed, flavor)
    props = node_props(node, http_spec(bed))
    before, configured = reference(provider, node, props)
    node.reset(node.stock_config())
    errors = _kill_9_after_config_rename(provider, node, props)
    assert errors and node.name in str(errors[0]) and "without a result" in str(errors[0]), errors
    assert assert_whole(node, before, configured) == "configured"  # config.toml replaced, no restart yet
    backups = list((Path(node.state_dir) / "orig").iterdir())
    assert before["etc-containerd/config.toml"] in [b.read_bytes() for b in backups], "the backup must be intact"
    assert state_file(node, "restart-pending").exists()
    drift = outs_of(provider.read(node.name, props))["drift"]
    assert any("not been restarted" in d for d in drift), drift

    outs, took = converge(provider, node, props, configured)
    assert outs["restarted"] is True, "the next run must restart containerd on the new config.toml"
    assert not state_file(node, "restart-pending").exists()
    report(f"kill-9[{flavor}]", recovery_restarted=outs["restarted"], converge_s=took)
    provider.delete(node.name, outs)
    assert everything(node) == before, "remove restores the original byte for byte"


def test_kill_9_then_remove_restores_the_original(bed: Testbed, provider: NodeContainerdConfigProvider) -> None:
    """``destroy`` right after the killed run (no recovery apply): the original comes back, containerd restarts."""
    node = bed.nodes[0]
    props = node_props(node, http_spec(bed))
    before, _ = reference(provider, node, props)
    node.reset(node.stock_config())
    errors = _kill_9_after_config_rename(provider, node, props)
    assert errors
    started = time.monotonic()
    provider.delete(node.name, props)
    report("kill-9-then-remove", remove_s=time.monotonic() - started)
    assert everything(node) == before
    assert not Path(node.state_dir).exists() or not any(Path(node.state_dir).iterdir())
    assert node.containerd_running()


@pytest.mark.parametrize("flavor", FLAVORS)
def test_containerd_fails_to_start_rolls_back_with_its_message(
        bed: Testbed, provider: NodeContainerdConfigProvider, flavor: str) -> None:
    """(The restart-command failure itself is test_node_mirror's rollback test; here containerd starts and
    exits with its own error, which the operator must see.)"""
    node = node_of(bed, flavor)
    props = node_props(node, http_spec(bed))
    before, configured = reference(provider, node, props)
    node.reset(node.stock_config())
    failing = {**props, "params": {**props["params"], "restart_cmd": faults.start_fails_once(node)}}
    with pytest.raises(NodeError) as err:
        provider.create(failing)
    message = str(err.value)
    containerd_said = (node.path / "fault-start.log").read_text().strip().splitlines()[-1]
    assert node.name in message and "rolled back" in message, message
    assert containerd_said.strip() and containerd_said.strip()[:60] in message, (containerd_said, message)
    assert visible(node)["etc-containerd/config.toml"] == before["etc-containerd/config.toml"]
    assert node.containerd_running()
    outs, took = converge(provider, node, props, configured)
    report(f"containerd-fails[{flavor}]", converge_s=took)
    provider.delete(node.name, outs)
    assert everything(node) == before


def test_read_only_etc_changes_nothing(bed: Testbed, provider: NodeContainerdConfigProvider) -> None:
    node = bed.nodes[0]
    props = node_props(node, http_spec(bed))
    before, configured = reference(provider, node, props)
    node.reset(node.stock_config())
    with faults.read_only_etc(node), pytest.raises(NodeError) as err:
        provider.create(props)
    message = str(err.value)
    assert node.name in message and "/etc/containerd/" in message and "Read-only file system" in message, message
    assert everything(node) == before
    assert not any(Path(node.state_dir).iterdir()), "no harbor-cache state either"
    outs, took = converge(provider, node, props, configured)
    report("read-only", error=repr(message[:160]), converge_s=took)
    provider.delete(node.name, outs)


def test_full_etc_changes_nothing(bed: Testbed, provider: NodeContainerdConfigProvider) -> None:
    """config_path already set: config.toml needs no change, so the failure is in writing the hosts.toml files
    (the staged temp files and new directories must all go again)."""
    node = bed.nodes[0]
    stock = node.stock_config()
    original = stock.replace('config_path = ""', 'config_path = "/etc/containerd/certs.d"')
    assert original != stock
    props = node_props(node, http_spec(bed))
    node.reset(original)
    before = faults.node_files(node)
    with faults.full_etc(node):
        with pytest.raises(NodeError) as err:
            provider.create(props)
        inside = faults.node_files(node)
    message = str(err.value)
    assert node.name in message and "/etc/containerd/certs.d/" in message and "No space left" in message, message
    assert inside == before, "nothing may be left on the full disk"
    assert not (node.path / "etc-containerd" / "certs.d").exists()
    outs = outs_of(provider.create(props))
    report("full", error=repr(message[:160]))
    provider.delete(node.name, outs)
    assert faults.node_files(node) == before


def test_two_applies_never_interleave(bed: Testbed, provider: NodeContainerdConfigProvider) -> None:
    """A second apply on the same node waits for the first (node-side lock), then finds nothing to do."""
    node = bed.nodes[0]
    props = node_props(node, http_spec(bed))
    node.reset(node.stock_config())
    hold = faults.hold_after_rename(node, "*/config.toml")
    results: dict[str, Any] = {}
    first = threading.Thread(target=lambda: results.update(first=outs_of(provider.create(props))))
    first.start()
    try:
        hold.wait()
        second = threading.Thread(target=lambda: results.update(second=outs_of(provider.create(props))))
        second.start()
        second.join(3)
        assert second.is_alive() and "second" not in results, "the second apply must wait for the lock"
    finally:
        hold.release()
    first.join(60)
    second.join(60)
    assert results["first"]["restarted"] is True
    assert results["second"]["changed"] == [] and results["second"]["restarted"] is False
    provider.delete(node.name, results["second"])


def _kill_9_after_config_rename(provider: NodeContainerdConfigProvider, node: Node,
                                props: dict[str, Any]) -> list[BaseException]:
    """Apply ``props``, and kill -9 the node script right after it renamed config.toml into place (before the
    restart); returns what the apply raised."""
    hold = faults.hold_after_rename(node, "*/config.toml")
    errors: list[BaseException] = []
    runner = threading.Thread(target=lambda: _expect_error(provider, props, errors))
    runner.start()
    try:
        faults.kill_group(hold.wait())
    finally:
        hold.release()
    runner.join(60)
    return errors


def _expect_error(provider: NodeContainerdConfigProvider, props: dict[str, Any],
                  errors: list[BaseException]) -> None:
    try:
        provider.create(props)
    except NodeError as exc:
        errors.append(exc)
