"""Faults to inject into a test-bed node while the node script runs (for tests/nodes/test_faults.py and by hand).

* ``hold_after_rename``: the script stops right after it renames a file onto a matching path (a ``mv`` wrapper
  placed first on the node's PATH, in its ``/usr/local/sbin``), so a test can cut the SSH connection or
  ``kill -9`` the script at exactly that point, then ``release`` it.
* ``ScriptRun``: the node script on its own SSH connection, which ``drop`` closes mid-run.
* ``start_fails_once``: a restart command for the script whose first start runs containerd so that it exits
  with its own error message (containerd failing to start after a config change), then restarts normally.
* ``read_only_etc`` / ``full_etc``: ``/etc/containerd`` read-only, or a tiny full tmpfs with the same files,
  inside the node's mount namespace only.
* ``upstream_down``: the upstream registry unreachable for the bed's proxy and nodes (``blackhole``: packets
  dropped, every connection waits for its timeout; ``refused``: connections reset at once), by iptables rules on
  the host; the pull path plays what Harbor does then (lab/testbed/upstream_health.py).
* ``interrupt_then_kill``: Ctrl-C to a whole process group (a ``pulumi up`` and its plugins), then ``kill -9``
  of whatever is left after a grace period (the engine rows, tests/e2e/test_interrupt.py).

By hand, with a bed from ``python -m lab testbed up``: ``python -c 'from lab.testbed import faults; ...'``
after ``Testbed.load``; every fault is undone by its context manager or ``release``.
"""

from __future__ import annotations

import base64
import contextlib
import os
import shlex
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paramiko

from components.node_script import Mode, ScriptParams, parse_result, render_script
from components.ssh import SshTarget, load_private_key
from lab.testbed.node import Node

MV_WRAPPER = """#!/bin/sh
# harbor-cache fault injection: the real mv, then a pause while {hold} names a glob the destination matches.
/bin/mv "$@" || exit $?
for last; do :; done
if [ -f {hold} ]; then
    case "$last" in
        $(cat {hold}))
            rm -f {hold}
            cut -d' ' -f5 /proc/$$/stat >{held}.tmp && /bin/mv {held}.tmp {held}
            while [ ! -f {release} ]; do sleep 0.1; done
            rm -f {release} ;;
    esac
fi
exit 0
"""

START_FAILS = """#!/bin/sh
# harbor-cache fault injection: the first restart starts containerd so that it fails with its own message.
if [ -f {flag} ]; then
    rm -f {flag}
    {stop}
    timeout 20 /usr/bin/containerd --root /proc/harbor-cache-fault/root >{out} 2>&1 </dev/null
    tail -n 2 {out} >&2
    exit 1
fi
exec {restart}
"""


class Hold:
    """A pause point in the node script (see ``hold_after_rename``)."""

    def __init__(self, node: Node) -> None:
        self.node = node
        self.held = node.path / "fault-held"

    def wait(self, timeout: float = 60) -> int:
        """Wait until the script is paused; returns its process group (the whole run: sh and its children)."""
        end = time.monotonic() + timeout
        while not self.held.exists():
            if time.monotonic() > end:
                raise TimeoutError(f"{self.node.name}: the node script never reached the hold point")
            time.sleep(0.05)
        return int(self.held.read_text().strip())

    def release(self) -> None:
        """Let a paused script go on (if it still runs), and take the wrapper away."""
        (self.node.path / "fault-release").touch()
        for name in ("fault-hold", "fault-held"):
            (self.node.path / name).unlink(missing_ok=True)
        (self.node.path / "sbin" / "mv").unlink(missing_ok=True)


def hold_after_rename(node: Node, glob: str) -> Hold:
    """Pause the node script after its first ``mv`` onto a path matching ``glob`` (a sh case pattern)."""
    d = node.path
    for name in ("fault-held", "fault-release"):
        (d / name).unlink(missing_ok=True)
    (d / "fault-hold").write_text(glob + "\n")
    wrapper = d / "sbin" / "mv"
    q = {k: shlex.quote(str(d / v)) for k, v in
         (("hold", "fault-hold"), ("held", "fault-held"), ("release", "fault-release"))}
    wrapper.write_text(MV_WRAPPER.format(**q))
    wrapper.chmod(0o755)
    return Hold(node)


def kill_group(pgid: int, timeout: float = 10) -> None:
    """``kill -9`` a whole process group and wait until it is gone."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    wait_group_gone(pgid, timeout)


def wait_group_gone(pgid: int, timeout: float = 60) -> None:
    """Wait until no process of the group is left."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise TimeoutError(f"process group {pgid} still alive after {timeout}s")


