"""Harbor's behaviour per swagger operation, one module per API area.

Each area module ends with ``HANDLERS = {operationId: function}``; a function takes the
:class:`~lab.harbor_double.handlers.base.Context` and the routed
:class:`~lab.harbor_double.messages.Request` and returns a :data:`~lab.harbor_double.messages.Reply`.
To serve a new operation, add its function to the module of its area (or a new module listed below). An
operation of the swagger without a handler is answered 501 and recorded as a violation. An area may also have
``PREPARES = {operationId: function}``: slow work (the live upstream check) run before the store's lock is
taken; the handler finds its result in ``Request.prepared``.
"""

from __future__ import annotations

from lab.harbor_double.handlers import (
    artifacts,
    cache,
    executions,
    projects,
    quotas,
    registries,
    replication,
    repositories,
    retentions,
    system,
)
from lab.harbor_double.handlers.base import Context, Handler, Prepare

AREAS = (system, registries, projects, repositories, artifacts, cache, quotas, retentions, replication, executions)
HANDLERS: dict[str, Handler] = {op: fn for area in AREAS for op, fn in area.HANDLERS.items()}
# Work an operation does before taking the store's lock (its result arrives as ``Request.prepared``).
PREPARES: dict[str, Prepare] = {op: fn for area in AREAS for op, fn in getattr(area, "PREPARES", {}).items()}

__all__ = ["HANDLERS", "PREPARES", "Context", "Handler", "Prepare"]
