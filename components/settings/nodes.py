"""The `nodes` section of the stack file: which nodes get containerd pointed at Harbor, and how.

Values are checked with the rules of their receivers: the node's sshd and paramiko (users, host keys, ports),
the node script and containerd (paths, commands), the kubelet and containerd (images).
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from components import rules
from components.settings.base import Section, at, report
from components.settings.types import (
    CertsDir,
    Command,
    Host,
    HostKey,
    ImageRef,
    NodePath,
    Port,
    SshUser,
)

Transport = Literal["ssh", "command", "daemonset", "none"]


class NodeHost(Section):
    """One node reached over SSH."""

    name: str
    address: Host
    port: Port = 22
    user: SshUser | None = None
    host_key: HostKey | None = None

    @model_validator(mode="after")
    def _name(self) -> NodeHost:
        problem = rules.node_name_problem(self.name)
        report([at("name", problem)] if problem else [])
        return self


class Bastion(Section):
    """An SSH jump host in front of the nodes."""

    host: Host
    port: Port = 22
    user: SshUser = "root"


class ContainerdPaths(Section):
    """Where containerd keeps its files on the nodes, and how to restart and probe it without systemd.

    Without systemd both commands are needed: after a restart the node script waits for `healthCommand`
    to succeed (else it rolls config.toml back), and with neither systemd nor a health command it cannot.
    """

    config_path: NodePath = "/etc/containerd/config.toml"
    certs_dir: CertsDir = "/etc/containerd/certs.d"
    hosts_file: NodePath = "/etc/hosts"
    containerd_bin: Command = "containerd"
    restart_command: str = ""
    health_command: str = ""


class NodesSettings(Section):
    """Which nodes get containerd pointed at Harbor, and how. Without `transport`: ssh when hosts are listed,
    else none (README)."""

    transport: Transport = "none"
    user: SshUser = "root"
    hosts: list[NodeHost] = Field(default_factory=list)
    bastion: Bastion | None = None
    containerd: ContainerdPaths = ContainerdPaths()
    daemonset_image: ImageRef = "docker.io/library/busybox:1.37"
    verify_image: ImageRef | None = None

    @model_validator(mode="before")
    @classmethod
    def _default_transport(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("transport") is None:
            return {**data, "transport": "ssh" if data.get("hosts") else "none"}
        return data

    @model_validator(mode="after")
    def _unique(self) -> NodesSettings:
        problems = []
        for attr in ("name", "address"):
            seen: dict[str, int] = {}
            for index, host in enumerate(self.hosts):
                value = getattr(host, attr)
                if value in seen:
                    problems.append(at(f"hosts[{index}].{attr}", f"'{value}' is also hosts[{seen[value]}]'s {attr}: "
                                                                 "each node must be listed once"))
                seen.setdefault(value, index)
        if self.transport in ("ssh", "command") and not self.hosts:
            problems.append(at("hosts", f"transport {self.transport} needs at least one entry in hosts (or leave "
                                        "transport out, or set it to daemonset or none)"))
        report(problems)
        return self
