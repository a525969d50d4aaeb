"""Project quotas (storage only): one per project, created and removed with it; ``used`` counts the bytes a
proxy-cache project holds from the pull path's pulls (handlers/cache.py)."""

from __future__ import annotations

from lab.harbor_double.handlers.base import Context, Handler
from lab.harbor_double.handlers.cache import quota_view
from lab.harbor_double.handlers.projects import quota_limit_problem
from lab.harbor_double.listing import paged
from lab.harbor_double.messages import Reply, Request, error, now


def list_quotas(ctx: Context, r: Request) -> Reply:
    items = list(ctx.state["quotas"].values())
    if "reference" in r.query and r.query["reference"][0] != "project":
        items = []
    if "reference_id" in r.query:
        items = [q for q in items if str(q["ref"]["id"]) == r.query["reference_id"][0]]
    return paged(r, [quota_view(ctx, q) for q in sorted(items, key=lambda q: q["id"])])


def get_quota(ctx: Context, r: Request) -> Reply:
    q = ctx.state["quotas"].get(int(r.params["id"]))
    return (200, quota_view(ctx, q), {}) if q else error(404, "NOT_FOUND", f"quota {r.params['id']} not found")


def update_quota(ctx: Context, r: Request) -> Reply:
    hard = r.body.get("hard") or {}
    if not hard:
        return error(400, "BAD_REQUEST", "hard required in body")
    q = ctx.state["quotas"].get(int(r.params["id"]))
    if q is None:
        return error(404, "NOT_FOUND", f"quota {r.params['id']} not found")
    for key, value in hard.items():  # the project quota driver's Validate
        if key != "storage":
            return error(400, "BAD_REQUEST", f"resource {key} not support")
        reason = quota_limit_problem(value)
        if reason:
            return error(400, "BAD_REQUEST", reason)
    if "storage" not in hard:
        return error(400, "BAD_REQUEST", "resource storage not found")
    q["hard"] = dict(hard)
    q["update_time"] = now()
    return 200, None, {}


HANDLERS: dict[str, Handler] = {
    "listQuotas": list_quotas,
    "getQuota": get_quota,
    "updateQuota": update_quota,
}
