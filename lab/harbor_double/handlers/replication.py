"""Replication policies (pull from or push to a registry; manual, scheduled or event-based trigger), as
``server/v2.0/handler/replication.go`` and ``controller/replication`` keep them: ``Policy.Validate`` (name, exactly
one remote side, filters, destination namespace, cron), the registry looked up (404), a schedule for a scheduled
trigger (needs jobservice). GET shows the local side as the registry with id 0, "Local"."""

from __future__ import annotations

import copy
import re
from typing import Any

from lab.harbor_double.cron import cron_problem
from lab.harbor_double.handlers.base import Context, Handler
from lab.harbor_double.handlers.registries import LOCAL_REGISTRY, registry_view
from lab.harbor_double.listing import filtered_page
from lab.harbor_double.messages import API, Reply, Request, error, internal, now

# distribution's reference.NameRegexp (lib.RepositoryNameRe): an optional domain, then path components.
_LABEL = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = rf"{_LABEL}(?:\.{_LABEL})*"
_PATH = r"[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*"
REPOSITORY_NAME_RE = re.compile(rf"^(?:{_DOMAIN}(?::[0-9]+)?/)?{_PATH}(?:/{_PATH})*$")


def _side(b: dict[str, Any], key: str) -> int:
    return int((b.get(key) or {}).get("id") or 0)


def _bad(message: str) -> Reply:
    return error(400, "BAD_REQUEST", message)


def _filter_problem(f: dict[str, Any]) -> Reply | None:
    """``model.Filter.Validate``."""
    kind, value, deco = f.get("type"), f.get("value"), f.get("decoration") or ""
    if kind in ("resource", "name", "tag"):
        if not isinstance(value, str):
            return _bad("the type of filter value isn't string")
        if kind == "resource" and value not in ("artifact", "image"):
            return _bad(f"invalid resource filter: {value}")
        if kind in ("name", "resource") and deco:
            return _bad("only tag and label filter support decoration")
    elif kind == "label":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            return _bad("the type of label filter value isn't string slice")
    else:
        return _bad("invalid filter type")
    if deco and deco not in ("matches", "excludes"):
        return _bad(f"invalid filter decoration, :{deco}")
    return None


def _trigger_problem(trigger: dict[str, Any] | None) -> Reply | None:
    if trigger is None:
        return None
    kind = trigger.get("type") or ""
    if kind in ("manual", "event_based"):
        return None
    if kind != "scheduled":
        return _bad("invalid trigger type")
    cron = (trigger.get("trigger_settings") or {}).get("cron") or ""
    if not cron:
        return _bad("the cron string cannot be empty when the trigger type is scheduled")
    if cron_problem(cron):
        return _bad(f"invalid cron string for scheduled trigger: {cron}")
    parts = cron.split(" ")
    if parts[0] != "0":
        return _bad("the 1st field (indicating Seconds of time) of the cron setting must be 0")
    if parts[1] == "*":
        return _bad("* is not allowed for the Minutes field of the cron setting of replication policy")
    return None


def _policy_problem(ctx: Context, b: dict[str, Any]) -> Reply | None:
    """``controller.validatePolicy``: ``Policy.Validate``, then the registry must exist."""
    if not b.get("name"):
        return _bad("empty name")
    src, dst = _side(b, "src_registry"), _side(b, "dest_registry")
    if (src == 0) == (dst == 0):
        return _bad("either src_registry or dest_registry should be empty and the other one shouldn't be empty")
    for f in b.get("filters") or []:
        problem = _filter_problem(f)
        if problem:
            return problem
    ns = b.get("dest_namespace") or ""
    if ns and not REPOSITORY_NAME_RE.match(ns):
        return _bad(f"invalid destination namespace: {ns}")
    problem = _trigger_problem(b.get("trigger"))
    if problem:
        return problem
    if (src or dst) not in ctx.state["registries"]:
        return error(404, "NOT_FOUND", f"registry {src or dst} not found")
    return None


def _single_active_problem(b: dict[str, Any]) -> Reply | None:
    if b.get("single_active_replication") and (b.get("trigger") or {}).get("type") == "event_based":
        return internal("single active replication is not allowed for event_based triggers")  # a plain error: 500
    return None