class ScriptRun:
    """The node script started on its own SSH connection (like the provider does), which ``drop`` can cut."""

    def __init__(self, props: dict[str, Any], private_key: str, mode: Mode = "apply") -> None:
        target = SshTarget.from_props(props)
        params = ScriptParams.from_dict(props["params"])
        script = render_script(mode, params, props["files"], props.get("hosts_line") or None)
        self.client = paramiko.SSHClient()
        self.client.set_missing_host_key_policy(paramiko.AutoAddPolicy())  # the bed's own nodes
        self.client.connect(target.host, target.port, target.user, pkey=load_private_key(private_key),
                            allow_agent=False, look_for_keys=False, timeout=10)
        transport = self.client.get_transport()
        assert transport is not None
        self.chan = transport.open_session()
        self.chan.exec_command("sh -s")
        self.chan.sendall(script.encode())
        self.chan.shutdown_write()

    def drop(self) -> None:
        """Cut the connection (the client goes away mid-run)."""
        self.client.close()

    def result(self, timeout: float = 120) -> dict[str, Any] | None:
        """Wait for the end and return the script's result line (None when it printed none)."""
        self.chan.settimeout(timeout)
        out = bytearray()
        while chunk := self.chan.recv(65536):
            out += chunk
        self.client.close()
        return parse_result(out.decode(errors="replace"))


def start_fails_once(node: Node) -> str:
    """A restart command whose first run leaves containerd down with its own error; returns it (run in the node)."""
    d = node.path
    script = d / "bin" / "fault-restart"
    stop = f"kill $(cat {shlex.quote(str(d / 'containerd.pid'))}) 2>/dev/null; sleep 1"
    script.write_text(START_FAILS.format(flag=shlex.quote(str(d / "fault-start-fails")), stop=stop,
                                         out=shlex.quote(str(d / "fault-start.log")),
                                         restart=shlex.quote(node.restart_cmd)))
    script.chmod(0o755)
    (d / "fault-start-fails").touch()
    return str(script)


@contextlib.contextmanager
def read_only_etc(node: Node) -> Iterator[None]:
    """``/etc/containerd`` read-only inside the node (a read-only remount of its bind mount)."""
    node.sh("mount -o remount,bind,ro /etc/containerd")
    try:
        yield
    finally:
        node.sh("mount -o remount,bind,rw /etc/containerd")


@contextlib.contextmanager
def full_etc(node: Node, size_kib: int = 64) -> Iterator[None]:
    """``/etc/containerd`` inside the node becomes a ``size_kib`` tmpfs with the same files and no free space
    (a filler file ``.fault-fill`` takes the rest); the node's real directory is back on exit."""
    src = shlex.quote(str(node.path / "etc-containerd"))
    node.sh(f"mount -t tmpfs -o size={size_kib}k harbor-cache-fault /etc/containerd && cp -a {src}/. /etc/containerd/"
            " && { dd if=/dev/zero of=/etc/containerd/.fault-fill bs=1k 2>/dev/null; true; }")
    try:
        yield
    finally:
        node.sh("umount /etc/containerd")


@contextlib.contextmanager
def upstream_down(host: str, port: int = 5000, mode: str = "blackhole") -> Iterator[None]:
    """The registry at ``host:port`` (the bed's upstream: ``bed.host_addr``) unreachable from the host and from
    every node while the context lasts."""
    target = {"blackhole": ["DROP"], "refused": ["REJECT", "--reject-with", "tcp-reset"]}[mode]
    rule = ["-d", host, "-p", "tcp", "--dport", str(port), "-m", "comment", "--comment",
            f"harbor-cache-fault-{host}", "-j", *target]
    added = []
    try:
        for chain in ("OUTPUT", "INPUT"):  # the proxy on the host; the nodes through the bridge
            subprocess.run(["iptables", "-I", chain, *rule], check=True, capture_output=True)
            added.append(chain)
        yield
    finally:
        for chain in added:
            subprocess.run(["iptables", "-D", chain, *rule], check=False, capture_output=True)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (children, their children, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def interrupt_then_kill(proc: subprocess.Popen[Any], grace: float = 2.0) -> list[int]:
    """SIGINT to the process group ``proc`` leads (what a terminal's Ctrl-C sends), then after ``grace`` seconds
    SIGKILL to that group and to every process below ``proc`` (the Pulumi CLI starts its plugins in their own
    process groups, and they outlive a ``kill -9`` of the CLI alone). Returns the pids that were still alive
    for the SIGKILL; returns when all of them are gone."""
    tree = descendants(proc.pid)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(grace)
    tree = sorted(set(tree + descendants(proc.pid)))
    alive = [pid for pid in [proc.pid, *tree] if Path(f"/proc/{pid}").exists()]
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    proc.wait(30)
    end = time.monotonic() + 30
    while any(Path(f"/proc/{pid}").exists() for pid in tree) and time.monotonic() < end:
        time.sleep(0.05)
    return alive


def node_files(node: Node, root: str = "/etc/containerd") -> dict[str, bytes]:
    """Every file under ``root`` as the node sees it (its own mount namespace), by path."""
    listing = node.sh(f"find {shlex.quote(root)} -type f ! -name .fault-fill -print0").stdout
    out: dict[str, bytes] = {}
    for path in filter(None, listing.split("\0")):
        out[path] = base64.b64decode(node.sh(f"base64 -w0 {shlex.quote(path)}").stdout)
    return out
