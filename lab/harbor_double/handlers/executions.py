"""Replication executions (``controller/replication/execution.go``): a POST starts a new run every time (a
disabled policy → 412), and a run stays ``InProgress`` for ``execution_polls`` GETs, then ends with
``replication_result`` (``Failed`` when jobservice is down: its tasks cannot be submitted)."""

from __future__ import annotations

from typing import Any

from lab.harbor_double.handlers.base import Context, Handler
from lab.harbor_double.listing import paged
from lab.harbor_double.messages import API, Reply, Request, error, now

TRIGGERS = {"scheduled": "scheduled"}


def start_replication(ctx: Context, r: Request) -> Reply:
    pid = r.body.get("policy_id")
    policy = ctx.state["policies"].get(pid)
    if policy is None:
        return error(404, "NOT_FOUND", f"replication policy {pid} not found")
    if not policy["enabled"]:
        return error(412, "PRECONDITION", f"the policy {pid} is disabled")
    busy = policy["single_active_replication"] and any(
        e["policy_id"] == pid and e["status"] == "InProgress" for e in ctx.state["executions"].values()
    )
    eid = ctx.store.next_id("executions")
    result = "Failed" if ctx.faults.jobservice_down else ctx.faults.replication_result
    ctx.state["executions"][eid] = {
        "id": eid, "policy_id": pid, "status": "InProgress", "status_text": "",
        "trigger": TRIGGERS.get(r.query.get("trigger", [""])[0], "manual"),
        "start_time": now(), "total": 1, "failed": 0, "succeed": 0, "in_progress": 1, "stopped": 0,
        "_polls_left": ctx.faults.execution_polls, "_result": result,
    }  # fmt: skip
    if busy:
        ctx.state["executions"][eid].update(
            status="Failed", status_text="Execution skipped: active replication still in progress.", in_progress=0,
            total=0, end_time=now(),
        )  # fmt: skip
    return 201, None, {"Location": f"{API}/replication/executions/{eid}"}


def _execution_view(e: dict[str, Any]) -> dict[str, Any]:
    if e["status"] == "InProgress":
        if e["_polls_left"] > 0:
            e["_polls_left"] -= 1
        else:
            result = e["_result"]
            e.update(
                status=result, end_time=now(), in_progress=0, succeed=int(result == "Succeed"),
                failed=int(result == "Failed"), stopped=int(result == "Stopped"),
                status_text="" if result != "Failed" else "1 of 1 tasks failed: pull manifest: 401",
            )  # fmt: skip
    return {k: v for k, v in e.items() if not k.startswith("_")}


def get_replication_execution(ctx: Context, r: Request) -> Reply:
    e = ctx.state["executions"].get(int(r.params["id"]))
    if e is None:
        return error(404, "NOT_FOUND", f"execution {r.params['id']} not found")
    return 200, _execution_view(e), {}


def list_replication_executions(ctx: Context, r: Request) -> Reply:
    items = [_execution_view(e) for e in ctx.state["executions"].values()]
    if "policy_id" in r.query:
        items = [e for e in items if str(e["policy_id"]) == r.query["policy_id"][0]]
    return paged(r, sorted(items, key=lambda e: -e["id"]))


HANDLERS: dict[str, Handler] = {
    "startReplication": start_replication,
    "getReplicationExecution": get_replication_execution,
    "listReplicationExecutions": list_replication_executions,
}
