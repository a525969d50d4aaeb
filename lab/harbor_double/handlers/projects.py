"""Projects, as ``server/v2.0/handler/project.go`` and ``pkg/project`` handle them: create (request checks, then
the name checks and the insert, then the quota and, for a proxy cache, the 7-day retention with its schedule),
read (anonymous callers see public projects only), metadata merge on update, delete (412 while it holds
repositories, else a soft delete: the project is renamed ``name#id`` and no longer found)."""

from __future__ import annotations

import copy
import re
from typing import Any

from lab.harbor_double.handlers.base import Context, Handler
from lab.harbor_double.handlers.retentions import create_policy, proxy_cache_policy
from lab.harbor_double.listing import filtered_page
from lab.harbor_double.messages import API, Reply, Request, error, internal, now, unauthorized

# Harbor's rule (pkg/project/manager.go), not components/rules.py's (see upstream.py).
PROJECT_NAME_RE = re.compile(r"^[a-z0-9]+(?:[._-][a-z0-9]+)*$")
PROXY_ONLY_METADATA = ("proxy_speed_kb", "max_upstream_conn")
MAX_STORAGE = 1125899906842624  # 1024 TB (pkg/quota/types)
INT32 = range(-(2**31), 2**31)


def _bad(message: str) -> Reply:
    return error(400, "BAD_REQUEST", message)


def quota_limit_problem(value: int) -> str | None:
    """``lib.ValidateQuotaLimit``."""
    if value <= 0 and value != -1:
        return f"invalid non-positive value for quota limit, value={value}"
    if value > MAX_STORAGE:
        return f"exceeded 1024TB, which is 1125899906842624 Bytes, value={value}"
    return None


