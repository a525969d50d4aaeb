"""What every handler gets: the store and the faults (:class:`Context`) and the routed request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lab.harbor_double.faults import Faults
from lab.harbor_double.messages import Reply, Request, internal
from lab.harbor_double.settings import Settings
from lab.harbor_double.store import Store


@dataclass
class Context:
    """The double's store, current faults and settings; handlers run with ``store.lock`` held."""

    store: Store
    faults: Faults
    settings: Settings

    @property
    def state(self) -> dict[str, Any]:
        """The store's objects by kind."""
        return self.store.state

    def schedule(self) -> Reply | None:
        """Harbor's scheduler creating a schedule (``pkg/scheduler``): it records an execution (an id used) and
        submits a job to jobservice; with ``jobservice_down`` that fails (a 500; the request is rolled back)."""
        self.store.next_id("executions")
        if self.faults.jobservice_down:
            return internal("failed to submit the schedule job: jobservice unreachable")
        return None

    def unschedule(self) -> Reply | None:
        """Stopping a schedule's job needs jobservice too."""
        if self.faults.jobservice_down:
            return internal("failed to stop the schedule job: jobservice unreachable")
        return None


Handler = Callable[[Context, Request], Reply]
Prepare = Callable[[Context, Request], Any]
