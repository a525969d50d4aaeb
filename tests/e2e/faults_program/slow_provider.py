"""A dynamic resource that takes ``seconds`` to create (an update in flight for the lock test)."""

from __future__ import annotations

import time
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, Resource, ResourceProvider


class SlowProvider(ResourceProvider):
    """Sleeps, then returns its inputs."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        time.sleep(float(props["seconds"]))
        return CreateResult("slow", {"seconds": props["seconds"]})


class Slow(Resource, module="faults", name="Slow"):
    """pulumi-python:dynamic/faults:Slow."""

    seconds: pulumi.Output[float]

    def __init__(self, name: str, seconds: float) -> None:
        super().__init__(SlowProvider(), name, {"seconds": seconds})
