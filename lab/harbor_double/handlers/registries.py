"""Registries (upstream endpoints): create/read/update/delete, ping, and Harbor's checks of type and URL.

Registry writes and pings answer 400 "the registry is unhealthy" under the ``registry_unhealthy`` fault.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from lab.harbor_double.handlers.base import Context, Handler
from lab.harbor_double.listing import filtered_page
from lab.harbor_double.messages import API, MASK, Reply, Request, error, now

# Harbor's own checks as Harbor applies them, kept apart from components/rules.py on purpose: the double
# is what the providers are tested against, so it must not share the product's copy of a rule.
ECR_URL_RE = re.compile(
    r"https://(?:api|(\d+)\.dkr)\.ecr(?:-public|-fips)?\.([\w\-]+)\.(amazonaws\.com(\.cn)?|sc2s\.sgov\.gov|c2s\.ic\.gov)"
)
REGISTRY_TYPES = {
    "harbor", "docker-hub", "docker-registry", "huawei-SWR", "google-gcr", "aws-ecr", "azure-acr", "ali-acr",
    "jfrog-artifactory", "quay", "gitlab", "dtr", "tencent-tcr", "github-ghcr", "volcengine-cr", "helm-hub",
    "artifact-hub",
}  # fmt: skip


def registry_view(reg: dict[str, Any]) -> dict[str, Any]:
    """A registry as Harbor returns it: the secret masked."""
    out = copy.deepcopy(reg)
    if out.get("credential", {}).get("access_secret"):
        out["credential"]["access_secret"] = MASK
    return out


def _registry_problem(ctx: Context, reg: dict[str, Any]) -> Reply | None:
    name = reg.get("name") or ""
    if not name or len(name) > 64:
        return error(400, "BAD_REQUEST", "the registry name must be 1-64 characters")
    if reg.get("type") not in REGISTRY_TYPES:
        return error(400, "BAD_REQUEST", f"invalid registry type {reg.get('type')!r}")
    url = reg.get("url") or ""
    if not re.match(r"^https?://[^/\s]+", url):
        return error(400, "BAD_REQUEST", f"invalid url {url!r}")
    if reg["type"] == "aws-ecr" and not ECR_URL_RE.search(url):
        return error(400, "BAD_REQUEST", f"the registry is unhealthy: bad aws url {url!r}")
    if ctx.faults.registry_unhealthy:
        return error(400, "BAD_REQUEST", "the registry is unhealthy")
    return None


def list_registries(ctx: Context, r: Request) -> Reply:
    return filtered_page(r, [registry_view(x) for x in ctx.state["registries"].values()])


def create_registry(ctx: Context, r: Request) -> Reply:
    body = r.body
    reg = {
        "name": body.get("name", ""), "type": body.get("type", ""),
        "url": (body.get("url") or "").rstrip("/"),
        "insecure": bool(body.get("insecure", False)), "description": body.get("description", ""),
    }  # fmt: skip
    cred = body.get("credential")
    if cred:
        reg["credential"] = {
            "type": cred.get("type") or "basic",
            "access_key": cred.get("access_key", ""),
            "access_secret": cred.get("access_secret", ""),
        }
    problem = _registry_problem(ctx, reg)
    if problem:
        return problem
    if any(x["name"] == reg["name"] for x in ctx.state["registries"].values()):
        return error(409, "CONFLICT", f"registry {reg['name']} already exists")
    rid = ctx.store.next_id()
    stamp = now()
    reg.update(id=rid, status="healthy", creation_time=stamp, update_time=stamp)
    ctx.state["registries"][rid] = reg
    return 201, None, {"Location": f"{API}/registries/{rid}"}


def _registry(ctx: Context, r: Request) -> dict[str, Any] | None:
    return ctx.state["registries"].get(int(r.params["id"]))


def get_registry(ctx: Context, r: Request) -> Reply:
    reg = _registry(ctx, r)
    if reg is None:
        return error(404, "NOT_FOUND", f"registry {r.params['id']} not found")
    return 200, registry_view(reg), {}


def update_registry(ctx: Context, r: Request) -> Reply:
    reg = _registry(ctx, r)
    if reg is None:
        return error(404, "NOT_FOUND", f"registry {r.params['id']} not found")
    new = copy.deepcopy(reg)
    b = r.body
    for key in ("name", "description", "insecure"):
        if b.get(key) is not None:
            new[key] = b[key]
    if b.get("url") is not None:
        new["url"] = b["url"].rstrip("/")
    cred = new.setdefault("credential", {"type": "basic", "access_key": "", "access_secret": ""})
    if b.get("credential_type") is not None:
        cred["type"] = b["credential_type"]
    if b.get("access_key") is not None:
        cred["access_key"] = b["access_key"]
    if b.get("access_secret") is not None:
        cred["access_secret"] = b["access_secret"]
    problem = _registry_problem(ctx, new)
    if problem:
        return problem
    if any(x["name"] == new["name"] and x["id"] != reg["id"] for x in ctx.state["registries"].values()):
        return error(409, "CONFLICT", f"registry {new['name']} already exists")
    new["update_time"] = now()
    ctx.state["registries"][reg["id"]] = new
    return 200, None, {}


def delete_registry(ctx: Context, r: Request) -> Reply:
    reg = _registry(ctx, r)
    if reg is None:
        return error(404, "NOT_FOUND", f"registry {r.params['id']} not found")
    rid = reg["id"]
    used = [p["name"] for p in ctx.state["projects"].values() if p.get("registry_id") == rid]
    used += [
        p["name"]
        for p in ctx.state["policies"].values()
        if (p.get("src_registry") or {}).get("id") == rid
        or (p.get("dest_registry") or {}).get("id") == rid
    ]
    if used:
        return error(
            412, "PRECONDITION", f"the registry {rid} is referenced by {', '.join(used)}, can not delete"
        )
    del ctx.state["registries"][rid]
    return 200, None, {}


def ping_registry(ctx: Context, r: Request) -> Reply:
    b = r.body
    reg = {"name": "ping", "type": b.get("type") or "", "url": b.get("url") or ""}
    if b.get("id"):
        stored = ctx.state["registries"].get(int(b["id"]))
        if stored is None:
            return error(404, "NOT_FOUND", f"registry {b['id']} not found")
        reg = {**stored, "name": "ping"}
    problem = _registry_problem(ctx, reg)
    return problem or (200, None, {})


HANDLERS: dict[str, Handler] = {
    "listRegistries": list_registries,
    "createRegistry": create_registry,
    "getRegistry": get_registry,
    "updateRegistry": update_registry,
    "deleteRegistry": delete_registry,
    "pingRegistry": ping_registry,
}