def _project_view(ctx: Context, p: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(p)
    from lab.harbor_double.handlers.cache import all_repository_views  # cache.py imports this module

    out["repo_count"] = len(all_repository_views(ctx, p))
    if not out.get("registry_id"):
        out.pop("registry_id", None)
    return out


def _visible(r: Request, p: dict[str, Any]) -> bool:
    return r.user is not None or p["metadata"].get("public") == "true"


def _int32_problem(meta: dict[str, Any], key: str, wording: str) -> Reply | None:
    value = meta.get(key)
    if value is None:
        return None
    if not re.fullmatch(r"[+-]?\d+", value) or int(value) not in INT32:
        return error(400, "BAD_REQUEST", f"metadata.{key} {wording}, but got: '{value}', err: invalid syntax")
    return None


def _request_problem(ctx: Context, b: dict[str, Any], meta: dict[str, Any], limit: int | None) -> Reply | None:
    """``validateProjectReq``: before the project name is looked at."""
    if meta.get("retention_id"):
        return error(400, "BAD_REQUEST", "the retention_id in the request's payload when creating a project should "
                     "be omitted, alternatively passing an empty string")
    registry_id = b.get("registry_id")
    if registry_id is not None:
        if registry_id <= 0:
            return _bad(f"{registry_id} is invalid value of registry_id, it should be geater than 0")
        reg = ctx.state["registries"].get(registry_id)
        if reg is None:  # wrapped with fmt.Errorf: a 500
            return internal(f"failed to get the registry {registry_id}: registry {registry_id} not found")
        if reg["type"] not in ctx.settings.permitted_proxy_types:
            return error(400, "BAD_REQUEST", f"unsupported registry type {reg['type']}")
        problem = _int32_problem(meta, "proxy_speed_kb", "should by an int32")
        if problem:
            return problem
        problem = _int32_problem(meta, "max_upstream_conn", "should be an int")
        if problem:
            return problem
    if limit is not None and (reason := quota_limit_problem(limit)):
        return error(400, "BAD_REQUEST", reason)
    return None


def list_projects(ctx: Context, r: Request) -> Reply:
    items = [_project_view(ctx, p) for p in ctx.state["projects"].values() if _visible(r, p)]
    if "public" in r.query:
        items = [p for p in items if p["metadata"].get("public") == r.query["public"][0]]
    return filtered_page(r, items)


def head_project(ctx: Context, r: Request) -> Reply:
    name = r.query["project_name"][0]
    found = ctx.store.project_by_name(name)
    return (200, None, {}) if found else error(404, "NOT_FOUND", f"project {name} not found")


def create_project(ctx: Context, r: Request) -> Reply:
    b = r.body
    limit = b.get("storage_limit")
    if not ctx.settings.quota_per_project_enable:
        limit = None  # no quota at all for the project
    elif not limit:
        limit = ctx.settings.storage_per_project
    meta = {k: v for k, v in (b.get("metadata") or {}).items() if v is not None}
    if not meta.get("public") and b.get("public") is not None:
        meta["public"] = "true" if b["public"] else "false"
    meta["public"] = meta.get("public") or "false"
    if meta["public"] not in ("true", "false"):
        return _bad(f"metadata.public should only be 'true' or 'false', but got: '{meta['public']}'")
    registry_id = b.get("registry_id")
    if registry_id is None:
        meta = {k: v for k, v in meta.items() if k not in PROXY_ONLY_METADATA}
    else:
        meta.pop("enable_content_trust", None)
    problem = _request_problem(ctx, b, meta, limit)
    if problem:
        return problem
    meta.pop("retention_id", None)
    name = b.get("project_name") or ""
    if not 1 <= len(name) <= 255:
        return error(400, "BAD_REQUEST", f"Project name {name} is illegal in length. (greater than 255 or less than 1)")
    if not PROJECT_NAME_RE.match(name):
        return error(400, "BAD_REQUEST", "project name is not in lower case or contains illegal characters")
    pid = ctx.store.next_id("projects")  # the insert takes the id before the unique name check fails
    if ctx.store.project_by_name(name):
        return error(409, "CONFLICT", f"The project named {name} already exists")
    stamp = now()
    ctx.state["projects"][pid] = {
        "project_id": pid, "owner_id": 1, "owner_name": "admin", "name": name, "registry_id": registry_id or 0,
        "creation_time": stamp, "update_time": stamp, "deleted": False, "togglable": True,
        "current_user_role_id": 1, "current_user_role_ids": [1], "metadata": meta,
        "cve_allowlist": {"id": pid, "project_id": pid, "items": [], "creation_time": stamp, "update_time": stamp},
    }  # fmt: skip
    if limit is not None:
        qid = ctx.store.next_id("quotas")
        ctx.state["quotas"][qid] = {
            "id": qid, "ref": {"id": pid, "name": name, "owner_name": "admin"}, "hard": {"storage": limit},
            "used": {"storage": 0}, "creation_time": stamp, "update_time": stamp,
        }  # fmt: skip
    if registry_id is not None:
        rid, problem = create_policy(ctx, proxy_cache_policy(pid))
        if problem:
            return problem
        meta["retention_id"] = str(rid)
    where = name if r.headers.get("X-Resource-Name-In-Location") == "true" else str(pid)
    return 201, None, {"Location": f"{API}/projects/{where}"}


def project_of(ctx: Context, r: Request) -> dict[str, Any] | None:
    """The live project the path names (``project_name`` or ``project_name_or_id``)."""
    ref = r.params.get("project_name_or_id") or r.params.get("project_name") or ""
    if "project_name" in r.params:
        return ctx.store.project_by_name(ref)
    return ctx.store.project_ref(ref, r.headers.get("X-Is-Resource-Name"))


def missing(r: Request) -> Reply:
    """404 for the project the path names, in Harbor's words (401 for an anonymous caller)."""
    if r.user is None:
        return unauthorized()
    ref = r.params.get("project_name_or_id") or r.params.get("project_name") or ""
    return error(404, "NOT_FOUND", f"project {ref} not found")


def get_project(ctx: Context, r: Request) -> Reply:
    p = project_of(ctx, r)
    if p is None or not _visible(r, p):
        return missing(r)
    return 200, _project_view(ctx, p), {}


def update_project(ctx: Context, r: Request) -> Reply:
    p = project_of(ctx, r)
    if p is None:
        return missing(r)
    body = r.body  # registry_id and storage_limit are not looked at: a proxy project's registry never changes
    allowlist = body.get("cve_allowlist")
    if allowlist and allowlist.get("project_id") not in (None, 0, p["project_id"]):
        return error(400, "BAD_REQUEST",
                     f"project_id in cve_allowlist must be {p['project_id']} but it's {allowlist['project_id']}")
    meta = {k: v for k, v in (body.get("metadata") or {}).items() if v is not None}
    if p.get("registry_id"):
        meta.pop("enable_content_trust", None)
    else:
        meta = {k: v for k, v in meta.items() if k not in PROXY_ONLY_METADATA}
    merged = {**p["metadata"], **meta}  # lib.JSONCopy into the stored map
    if "retention_id" in merged and merged["retention_id"] != p["metadata"].get("retention_id"):
        return error(400, "BAD_REQUEST", "the retention_id in the request's payload when updating a project should be "
                     "omitted, alternatively passing the one that has already been associated to this project")
    p["metadata"] = merged
    p["update_time"] = now()
    return 200, None, {}


def delete_project(ctx: Context, r: Request) -> Reply:
    p = project_of(ctx, r)
    if p is None:
        return missing(r)
    pid = p["project_id"]
    if ctx.state["repositories"].get(pid):
        return error(412, "PRECONDITION", "precondition failed: the project contains repositories, can not be deleted")
    del ctx.state["projects"][pid]
    ctx.state["deleted_projects"][pid] = {**p, "name": f"{p['name']}#{pid}"[:255], "deleted": True}
    ctx.state["repositories"].pop(pid, None)
    for qid in [q["id"] for q in ctx.state["quotas"].values() if q["ref"]["id"] == pid]:
        del ctx.state["quotas"][qid]
    # The retention goes in an event handler after the answer; without jobservice its unschedule fails and Harbor
    # only logs it: the policy stays behind.
    if not ctx.faults.jobservice_down:
        for rid in [x["id"] for x in ctx.state["retentions"].values() if (x.get("scope") or {}).get("ref") == pid]:
            del ctx.state["retentions"][rid]
    return 200, None, {}


def get_project_deletable(ctx: Context, r: Request) -> Reply:
    p = project_of(ctx, r)
    if p is None:
        return missing(r)
    if ctx.state["repositories"].get(p["project_id"]):
        return 200, {"deletable": False, "message": "the project contains repositories, can not be deleted"}, {}
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
