"""Running Pulumi programs under the SDK's mocks, with the global runtime settings restored afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pulumi
from pulumi.runtime import mocks, settings


@contextmanager
def mocked_runtime(mock: pulumi.runtime.Mocks, project: str = "harbor-cache",
                   stack: str = "unit") -> Iterator[mocks.MockMonitor]:
    """Install `mock` as the resource monitor (not a preview); yield the monitor; restore the old settings."""
    saved = settings.SETTINGS
    monitor = mocks.MockMonitor(mock)
    mocks.set_mocks(mock, project=project, stack=stack, preview=False, monitor=monitor)
    try:
        yield monitor
    finally:
        settings.configure(saved)


class RecordingMocks(pulumi.runtime.Mocks):
    """Mocks that record every registered resource and give it its inputs as outputs, plus what ``outputs`` adds."""

    def __init__(self) -> None:
        self.resources: list[pulumi.runtime.MockResourceArgs] = []

    def outputs(self, args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
        """What a resource reports beyond its inputs (a subclass says, per type)."""
        return {}

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.resources.append(args)
        return f"{args.name}-id", {**args.inputs, **self.outputs(args)}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], list[tuple[str, str]] | None]:
        return {}, None
