"""Tag retention policies of a project (at most one per project, up to 15 ``retain`` rules)."""

from __future__ import annotations

from typing import Any

from lab.harbor_double.handlers.base import Context, Handler
from lab.harbor_double.messages import API, Reply, Request, error

RULE_TEMPLATES = ("nDaysSinceLastPull", "nDaysSinceLastPush", "latestPushedK", "latestPulledN", "always")


def default_rule(days: int) -> dict[str, Any]:
    """The rule Harbor attaches to a new proxy-cache project: keep what was pulled in the last ``days``."""
    return {
        "priority": 0, "disabled": False, "action": "retain", "template": "nDaysSinceLastPull",
        "params": {"nDaysSinceLastPull": days},
        "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**"}],
        "scope_selectors": {
            "repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}],
        },
    }  # fmt: skip


def store_retention(ctx: Context, policy: dict[str, Any]) -> int:
    """Store a retention policy (rules get ids); its id."""
    rid = ctx.store.next_id()
    rules = []
    for rule in policy.get("rules") or []:
        rules.append({**rule, "id": rule.get("id") or ctx.store.next_id()})
    ctx.state["retentions"][rid] = {**policy, "id": rid, "rules": rules}
    return rid


def _retention_problem(ctx: Context, body: dict[str, Any]) -> Reply | None:
    scope = body.get("scope") or {}
    if scope.get("level") != "project" or scope.get("ref") not in ctx.state["projects"]:
        return error(400, "BAD_REQUEST", "scope must reference an existing project")
    for rule in body.get("rules") or []:
        if rule.get("action") != "retain" or rule.get("template") not in RULE_TEMPLATES:
            return error(400, "BAD_REQUEST", f"invalid retention rule {rule.get('template')!r}")
    if len(body.get("rules") or []) > 15:
        return error(400, "BAD_REQUEST", "at most 15 rules")
    return None


def create_retention(ctx: Context, r: Request) -> Reply:
    problem = _retention_problem(ctx, r.body)
    if problem:
        return problem
    project = ctx.state["projects"][r.body["scope"]["ref"]]
    if project["metadata"].get("retention_id"):
        return error(400, "BAD_REQUEST", "project already has retention policy")
    rid = store_retention(ctx, {k: v for k, v in r.body.items() if k != "id"})
    project["metadata"]["retention_id"] = str(rid)
    return 201, None, {"Location": f"{API}/retentions/{rid}"}


def get_retention(ctx: Context, r: Request) -> Reply:
    pol = ctx.state["retentions"].get(int(r.params["id"]))
    return (200, pol, {}) if pol else error(404, "NOT_FOUND", "retention policy not found")


def update_retention(ctx: Context, r: Request) -> Reply:
    rid = int(r.params["id"])
    old = ctx.state["retentions"].get(rid)
    if old is None:
        return error(404, "NOT_FOUND", "retention policy not found")
    problem = _retention_problem(ctx, r.body)
    if problem:
        return problem
    rules = [{**rule, "id": rule.get("id") or ctx.store.next_id()} for rule in r.body.get("rules") or []]
    ctx.state["retentions"][rid] = {**r.body, "id": rid, "rules": rules}
    return 200, None, {}


def delete_retention(ctx: Context, r: Request) -> Reply:
    pol = ctx.state["retentions"].pop(int(r.params["id"]), None)
    if pol is None:
        return error(404, "NOT_FOUND", "retention policy not found")
    project = ctx.state["projects"].get(pol["scope"]["ref"])
    if project:
        project["metadata"].pop("retention_id", None)
    return 200, None, {}


HANDLERS: dict[str, Handler] = {
    "createRetention": create_retention,
    "getRetention": get_retention,
    "updateRetention": update_retention,
    "deleteRetention": delete_retention,
}
