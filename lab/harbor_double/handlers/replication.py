"""Replication policies (pull from or push to a registry; manual, scheduled or event-based trigger) and their
executions, which finish after ``execution_polls`` GETs with ``replication_result``."""

from __future__ import annotations

import copy
import re
from typing import Any

from lab.harbor_double.handlers.base import Context, Handler
from lab.harbor_double.handlers.registries import registry_view
from lab.harbor_double.listing import filtered_page, paged
from lab.harbor_double.messages import API, Reply, Request, error, now

REPO_PATH_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*$")


def _policy_problem(ctx: Context, b: dict[str, Any], pid: int | None) -> Reply | None:
    if not b.get("name"):
        return error(400, "BAD_REQUEST", "name is required")
    src = (b.get("src_registry") or {}).get("id") or 0
    dst = (b.get("dest_registry") or {}).get("id") or 0
    if (src == 0) == (dst == 0):
        return error(
            400,
            "BAD_REQUEST",
            "either src_registry or dest_registry should be empty and the other one shouldn't be empty",
        )
    reg = ctx.state["registries"].get(src or dst)
    if reg is None:
        return error(400, "BAD_REQUEST", f"registry {src or dst} not found")
    ns = b.get("dest_namespace") or ""
    if ns and not REPO_PATH_RE.match(ns):
        return error(400, "BAD_REQUEST", f"invalid dest_namespace {ns!r}")
    for f in b.get("filters") or []:
        kind, value, deco = f.get("type"), f.get("value"), f.get("decoration")
        if kind not in ("name", "tag", "label", "resource"):
            return error(400, "BAD_REQUEST", f"invalid filter type {kind!r}")
        if kind == "label" and not isinstance(value, list):
            return error(400, "BAD_REQUEST", "the value of a label filter must be a string array")
        if kind != "label" and not isinstance(value, str):
            return error(400, "BAD_REQUEST", f"the value of a {kind} filter must be a string")
        if deco and (kind not in ("tag", "label") or deco not in ("matches", "excludes")):
            return error(400, "BAD_REQUEST", f"invalid decoration {deco!r} for filter {kind}")
    trigger = b.get("trigger") or {"type": "manual"}
    ttype = trigger.get("type") or "manual"
    if ttype not in ("manual", "scheduled", "event_based"):
        return error(400, "BAD_REQUEST", f"invalid trigger type {ttype!r}")
    if ttype == "event_based" and src and reg["type"] == "aws-ecr":
        return error(400, "BAD_REQUEST", "the adapter aws-ecr does not support trigger event_based")
    if ttype == "scheduled":
        cron = (trigger.get("trigger_settings") or {}).get("cron") or ""
        parts = cron.split(" ")
        if not cron:
            return error(
                400, "BAD_REQUEST", "the cron string cannot be empty when the trigger type is scheduled"
            )
        if len(parts) != 6 or not all(re.fullmatch(r"[0-9A-Za-z*/,?\-]+", p) for p in parts):
            return error(400, "BAD_REQUEST", f"invalid cron string {cron!r}")
        if parts[0] != "0":
            return error(
                400,
                "BAD_REQUEST",
                "the 1st field (indicating Seconds of time) of the cron setting must be 0",
            )
        if parts[1] == "*":
            return error(
                400,
                "BAD_REQUEST",
                "the 2nd field (indicating Minute of time) of the cron setting must not be *",
            )
    if b.get("single_active_replication") and ttype == "event_based":
        return error(
            400, "BAD_REQUEST", "single active replication is not allowed with event_based trigger"
        )
    if any(p["name"] == b["name"] and p["id"] != pid for p in ctx.state["policies"].values()):
        return error(409, "CONFLICT", f"policy {b['name']} already exists")
    return None


def _policy_from_body(b: dict[str, Any], pid: int, created: str) -> dict[str, Any]:
    src = (b.get("src_registry") or {}).get("id") or 0
    dst = (b.get("dest_registry") or {}).get("id") or 0
    trigger = b.get("trigger") or {"type": "manual"}
    replace = b.get("dest_namespace_replace_count")
    speed = b.get("speed") or 0
    return {
        "id": pid, "name": b["name"], "description": b.get("description") or "",
        "src_registry": {"id": src} if src else None, "dest_registry": {"id": dst} if dst else None,
        "dest_namespace": b.get("dest_namespace") or "",
        "dest_namespace_replace_count": -1 if replace is None else replace,
        "filters": b.get("filters") or [],
        "trigger": {"type": trigger.get("type") or "manual",
                    "trigger_settings": {
                        "cron": (trigger.get("trigger_settings") or {}).get("cron") or "",
                    }},
        "deletion": bool(b.get("deletion")), "override": bool(b.get("override")),
        "enabled": bool(b.get("enabled")), "speed": speed if speed > 0 else 0,
        "copy_by_chunk": bool(b.get("copy_by_chunk")),
        "single_active_replication": bool(b.get("single_active_replication")),
        "creation_time": created, "update_time": now(),
    }  # fmt: skip


