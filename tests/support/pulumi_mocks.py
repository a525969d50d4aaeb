"""Running Pulumi programs under the SDK's mocks, with the global runtime settings restored afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

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
