"""Registries (upstream endpoints): create/read/update/delete and ping, as ``server/v2.0/handler/registry.go`` and
``controller/registry/controller.go`` do them.

Create, update and ping validate the registry first (name, ``lib.ValidateHTTPURL``, then upstream.py: the
adapter and the live health check, prepared outside the store's lock). A duplicate name is found by the database
insert after that check: 409, and the registry id is used up all the same.
"""

from __future__ import annotations

import copy
from typing import Any

from lab.harbor_double.handlers.base import Context, Handler, Prepare
from lab.harbor_double.listing import filtered_page
from lab.harbor_double.messages import API, MASK, Reply, Request, error, now
from lab.harbor_double.upstream import health_problem, validate_url

# The local Harbor as Harbor shows it on the other side of a replication policy (pkg/reg/manager.go).
LOCAL_REGISTRY = {
    "id": 0, "name": "Local", "type": "harbor", "url": "http://harbor-core:8080", "status": "healthy",
    "insecure": True, "description": "", "credential": {"type": "secret", "access_key": "", "access_secret": MASK},
    "creation_time": "0001-01-01T00:00:00.000Z", "update_time": "0001-01-01T00:00:00.000Z",
}  # fmt: skip


SIDES = ("src_registry", "dest_registry")


def registry_view(reg: dict[str, Any]) -> dict[str, Any]:
    """A registry as Harbor returns it: the secret masked, no credential object when it has none."""
    out = copy.deepcopy(reg)
    if out.get("credential") is None:
        out.pop("credential", None)
    elif out["credential"].get("access_secret"):
        out["credential"]["access_secret"] = MASK
    return out


def validated(ctx: Context, reg: dict[str, Any]) -> Reply | None:
    """``controller.validate``: name, URL (normalized in place), then the adapter and the live health check."""
    if not reg["name"]:
        return error(400, "BAD_REQUEST", "name cannot be empty")
    if len(reg["name"]) > 64:
        return error(400, "BAD_REQUEST", "the max length of name is 64")
    url, problem = validate_url(reg["url"])
    if problem is not None:
        return problem
    reg["url"] = url
    return health_problem(ctx.settings, ctx.faults, reg)


def _name_taken(ctx: Context, name: str, rid: int | None) -> bool:
    return any(x["name"] == name and x["id"] != rid for x in ctx.state["registries"].values())


def list_registries(ctx: Context, r: Request) -> Reply:
    return filtered_page(r, [registry_view(x) for x in ctx.state["registries"].values()])


def prepare_create(ctx: Context, r: Request) -> tuple[dict[str, Any], Reply | None]:
    body = r.body
    reg: dict[str, Any] = {
        "name": body.get("name") or "", "type": body.get("type") or "", "url": body.get("url") or "",
        "insecure": bool(body.get("insecure", False)), "description": body.get("description") or "",
        "credential": None,
    }  # fmt: skip
    cred = body.get("credential")
    if cred is not None:
        reg["credential"] = {
            "type": cred.get("type") or "", "access_key": cred.get("access_key") or "",
            "access_secret": cred.get("access_secret") or "",
        }  # fmt: skip
    return reg, validated(ctx, reg)


def create_registry(ctx: Context, r: Request) -> Reply:
    reg, problem = r.prepared
    if problem is not None:
        return problem
    rid = ctx.store.next_id("registries")  # the insert takes the id before the unique name check fails
    if _name_taken(ctx, reg["name"], None):
        return error(409, "CONFLICT", f"registry {reg['name']} already exists")
    stamp = now()
    reg.update(id=rid, status="healthy", creation_time=stamp, update_time=stamp)
    ctx.state["registries"][rid] = reg
    return 201, None, {"Location": f"{API}/registries/{rid}"}


def _registry(ctx: Context, r: Request) -> dict[str, Any] | None:
    return ctx.state["registries"].get(int(r.params["id"]))


