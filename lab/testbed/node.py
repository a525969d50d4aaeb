"""One test node: a network + mount namespace with its own sshd and containerd, restarted without systemd."""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from lab.testbed.commands import run
from lab.testbed.layout import SOCKET
from lab.testbed.tools import crictl_bin

RESTART_SCRIPT = """#!/bin/sh
# Test-node stand-in for `systemctl restart containerd` (no systemd in a namespace node).
N={node}
stop() {{
    if [ -f "$N/containerd.pid" ]; then
        pid=$(cat "$N/containerd.pid")
        kill "$pid" 2>/dev/null || true
        i=0; while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$pid" 2>/dev/null || true
        rm -f "$N/containerd.pid"
    fi
}}
stop
if [ -f "$N/fail-next-restart" ]; then
    rm -f "$N/fail-next-restart"; echo "injected restart failure" >&2; exit 1
fi
setsid /usr/bin/containerd >>"$N/containerd.log" 2>&1 </dev/null &
echo $! >"$N/containerd.pid"
i=0
while [ $i -lt 200 ]; do
    /usr/bin/ctr --address {sock} version >/dev/null 2>&1 && exit 0
    kill -0 "$(cat "$N/containerd.pid")" 2>/dev/null || {{ echo "containerd exited" >&2; exit 1; }}
    sleep 0.1; i=$((i + 1))
done
echo "containerd did not answer" >&2
exit 1
"""


@dataclass
class Node:
    """One test node: a network + mount namespace with sshd and containerd."""

    name: str
    index: int
    dir: str
    addr: str
    netns: str
    flavor: str
    sshd_pid: int = 0

    @property
    def path(self) -> Path:
        """The node's directory on the host."""
        return Path(self.dir)

    @property
    def restart_cmd(self) -> str:
        """Command that restarts this node's containerd (run inside the node)."""
        return str(self.path / "bin" / "restart-containerd")

    @property
    def health_cmd(self) -> str:
        """Command that succeeds while this node's containerd answers (run inside the node)."""
        return f"/usr/bin/ctr --address {SOCKET} version"

    @property
    def state_dir(self) -> str:
        """Per-node harbor-cache state directory (a script parameter)."""
        return str(self.path / "harbor-cache-state")

    def sh(self, cmd: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``sh -c cmd`` inside the node's namespaces (as sshd sees them)."""
        return run(["nsenter", "-t", str(self.sshd_pid), "-m", "-n", "--", "sh", "-c", cmd],
                    check=check, timeout=timeout)

    def config_text(self) -> str | None:
        """The node's /etc/containerd/config.toml, or None when absent."""
        p = self.path / "etc-containerd" / "config.toml"
        return p.read_text() if p.exists() else None

    def stock_config(self) -> str:
        """``containerd config default`` of this node's containerd."""
        return self.sh("/usr/bin/containerd config default").stdout

    def containerd_running(self) -> bool:
        """True when the node's containerd answers on its socket."""
        return self.sh(self.health_cmd, check=False).returncode == 0

    def stop_containerd(self) -> None:
        """Stop the node's containerd and wait until it is gone."""
        pidfile = self.path / "containerd.pid"
        if not pidfile.exists():
            return
        pid_text = pidfile.read_text().strip()
        if not pid_text.isdigit():
            pidfile.unlink()
            return
        pid = int(pid_text)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                os.kill(pid, 0)
                time.sleep(0.1)
            os.kill(pid, signal.SIGKILL)
        pidfile.unlink(missing_ok=True)

    def restart_containerd(self) -> None:
        """Restart containerd with the current config (raises on failure)."""
        self.sh(self.restart_cmd)

    def reset(self, config: str | None) -> None:
        """Stop containerd, wipe /etc/containerd and state, write ``config`` (None: no file), start again."""
        self.stop_containerd()
        etc = self.path / "etc-containerd"
        for child in etc.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        state = Path(self.state_dir)  # bound over /var/lib/harbor-cache in the node: empty it, keep the inode
        for child in state.iterdir() if state.exists() else ():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        store = self.path / "var-lib-containerd"  # a fresh image store: every pull fetches every blob
        for child in store.iterdir():
            shutil.rmtree(child) if child.is_dir() else child.unlink()
        (self.path / "etc-hosts").write_text(f"127.0.0.1 localhost\n{self.addr} {self.name}\n")
        (self.path / "fail-next-restart").unlink(missing_ok=True)
        if config is not None:
            (etc / "config.toml").write_text(config)
        self.restart_containerd()

    def crictl(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run crictl against the node's containerd CRI socket (inside the node)."""
        ep = f"unix://{SOCKET}"
        argv = [str(crictl_bin()), "--runtime-endpoint", ep, "--image-endpoint", ep, "--timeout", "60s"]
        argv += args
        cmd = " ".join(shlex.quote(a) for a in argv)
        return self.sh(cmd, check=False, timeout=timeout)

    def remove_image(self, ref: str) -> None:
        """Forget a pulled image so the next pull fetches it again."""
        self.sh(f"/usr/bin/ctr --address {SOCKET} -n k8s.io images rm {shlex.quote(ref)} >/dev/null 2>&1; "
                f"/usr/bin/ctr --address {SOCKET} -n k8s.io content prune references >/dev/null 2>&1 || true",
                check=False)
