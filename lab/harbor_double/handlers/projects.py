"""Projects: create (plain or proxy cache, with its quota and, for a proxy cache, Harbor's 7-day retention),
read, metadata merge on update, delete (412 while it holds repositories), and the deletable check."""

from __future__ import annotations

import copy
import re
from typing import Any

from lab.harbor_double.handlers.base import Context, Handler
from lab.harbor_double.handlers.retentions import default_rule, store_retention
from lab.harbor_double.listing import filtered_page
from lab.harbor_double.messages import API, Reply, Request, error, now

# Harbor's rule, not components/rules.py's (see registries.py).
PROJECT_NAME_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
PROXY_TYPES = {
    "docker-hub", "harbor", "azure-acr", "ali-acr", "aws-ecr", "google-gcr", "docker-registry", "github-ghcr",
    "jfrog-artifactory",
}  # fmt: skip
BOOL_METADATA = {
    "public", "enable_content_trust", "enable_content_trust_cosign", "prevent_vul", "auto_scan",
    "auto_sbom_generation", "reuse_sys_cve_allowlist",
}  # fmt: skip
PROXY_ONLY_METADATA = {"proxy_speed_kb", "max_upstream_conn"}


def _project_view(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(p)
    out["repo_count"] = len(ctx.state["repositories"].get(p["project_id"], {}))
    if not out.get("registry_id"):
        out.pop("registry_id", None)
    return out


def _check_metadata(meta: dict[str, Any]) -> Reply | None:
    for key, value in meta.items():
        if value is None:
            continue
        if key in BOOL_METADATA and value not in ("true", "false"):
            return error(400, "BAD_REQUEST", f"invalid value of {key}: {value!r}, must be true or false")
        if key in PROXY_ONLY_METADATA and not re.fullmatch(r"-?\d+", value):
            return error(400, "BAD_REQUEST", f"invalid value of {key}: {value!r}")
    return None


def list_projects(ctx: Context, r: Request) -> Reply:
    return filtered_page(r, [_project_view(ctx, p) for p in ctx.state["projects"].values()])


def head_project(ctx: Context, r: Request) -> Reply:
    found = ctx.store.project_by_name(r.query["project_name"][0])
    return (200, None, {}) if found else error(404, "NOT_FOUND", "project not found")


def create_project(ctx: Context, r: Request) -> Reply:
    b = r.body
    name = b.get("project_name") or ""
    if not PROJECT_NAME_RE.match(name) or len(name) > 255:
        return error(
            400,
            "BAD_REQUEST",
            f"project name is not in lower case or contains illegal characters: {name!r}",
        )
    if ctx.store.project_by_name(name):
        return error(409, "CONFLICT", f"The project named {name} already exists")
    meta = dict(b.get("metadata") or {})
    problem = _check_metadata(meta)
    if problem:
        return problem
    if meta.get("retention_id"):
        return error(400, "BAD_REQUEST", "retention_id must be empty when creating a project")
    registry_id = b.get("registry_id")
    if registry_id is not None:
        if registry_id == 0:
            return error(400, "BAD_REQUEST", "0 is invalid value of registry_id")
        reg = ctx.state["registries"].get(registry_id)
        if reg is None:
            return error(400, "BAD_REQUEST", f"registry {registry_id} not found")
        if reg["type"] not in PROXY_TYPES:
            return error(400, "BAD_REQUEST", f"unsupported registry type {reg['type']}")
    else:
        meta = {k: v for k, v in meta.items() if k not in PROXY_ONLY_METADATA}
    limit = b.get("storage_limit")
    limit = -1 if limit is None else limit
    if limit != -1 and limit <= 0:
        return error(400, "BAD_REQUEST", f"invalid storage_limit {limit}")
    meta = {k: v for k, v in meta.items() if v is not None}
    meta.setdefault("public", "true" if b.get("public") else "false")
    pid = ctx.store.next_id()
    stamp = now()
    ctx.state["projects"][pid] = {
        "project_id": pid, "owner_id": 1, "owner_name": "admin", "name": name,
        "registry_id": registry_id or 0,
        "creation_time": stamp, "update_time": stamp, "deleted": False, "togglable": True,
        "current_user_role_id": 1, "current_user_role_ids": [1], "metadata": meta,
        "cve_allowlist": {
            "id": pid, "project_id": pid, "items": [], "creation_time": stamp, "update_time": stamp,
        },
    }  # fmt: skip
    qid = ctx.store.next_id()
    ctx.state["quotas"][qid] = {
        "id": qid, "ref": {"id": pid, "name": name, "owner_name": "admin"}, "hard": {"storage": limit},
        "used": {"storage": 0}, "creation_time": stamp, "update_time": stamp,
    }  # fmt: skip
    if registry_id:
        rid = store_retention(ctx, {
            "algorithm": "or",
            "rules": [default_rule(7)],
            "trigger": {"kind": "Schedule", "settings": {"cron": "0 0 0 * * *"}},
            "scope": {"level": "project", "ref": pid},
        })
        meta["retention_id"] = str(rid)
    where = name if r.headers.get("X-Resource-Name-In-Location") == "true" else str(pid)
    return 201, None, {"Location": f"{API}/projects/{where}"}


def project_of(ctx: Context, r: Request) -> dict[str, Any] | None:
    ref = r.params.get("project_name_or_id") or r.params.get("project_name") or ""
    if "project_name" in r.params:
        return ctx.store.project_by_name(ref)
    return ctx.store.project_ref(ref, r.headers.get("X-Is-Resource-Name"))


def get_project(ctx: Context, r: Request) -> Reply:
    p = project_of(ctx, r)
    return (200, _project_view(ctx, p), {}) if p else error(404, "NOT_FOUND", "project not found")


def update_project(ctx: Context, r: Request) -> Reply:
    p = project_of(ctx, r)
    if p is None:
        return error(404, "NOT_FOUND", "project not found")
    meta = {k: v for k, v in (r.body.get("metadata") or {}).items() if v is not None}
    problem = _check_metadata(meta)
    if problem:
        return problem
    if "retention_id" in meta and meta["retention_id"] != p["metadata"].get("retention_id"):
        return error(400, "BAD_REQUEST", "the retention_id in the request does not match the project's")
    if not p.get("registry_id"):
        meta = {k: v for k, v in meta.items() if k not in PROXY_ONLY_METADATA}
    p["metadata"].update(meta)  # merged, as lib.JSONCopy into the stored map
    p["update_time"] = now()
    return 200, None, {}


def delete_project(ctx: Context, r: Request) -> Reply:
    p = project_of(ctx, r)
    if p is None:
        return error(404, "NOT_FOUND", "project not found")
    pid = p["project_id"]
    if ctx.state["repositories"].get(pid):
        return error(
            412, "PRECONDITION", f"the project {p['name']} contains repositories, can not be deleted"
        )
    del ctx.state["projects"][pid]
    ctx.state["repositories"].pop(pid, None)
    for qid in [q["id"] for q in ctx.state["quotas"].values() if q["ref"]["id"] == pid]:
        del ctx.state["quotas"][qid]
    for rid in [x["id"] for x in ctx.state["retentions"].values() if x["scope"]["ref"] == pid]:
        del ctx.state["retentions"][rid]
    return 200, None, {}


def get_project_deletable(ctx: Context, r: Request) -> Reply:
    p = project_of(ctx, r)
    if p is None:
        return error(404, "NOT_FOUND", "project not found")
    if ctx.state["repositories"].get(p["project_id"]):
        return 200, {"deletable": False, "message": "the project contains repositories"}, {}
    return 200, {"deletable": True}, {}


HANDLERS: dict[str, Handler] = {
    "listProjects": list_projects,
    "headProject": head_project,
    "createProject": create_project,
    "getProject": get_project,
    "updateProject": update_project,
    "deleteProject": delete_project,
    "getProjectDeletable": get_project_deletable,
}