def get_registry(ctx: Context, r: Request) -> Reply:
    if int(r.params["id"]) == 0:
        return 200, copy.deepcopy(LOCAL_REGISTRY), {}
    reg = _registry(ctx, r)
    if reg is None:
        return error(404, "NOT_FOUND", f"registry {r.params['id']} not found")
    return 200, registry_view(reg), {}


def prepare_update(ctx: Context, r: Request) -> tuple[dict[str, Any], Reply | None]:
    with ctx.store.lock:
        reg = copy.deepcopy(_registry(ctx, r))
    if reg is None:
        return {}, error(404, "NOT_FOUND", f"registry {r.params['id']} not found")
    b = r.body or {}
    for key in ("name", "description", "url", "insecure"):
        if b.get(key) is not None:
            reg[key] = b[key]
    cred = reg["credential"] = reg.get("credential") or {"type": "", "access_key": "", "access_secret": ""}
    for key, field in (("credential_type", "type"), ("access_key", "access_key"), ("access_secret", "access_secret")):
        if b.get(key) is not None:
            cred[field] = b[key]
    return reg, validated(ctx, reg)


def update_registry(ctx: Context, r: Request) -> Reply:
    new, problem = r.prepared
    if problem is not None:
        return problem
    if _registry(ctx, r) is None:
        return error(404, "NOT_FOUND", f"registry {r.params['id']} not found")
    if _name_taken(ctx, new["name"], new["id"]):
        return error(409, "CONFLICT", f"registry {new['name']} already exists")
    new.update(status="healthy", update_time=now())
    ctx.state["registries"][new["id"]] = new
    return 200, None, {}


def delete_registry(ctx: Context, r: Request) -> Reply:
    reg = _registry(ctx, r)
    if reg is None:
        return error(404, "NOT_FOUND", f"registry {r.params['id']} not found")
    rid = reg["id"]
    sides = [(p.get(side) or {}).get("id") for p in ctx.state["policies"].values() for side in SIDES]
    if rid in sides:
        return error(412, "PRECONDITION", f"the registry {rid} is referenced by replication policies, cannot delete it")
    if any(p.get("registry_id") == rid for p in ctx.state["projects"].values()):  # soft-deleted ones do not count
        return error(412, "PRECONDITION", f"the registry {rid} is referenced by proxy cache project, cannot delete it")
    del ctx.state["registries"][rid]
    return 200, None, {}


def prepare_ping(ctx: Context, r: Request) -> Reply:
    b = r.body or {}
    reg: dict[str, Any] = {"name": "ping", "type": "", "url": "", "insecure": False, "credential": None}
    if b.get("id") is not None:
        with ctx.store.lock:
            stored = copy.deepcopy(ctx.state["registries"].get(int(b["id"])))
        if stored is None:
            return error(404, "NOT_FOUND", f"registry {b['id']} not found")
        reg = stored
    if b.get("type") is not None:
        reg["type"] = b["type"]
    if b.get("url") is not None:
        url, problem = validate_url(b["url"])
        if problem is not None:
            return problem
        reg["url"] = url
    if b.get("insecure") is not None:
        reg["insecure"] = b["insecure"]
    for key, field in (("credential_type", "type"), ("access_key", "access_key"), ("access_secret", "access_secret")):
        if b.get(key) is not None:
            reg["credential"] = reg.get("credential") or {"type": "", "access_key": "", "access_secret": ""}
            reg["credential"][field] = b[key]
    if not reg["type"] or not reg["url"]:
        return error(400, "BAD_REQUEST", "type or url cannot be empty")
    return health_problem(ctx.settings, ctx.faults, reg) or (200, None, {})


def ping_registry(_ctx: Context, r: Request) -> Reply:
    reply: Reply = r.prepared
    return reply


HANDLERS: dict[str, Handler] = {
    "listRegistries": list_registries,
    "createRegistry": create_registry,
    "getRegistry": get_registry,
    "updateRegistry": update_registry,
    "deleteRegistry": delete_registry,
    "pingRegistry": ping_registry,
}
PREPARES: dict[str, Prepare] = {
    "createRegistry": prepare_create,
    "updateRegistry": prepare_update,
    "pingRegistry": prepare_ping,
}
