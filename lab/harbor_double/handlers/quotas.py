"""Project quotas (storage only): one per project, created and removed with it."""

from __future__ import annotations

from lab.harbor_double.handlers.base import Context, Handler
from lab.harbor_double.listing import paged
from lab.harbor_double.messages import Reply, Request, error, now


def list_quotas(ctx: Context, r: Request) -> Reply:
    items = list(ctx.state["quotas"].values())
    if "reference" in r.query and r.query["reference"][0] != "project":
        items = []
    if "reference_id" in r.query:
        items = [q for q in items if str(q["ref"]["id"]) == r.query["reference_id"][0]]
    return paged(r, sorted(items, key=lambda q: q["id"]))


def get_quota(ctx: Context, r: Request) -> Reply:
    q = ctx.state["quotas"].get(int(r.params["id"]))
    return (200, q, {}) if q else error(404, "NOT_FOUND", "quota not found")


def update_quota(ctx: Context, r: Request) -> Reply:
    q = ctx.state["quotas"].get(int(r.params["id"]))
    if q is None:
        return error(404, "NOT_FOUND", "quota not found")
    hard = r.body.get("hard") or {}
    for key, value in hard.items():
        if key != "storage":
            return error(400, "BAD_REQUEST", f"resource {key} not supported")
        if value != -1 and value <= 0:
            return error(400, "BAD_REQUEST", f"invalid hard limit {value} for {key}")
    q["hard"].update(hard)
    q["update_time"] = now()
    return 200, None, {}


HANDLERS: dict[str, Handler] = {
    "listQuotas": list_quotas,
    "getQuota": get_quota,
    "updateQuota": update_quota,
}
