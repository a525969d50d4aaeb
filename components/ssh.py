"""SSH for the node resources: where a node is (``SshTarget``), the paramiko connection (through a bastion when
set, with the host key pinned when given) and one remote command with its stdin (``run_remote``).

Nothing here is stack-state format: the dynamic providers in components/node_ssh.py are, and they call this.
"""

from __future__ import annotations

import base64
import hashlib
import io
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:  # paramiko is imported where a connection is made: the program only names targets
    import paramiko

CONNECT_TIMEOUT = 10.0


class NodeError(Exception):
    """A node could not be configured; the message names the node and its address."""


@dataclass(frozen=True)
class SshTarget:
    """Where and how to reach a node over SSH, or the jump host in front of it (``bastion``, same key).

    ``host_key`` (``"<type> <base64>"``) pins the server's host key; None accepts any key.
    """

    name: str
    host: str
    port: int = 22
    user: str = "root"
    host_key: str | None = None
    bastion: SshTarget | None = None

    def describe(self) -> str:
        """``node <name> (user@host:port [via user@bastion:port])`` for messages."""
        b = self.bastion
        via = f" via {b.user}@{b.host}:{b.port}" if b else ""
        return f"node {self.name} ({self.user}@{self.host}:{self.port}{via})"

    def sudo(self) -> str:
        """The prefix that runs a command as root on this target."""
        return "" if self.user == "root" else "sudo -n "

    def to_props(self) -> dict[str, Any]:
        """The resource properties that name the target (state format: ``node``, ``host`` ... ``bastion``)."""
        b = self.bastion
        bastion = {"host": b.host, "port": b.port, "user": b.user, "host_key": b.host_key} if b else None
        return {"node": self.name, "host": self.host, "port": self.port, "user": self.user,
                "host_key": self.host_key, "bastion": bastion}

    @classmethod
    def from_props(cls, props: Mapping[str, Any]) -> SshTarget:
        """Inverse of to_props (numbers may arrive as floats, absent values as None)."""
        b = props.get("bastion") or None
        bastion = cls(name="bastion", host=str(b["host"]), port=int(b.get("port") or 22),
                      user=str(b.get("user") or "root"), host_key=b.get("host_key") or None) if b else None
        return cls(name=str(props["node"]), host=str(props["host"]), port=int(props.get("port") or 22),
                   user=str(props.get("user") or "root"), host_key=props.get("host_key") or None, bastion=bastion)


def load_private_key(pem: str) -> paramiko.PKey:
    """Parse an OpenSSH/PEM private key of any type paramiko supports (no passphrase)."""
    import paramiko

    for kind in (paramiko.Ed25519Key, paramiko.ECDSAKey, paramiko.RSAKey):
        try:
            return kind.from_private_key(io.StringIO(pem))
        except (paramiko.SSHException, ValueError, TypeError):
            continue
    raise NodeError("sshPrivateKey is not a supported unencrypted private key (ed25519, ecdsa or rsa)")


class _PinnedHostKey:
    """Accept only the pinned key when one is set; remember what the server presented (a paramiko
    MissingHostKeyPolicy: paramiko calls ``missing_host_key``)."""

    def __init__(self, pinned: str | None, label: str) -> None:
        self.pinned = pinned.split()[:2] if pinned else None
        self.label = label
        self.seen = ""

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        self.seen = f"{key.get_name()} {key.get_base64()}"
        if self.pinned is not None and self.pinned != [key.get_name(), key.get_base64()]:
            raise NodeError(f"{self.label}: host key mismatch: server presented {key.get_name()} "
                            f"SHA256 {_fingerprint(key)}, which is not the pinned host_key")


def _fingerprint(key: paramiko.PKey) -> str:
    return base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


def _client(target: SshTarget, pkey: paramiko.PKey, label: str, sock: Any = None) -> tuple[paramiko.SSHClient,
                                                                                             _PinnedHostKey]:
    import paramiko

    client = paramiko.SSHClient()
    policy = _PinnedHostKey(target.host_key, label)
    client.set_missing_host_key_policy(cast("paramiko.MissingHostKeyPolicy", policy))  # duck-typed by paramiko
    client.connect(target.host, port=target.port, username=target.user, pkey=pkey, sock=sock,
                   timeout=CONNECT_TIMEOUT, banner_timeout=CONNECT_TIMEOUT, auth_timeout=CONNECT_TIMEOUT,
                   allow_agent=False, look_for_keys=False)
    return client, policy


def _connect(
    target: SshTarget, pkey: paramiko.PKey
) -> tuple[paramiko.SSHClient, list[paramiko.SSHClient], str]:
    """Connected client (through the bastion when set), clients to close, and the node's observed host key."""
    import paramiko

    label = target.describe()
    opened: list[paramiko.SSHClient] = []
    sock: Any = None
    try:
        if target.bastion:
            jump, _ = _client(target.bastion, pkey, f"{label}: bastion")
            opened.append(jump)
            transport = jump.get_transport()
            assert transport is not None
            sock = transport.open_channel("direct-tcpip", (target.host, target.port), ("127.0.0.1", 0),
                                          timeout=CONNECT_TIMEOUT)
        client, policy = _client(target, pkey, label, sock)
        opened.append(client)
        return client, opened, policy.seen
    except NodeError:
        _close(opened)
        raise
    except (OSError, paramiko.SSHException, EOFError) as exc:
        _close(opened)
        raise NodeError(f"{label}: cannot connect: {type(exc).__name__}: {exc}") from None


def _close(clients: list[paramiko.SSHClient]) -> None:
    for c in reversed(clients):
        c.close()


def run_remote(
    target: SshTarget, private_key: str, command: str, stdin: str, timeout: float
) -> tuple[int, str, str, str]:
    """Run ``command`` on the node with ``stdin``; returns exit code, stdout, stderr and the host key seen."""
    import paramiko

    client, opened, seen = _connect(target, load_private_key(private_key))
    try:
        transport = client.get_transport()
        assert transport is not None
        chan = transport.open_session(timeout=CONNECT_TIMEOUT)
        chan.exec_command(command)
        chan.sendall(stdin.encode())
        chan.shutdown_write()
        out, err = bytearray(), bytearray()
        deadline = time.monotonic() + timeout
        while True:
            busy = False
            while chan.recv_ready():
                out += chan.recv(65536)
                busy = True
            while chan.recv_stderr_ready():
                err += chan.recv_stderr(65536)
                busy = True
            if chan.exit_status_ready() and not chan.recv_ready() and not chan.recv_stderr_ready():
                break
            if time.monotonic() > deadline:
                raise NodeError(f"{target.describe()}: '{command}' timed out after {timeout:.0f}s")
            if not busy:
                time.sleep(0.05)
        return chan.recv_exit_status(), out.decode(errors="replace"), err.decode(errors="replace"), seen
    except (OSError, paramiko.SSHException) as exc:
        raise NodeError(f"{target.describe()}: SSH session failed: {type(exc).__name__}: {exc}") from None
    finally:
        _close(opened)
