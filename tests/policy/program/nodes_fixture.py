"""A stand-in for harbor-cache's node resource: same type token, carries the rendered node files."""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CreateResult, Resource, ResourceProvider


class ContainerdConfigProvider(ResourceProvider):
    """Accepts the files as they are; the engine test only previews."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult("containerd-config", props)


class ContainerdConfig(Resource, module="nodes", name="ContainerdConfig"):
    """A dynamic resource of type pulumi-python:dynamic/nodes:ContainerdConfig."""

    def __init__(self, name: str, hosts: list[str], files: dict[str, str]) -> None:
        super().__init__(ContainerdConfigProvider(), name, {"hosts": hosts, "files": files})
