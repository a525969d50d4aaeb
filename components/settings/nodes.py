"""The `nodes` section of the stack file: which nodes get containerd pointed at Harbor, and how."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from components.settings.sections import Section


class NodeHost(Section):
    """One node reached over SSH."""

    name: str
    address: str
    port: int = Field(22, ge=1, le=65535)
    user: str | None = None
    host_key: str | None = None


class Bastion(Section):
    """An SSH jump host in front of the nodes."""

    host: str
    port: int = Field(22, ge=1, le=65535)
    user: str = "root"


class ContainerdPaths(Section):
    """Where containerd keeps its files on the nodes, and how to restart and probe it without systemd.

    Without systemd both commands are needed: after a restart the node script waits for `healthCommand`
    to succeed (else it rolls config.toml back), and with neither systemd nor a health command it cannot.
    """

    config_path: str = "/etc/containerd/config.toml"
    certs_dir: str = "/etc/containerd/certs.d"
    hosts_file: str = "/etc/hosts"
    containerd_bin: str = "containerd"
    restart_command: str = ""
    health_command: str = ""


class NodesSettings(Section):
    """Which nodes get containerd pointed at Harbor, and how."""

    transport: Literal["ssh", "daemonset", "none"] = "ssh"
    user: str = "root"
    hosts: list[NodeHost] = Field(default_factory=list)
    bastion: Bastion | None = None
    containerd: ContainerdPaths = ContainerdPaths()
    daemonset_image: str = "docker.io/library/busybox:1.37"
    verify_image: str | None = None

    @model_validator(mode="after")
    def _unique(self) -> NodesSettings:
        for attr in ("name", "address"):
            seen: set[str] = set()
            for host in self.hosts:
                value = getattr(host, attr)
                if value in seen:
                    raise ValueError(f"two nodes have the {attr} '{value}': each node must be listed once")
                seen.add(value)
        if self.transport == "ssh" and not self.hosts:
            raise ValueError("transport ssh needs at least one entry in hosts (or use transport daemonset/none)")
        return self