def _policy_view(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(p)
    out["replicate_deletion"] = out["deletion"]
    for side in ("src_registry", "dest_registry"):
        ref = out.pop(side)
        if ref and ref["id"] in ctx.state["registries"]:
            out[side] = registry_view(ctx.state["registries"][ref["id"]])
    return out


def list_replication_policies(ctx: Context, r: Request) -> Reply:
    return filtered_page(r, [_policy_view(ctx, p) for p in ctx.state["policies"].values()])


def create_replication_policy(ctx: Context, r: Request) -> Reply:
    problem = _policy_problem(ctx, r.body, None)
    if problem:
        return problem
    pid = ctx.store.next_id()
    ctx.state["policies"][pid] = _policy_from_body(r.body, pid, now())
    return 201, None, {"Location": f"{API}/replication/policies/{pid}"}


def get_replication_policy(ctx: Context, r: Request) -> Reply:
    p = ctx.state["policies"].get(int(r.params["id"]))
    return (200, _policy_view(ctx, p), {}) if p else error(404, "NOT_FOUND", "policy not found")


def update_replication_policy(ctx: Context, r: Request) -> Reply:
    pid = int(r.params["id"])
    old = ctx.state["policies"].get(pid)
    if old is None:
        return error(404, "NOT_FOUND", "policy not found")
    problem = _policy_problem(ctx, r.body, pid)
    if problem:
        return problem
    ctx.state["policies"][pid] = _policy_from_body(r.body, pid, old["creation_time"])  # full replacement
    return 200, None, {}


def delete_replication_policy(ctx: Context, r: Request) -> Reply:
    pid = int(r.params["id"])
    if pid not in ctx.state["policies"]:
        return error(404, "NOT_FOUND", "policy not found")
    running = [
        e for e in ctx.state["executions"].values() if e["policy_id"] == pid and e["status"] == "InProgress"
    ]
    if running:
        return error(412, "PRECONDITION", "the policy has running executions")
    del ctx.state["policies"][pid]
    for eid in [e["id"] for e in ctx.state["executions"].values() if e["policy_id"] == pid]:
        del ctx.state["executions"][eid]
    return 200, None, {}


def start_replication(ctx: Context, r: Request) -> Reply:
    pid = r.body.get("policy_id")
    policy = ctx.state["policies"].get(pid)
    if policy is None:
        return error(404, "NOT_FOUND", f"policy {pid} not found")
    if not policy["enabled"]:
        return error(400, "BAD_REQUEST", f"the policy {pid} is disabled")
    eid = ctx.store.next_id()
    ctx.state["executions"][eid] = {
        "id": eid, "policy_id": pid, "status": "InProgress", "status_text": "", "trigger": "manual",
        "start_time": now(), "total": 1, "failed": 0, "succeed": 0, "in_progress": 1, "stopped": 0,
        "_polls_left": ctx.faults.execution_polls, "_result": ctx.faults.replication_result,
    }  # fmt: skip
    return 201, None, {"Location": f"{API}/replication/executions/{eid}"}


def _execution_view(e: dict[str, Any]) -> dict[str, Any]:
    if e["status"] == "InProgress":
        if e["_polls_left"] > 0:
            e["_polls_left"] -= 1
        else:
            ok = e["_result"] == "Succeed"
            e.update(
                status=e["_result"], end_time=now(), in_progress=0, succeed=1 if ok else 0,
                failed=0 if ok else 1,
                status_text="" if ok else "1 of 1 tasks failed: pull manifest: 401",
            )  # fmt: skip
    return {k: v for k, v in e.items() if not k.startswith("_")}


def get_replication_execution(ctx: Context, r: Request) -> Reply:
    e = ctx.state["executions"].get(int(r.params["id"]))
    return (200, _execution_view(e), {}) if e else error(404, "NOT_FOUND", "execution not found")


def list_replication_executions(ctx: Context, r: Request) -> Reply:
    items = [_execution_view(e) for e in ctx.state["executions"].values()]
    if "policy_id" in r.query:
        items = [e for e in items if str(e["policy_id"]) == r.query["policy_id"][0]]
    return paged(r, items)


HANDLERS: dict[str, Handler] = {
    "listReplicationPolicies": list_replication_policies,
    "createReplicationPolicy": create_replication_policy,
    "getReplicationPolicy": get_replication_policy,
    "updateReplicationPolicy": update_replication_policy,
    "deleteReplicationPolicy": delete_replication_policy,
    "startReplication": start_replication,
    "getReplicationExecution": get_replication_execution,
    "listReplicationExecutions": list_replication_executions,
}