def _policy_from_body(b: dict[str, Any], pid: int, created: str) -> dict[str, Any]:
    src, dst = _side(b, "src_registry"), _side(b, "dest_registry")
    trigger = b.get("trigger")
    replace = b.get("dest_namespace_replace_count")
    return {
        "id": pid, "name": b["name"], "description": b.get("description") or "",
        "src_registry": {"id": src} if src else None, "dest_registry": {"id": dst} if dst else None,
        "dest_namespace": b.get("dest_namespace") or "",
        "dest_namespace_replace_count": -1 if replace is None else replace,
        "filters": b.get("filters") or [],
        "trigger": None if trigger is None else {
            "type": trigger.get("type") or "",
            "trigger_settings": {"cron": (trigger.get("trigger_settings") or {}).get("cron") or ""},
        },
        "deletion": bool(b.get("deletion")), "override": bool(b.get("override")),
        "enabled": bool(b.get("enabled")), "speed": max(0, b.get("speed") or 0),
        "copy_by_chunk": bool(b.get("copy_by_chunk")),
        "single_active_replication": bool(b.get("single_active_replication")),
        "creation_time": created, "update_time": now(),
    }  # fmt: skip


def scheduled(p: dict[str, Any]) -> bool:
    """The policy has a schedule (a scheduled trigger)."""
    return ((p.get("trigger") or {}).get("type")) == "scheduled"


def policy_view(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    """A policy as GET shows it: both registries in full, the local one as id 0 "Local"."""
    out = copy.deepcopy(p)
    out["replicate_deletion"] = out["deletion"]
    for side in ("src_registry", "dest_registry"):
        ref = out.pop(side)
        if ref is None:
            out[side] = copy.deepcopy(LOCAL_REGISTRY)
        elif ref["id"] in ctx.state["registries"]:
            out[side] = registry_view(ctx.state["registries"][ref["id"]])
    if out["trigger"] is None:
        out.pop("trigger")
    return out


def list_replication_policies(ctx: Context, r: Request) -> Reply:
    return filtered_page(r, [policy_view(ctx, p) for p in ctx.state["policies"].values()])


def create_replication_policy(ctx: Context, r: Request) -> Reply:
    problem = _single_active_problem(r.body) or _policy_problem(ctx, r.body)
    if problem:
        return problem
    pid = ctx.store.next_id("policies")  # the insert takes the id before the unique name check fails
    if any(p["name"] == r.body["name"] for p in ctx.state["policies"].values()):
        return error(409, "CONFLICT", f"replication policy {r.body['name']} already exists")
    policy = ctx.state["policies"][pid] = _policy_from_body(r.body, pid, now())
    if scheduled(policy) and (problem := ctx.schedule()):
        return problem
    return 201, None, {"Location": f"{API}/replication/policies/{pid}"}


def _not_found(pid: int | str) -> Reply:
    return error(404, "NOT_FOUND", f"replication policy {pid} not found")


def get_replication_policy(ctx: Context, r: Request) -> Reply:
    p = ctx.state["policies"].get(int(r.params["id"]))
    return (200, policy_view(ctx, p), {}) if p else _not_found(r.params["id"])


def update_replication_policy(ctx: Context, r: Request) -> Reply:
    pid = int(r.params["id"])
    problem = _single_active_problem(r.body) or _policy_problem(ctx, r.body)
    if problem:
        return problem
    old = ctx.state["policies"].get(pid)
    if old is not None and scheduled(old) and (problem := ctx.unschedule()):
        return problem
    if old is None:
        return _not_found(pid)
    if any(p["name"] == r.body["name"] and p["id"] != pid for p in ctx.state["policies"].values()):
        return error(409, "CONFLICT", f"replication policy {r.body['name']} already exists")
    new = ctx.state["policies"][pid] = _policy_from_body(r.body, pid, old["creation_time"])  # full replacement
    if scheduled(new) and (problem := ctx.schedule()):
        return problem
    return 200, None, {}


def delete_replication_policy(ctx: Context, r: Request) -> Reply:
    pid = int(r.params["id"])
    runs = [e for e in ctx.state["executions"].values() if e["policy_id"] == pid]
    if any(e["status"] == "InProgress" for e in runs):
        return error(412, "PRECONDITION", "contains executions that aren't in final status, stop the execution first")
    for e in runs:
        del ctx.state["executions"][e["id"]]
    old = ctx.state["policies"].get(pid)
    if old is not None and scheduled(old) and (problem := ctx.unschedule()):
        return problem
    if old is None:
        return _not_found(pid)
    del ctx.state["policies"][pid]
    return 200, None, {}


HANDLERS: dict[str, Handler] = {
    "listReplicationPolicies": list_replication_policies,
    "createReplicationPolicy": create_replication_policy,
    "getReplicationPolicy": get_replication_policy,
    "updateReplicationPolicy": update_replication_policy,
    "deleteReplicationPolicy": delete_replication_policy,
}
