"""``/ping`` and ``/health`` (anonymous; ``jobservice_down`` reports the job service down)."""

from __future__ import annotations

from typing import Any

from lab.harbor_double.handlers.base import Context, Handler
from lab.harbor_double.messages import Reply, Request


def get_ping(_ctx: Context, _r: Request) -> Reply:
    return 200, "Pong", {"Content-Type": "text/plain"}


def get_health(ctx: Context, _r: Request) -> Reply:
    names = ["core", "portal", "jobservice", "registry", "registryctl", "database", "redis"]
    comps: list[dict[str, Any]] = [{"name": n, "status": "healthy"} for n in names]
    if ctx.faults.jobservice_down:
        comps[2] = {"name": "jobservice", "status": "unhealthy", "error": "dial tcp: connection refused"}
    status = "unhealthy" if ctx.faults.jobservice_down else "healthy"
    return 200, {"status": status, "components": comps}, {}


HANDLERS: dict[str, Handler] = {
    "getPing": get_ping,
    "getHealth": get_health,
}
