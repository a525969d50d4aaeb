"""What every handler gets: the store and the faults (:class:`Context`) and the routed request."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from lab.harbor_double.faults import Faults
from lab.harbor_double.messages import Reply, Request
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


Handler = Callable[[Context, Request], Reply]
