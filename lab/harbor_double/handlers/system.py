"""``/ping``, ``/health`` and ``/systeminfo`` (anonymous callers get the public part), and the two system
configurations the double honours (``quota_per_project_enable``, ``storage_per_project``; settings.py)."""

from __future__ import annotations

from typing import Any

from lab.harbor_double.handlers.base import Context, Handler
from lab.harbor_double.messages import Reply, Request, now

HARBOR_VERSION = "v2.14.2-double"
CONFIG_KEYS = ("quota_per_project_enable", "storage_per_project")


def get_ping(_ctx: Context, _r: Request) -> Reply:
    return 200, "Pong", {"Content-Type": "text/plain"}


def get_health(ctx: Context, _r: Request) -> Reply:
    names = ["core", "portal", "jobservice", "registry", "registryctl", "database", "redis"]
    comps: list[dict[str, Any]] = [{"name": n, "status": "healthy"} for n in names]
    if ctx.faults.jobservice_down:
        comps[2] = {"name": "jobservice", "status": "unhealthy", "error": "dial tcp: connection refused"}
    status = "unhealthy" if ctx.faults.jobservice_down else "healthy"
    return 200, {"status": status, "components": comps}, {}


def get_system_info(_ctx: Context, r: Request) -> Reply:
    info: dict[str, Any] = {
        "auth_mode": "db_auth", "primary_auth_mode": False, "self_registration": False, "current_time": now(),
    }  # fmt: skip
    if r.user is not None:
        info.update(
            harbor_version=HARBOR_VERSION, registry_url="harbor.local", external_url="http://harbor.local",
            project_creation_restriction="everyone", has_ca_root=False, read_only=False,
            registry_storage_provider_name="filesystem", notification_enable=True,
        )  # fmt: skip
    return 200, info, {}


def get_configurations(ctx: Context, _r: Request) -> Reply:
    return 200, {key: {"value": getattr(ctx.settings, key), "editable": True} for key in CONFIG_KEYS}, {}


def update_configurations(ctx: Context, r: Request) -> Reply:
    ctx.settings.update(**{k: v for k, v in r.body.items() if k in CONFIG_KEYS})  # others: accepted, not modelled
    return 200, None, {}


HANDLERS: dict[str, Handler] = {
    "getPing": get_ping,
    "getHealth": get_health,
    "getSystemInfo": get_system_info,
    "getConfigurations": get_configurations,
    "updateConfigurations": update_configurations,
}
