"""Tag retention policies of a project, as ``server/v2.0/handler/retention.go`` and ``controller/retention`` keep
them: at most one per project (its id in the project's ``retention_id`` metadata), at most 15 rules, no two equal
rules, a schedule (which needs jobservice) when the trigger has a cron."""

from __future__ import annotations

import copy
import datetime as dt
import json
from typing import Any

from lab.harbor_double.cron import cron_problem
from lab.harbor_double.handlers.base import Context, Handler
from lab.harbor_double.messages import API, Reply, Request, crash, error, internal

PROXY_RETENTION_DAYS = 7  # defaultDaysToRetentionForProxyCacheProject


def proxy_cache_policy(project_id: int) -> dict[str, Any]:
    """``policy.WithNDaysSinceLastPull``: what Harbor gives a new proxy-cache project (rule id 1, priority 1)."""
    return {
        "algorithm": "or",
        "rules": [{
            "id": 1, "priority": 1, "action": "retain", "template": "nDaysSinceLastPull",
            "params": {"nDaysSinceLastPull": PROXY_RETENTION_DAYS},
            "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**"}],
            "scope_selectors": {
                "repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}],
            },
        }],
        "trigger": {"kind": "Schedule", "settings": {"cron": "0 0 0 * * *"}},
        "scope": {"level": "project", "ref": project_id},
    }  # fmt: skip


def _cron(policy: dict[str, Any]) -> str:
    trigger = policy.get("trigger") or {}
    return str((trigger.get("settings") or {}).get("cron") or "") if trigger.get("kind") == "Schedule" else ""


def create_policy(ctx: Context, policy: dict[str, Any]) -> tuple[int, Reply | None]:
    """``CreateRetention``: validate the cron, store (an id used), schedule when it has a cron."""
    cron = _cron(policy)
    if cron and (problem := _cron_reply(cron)):
        return 0, problem
    rid = ctx.store.next_id("retentions")
    stored = copy.deepcopy(policy)
    stored["trigger"] = {**(stored.get("trigger") or {}), "settings": {"cron": cron}} if cron else stored.get("trigger")
    ctx.state["retentions"][rid] = {**stored, "id": rid}
    return rid, ctx.schedule() if cron else None


def _cron_reply(cron: str) -> Reply | None:
    problem = cron_problem(cron)
    if problem is None and cron.split(" ")[0] != "0":
        problem = "the 1st field (indicating Seconds of time) of the cron setting must be 0"
    if problem is None:
        return None
    return error(400, "BAD_REQUEST", f"invalid cron string for scheduled tag retention: {cron}, error: {problem}")


def _rules_problem(body: dict[str, Any]) -> Reply | None:
    rules = body.get("rules") or []
    if len(rules) > 15:
        return error(400, "BAD_REQUEST", "only 15 rules are allowed at most")
    seen: dict[str, int] = {}
    for n, rule in enumerate(rules):
        key = _rule_key(rule)
        if key in seen:
            return error(409, "CONFLICT", f"rule {n} is conflict with rule {seen[key]}")
        seen[key] = n
    return None


def _rule_key(rule: dict[str, Any]) -> str:
    """A rule as Go marshals it with its id zeroed (``checkRuleConflict``): absent fields are their zero value."""
    def selector(s: dict[str, Any]) -> dict[str, Any]:
        return {k: s.get(k) or "" for k in ("kind", "decoration", "pattern", "extras")}

    return json.dumps({
        "priority": rule.get("priority") or 0, "disabled": bool(rule.get("disabled")),
        "action": rule.get("action") or "", "template": rule.get("template") or "", "params": rule.get("params") or {},
        "tag_selectors": [selector(s) for s in rule.get("tag_selectors") or []],
        "scope_selectors": {k: [selector(s) for s in v] for k, v in (rule.get("scope_selectors") or {}).items()},
    }, sort_keys=True)  # fmt: skip


def retention_view(policy: dict[str, Any]) -> dict[str, Any]:
    """A policy as GET shows it: false ``disabled`` left out (go-swagger omitempty), the next scheduled time."""
    out = copy.deepcopy(policy)
    for rule in out.get("rules") or []:
        if not rule.get("disabled"):
            rule.pop("disabled", None)
    if _cron(out):
        tomorrow = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1)
        out["trigger"]["settings"]["next_scheduled_time"] = f"{tomorrow.isoformat()}T00:00:00.000Z"
    return out


def create_retention(ctx: Context, r: Request) -> Reply:
    body = r.body
    problem = _rules_problem(body)
    if problem:
        return problem
    scope = body.get("scope")
    if scope is None:
        return crash()  # p.Scope.Level on a nil scope
    ref = int(scope.get("ref") or 0)
    if scope.get("level") != "project":
        return error(400, "BAD_REQUEST", f"scope {scope.get('level') or ''} is not support")
    project = ctx.state["projects"].get(ref)
    if ref <= 0 or project is None:
        return error(400, "BAD_REQUEST", f"invalid Project id {ref}")
    old = project["metadata"].get("retention_id")
    if old:
        return error(400, "BAD_REQUEST", f"project {ref} already has retention policy {old}")
    rid, problem = create_policy(ctx, {k: v for k, v in body.items() if k != "id"})
    if problem:
        return problem
    project["metadata"]["retention_id"] = str(rid)
    return 201, None, {"Location": f"{API}/retentions/{rid}"}


def get_retention(ctx: Context, r: Request) -> Reply:
    pol = ctx.state["retentions"].get(int(r.params["id"]))
    if pol is None:  # a plain error in Harbor's retention manager: a 500
        return internal(f"no such Retention policy with id {r.params['id']}")
    return 200, retention_view(pol), {}


def update_retention(ctx: Context, r: Request) -> Reply:
    rid, body = int(r.params["id"]), r.body
    problem = _rules_problem(body)
    if problem:
        return problem
    scope = body.get("scope")
    if scope is None:
        return crash()
    project = ctx.state["projects"].get(int(scope.get("ref") or 0))
    if project is None or project["metadata"].get("retention_id") != str(rid):
        return error(404, "NOT_FOUND", f"the retention policy id {rid} does not match")
    cron = _cron(body)
    if cron and (problem := _cron_reply(cron)):
        return problem
    old = ctx.state["retentions"].get(rid)
    if old is None:
        return internal(f"no such Retention policy with id {rid}")
    new = {**copy.deepcopy(body), "id": rid}
    if cron:
        new["trigger"] = {**new["trigger"], "settings": {"cron": cron}}
    ctx.state["retentions"][rid] = new
    if _cron(old) != cron:
        problem = (ctx.unschedule() if _cron(old) else None) or (ctx.schedule() if cron else None)
        if problem:
            return problem
    return 200, None, {}


def delete_retention(ctx: Context, r: Request) -> Reply:
    rid = int(r.params["id"])
    pol = ctx.state["retentions"].get(rid)
    if pol is None:
        return error(400, "BAD_REQUEST", f"no such Retention policy with id {rid}")
    if _cron(pol) and (problem := ctx.unschedule()):
        return problem
    del ctx.state["retentions"][rid]
    project = ctx.state["projects"].get((pol.get("scope") or {}).get("ref"))
    if project:
        project["metadata"].pop("retention_id", None)
    return 200, None, {}


HANDLERS: dict[str, Handler] = {
    "createRetention": create_retention,
    "getRetention": get_retention,
    "updateRetention": update_retention,
    "deleteRetention": delete_retention,
}
