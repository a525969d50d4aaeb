"""What a proxy-cache project holds, from the pulls the sandbox's pull path served (lab/harbor_double/pulls.py):
``getRepository``, ``listArtifacts``, ``getProjectSummary``, and the learned part of ``listRepositories`` and of
the quotas' ``used.storage``.

Harbor's shapes (swagger v2.14.2): ``Repository`` (``artifact_count``, ``pull_count``, ``creation_time``,
``update_time``), ``Artifact`` (``size``, ``push_time``, ``pull_time``, ``tags``), ``ProjectSummary``
(``repo_count``, ``quota.hard``/``quota.used`` as ``ResourceList``, ``registry`` for a proxy cache). Anonymous
callers see public projects only (a private one answers 401, as a missing one does). ``sort`` takes Harbor's
form (``-pull_count,name``: a leading ``-`` sorts descending).
"""

from __future__ import annotations

import copy
import datetime as dt
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from lab.harbor_double.handlers.base import Context, Handler
from lab.harbor_double.handlers.projects import missing, project_of
from lab.harbor_double.handlers.registries import registry_view
from lab.harbor_double.listing import filtered, paged
from lab.harbor_double.messages import Reply, Request, error
from lab.harbor_double.pulls import LEDGER, Artifact, Repository, stamp, used_bytes

NEVER = "0001-01-01T00:00:00.000Z"  # Harbor's pull_time of an artifact nobody pulled


def _epoch(stamp_text: str) -> float:
    return dt.datetime.fromisoformat(stamp_text.replace("Z", "+00:00")).timestamp()


def learned(ctx: Context, project: dict[str, Any]) -> dict[str, Repository]:
    """The learned repositories of a proxy-cache project (none for a plain project or without a pull log): pulls
    since the project was created, and since the repository was last deleted."""
    if not project.get("registry_id") or not ctx.settings.pull_log:
        return {}
    created = _epoch(project["creation_time"])
    forgotten = ctx.state["forgotten"].get(project["project_id"], {})
    return LEDGER.project(ctx.settings.pull_log, ctx.settings.proxy_storage, project["name"],
                          lambda repo: max(created, forgotten.get(repo, 0.0)))


def forget(ctx: Context, project: dict[str, Any], full: str) -> bool:
    """Delete a learned repository (its pulls until now no longer count); False when there is none."""
    if full not in learned(ctx, project):
        return False
    ctx.state["forgotten"].setdefault(project["project_id"], {})[full] = time.time()
    return True


def repository_view(repo: Repository, project_id: int) -> dict[str, Any]:
    last = max((a.pull_time or a.push_time for a in repo.artifacts.values()), default=repo.creation_time)
    return {"id": repo.id, "project_id": project_id, "name": repo.name, "description": "",
            "artifact_count": len(repo.artifacts), "pull_count": repo.pull_count,
            "creation_time": stamp(repo.creation_time), "update_time": stamp(last)}


def artifact_view(a: Artifact, repo: Repository, project_id: int) -> dict[str, Any]:
    pulled = stamp(a.pull_time) if a.pull_time is not None else NEVER
    tags = [{"id": a.id * 100 + i, "repository_id": repo.id, "artifact_id": a.id, "name": t,
             "push_time": stamp(a.push_time), "pull_time": pulled, "immutable": False}
            for i, t in enumerate(sorted(a.tags))]
    return {"id": a.id, "type": "IMAGE", "media_type": "application/vnd.oci.image.config.v1+json",
            "manifest_media_type": a.media_type, "project_id": project_id, "repository_id": repo.id,
            "repository_name": repo.name, "digest": a.digest, "size": a.size, "push_time": stamp(a.push_time),
            "pull_time": pulled, "tags": tags, "extra_attrs": {}, "annotations": {}, "references": [],
            "labels": [], "addition_links": {}}


def all_repository_views(ctx: Context, project: dict[str, Any]) -> list[dict[str, Any]]:
    """The project's repositories: made through the control API, and learned from pulls."""
    stored = [copy.deepcopy(r) for r in ctx.state["repositories"].get(project["project_id"], {}).values()]
    names = {r["name"] for r in stored}
    return stored + [repository_view(r, project["project_id"]) for n, r in learned(ctx, project).items()
                     if n not in names]


def sorted_by(r: Request, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Harbor's ``sort`` parameter (``-pull_count,name``); unknown fields sort as missing."""
    for key in reversed([k for k in r.query.get("sort", [""])[0].split(",") if k.strip("-")]):
        name, descending = key.lstrip("-"), key.startswith("-")
        items = sorted(items, key=lambda i: (i.get(name) is not None, i.get(name) or 0), reverse=descending)
    return items


def list_repositories(ctx: Context, r: Request) -> Reply:
    p = project_of(ctx, r)
    if p is None or (r.user is None and p["metadata"].get("public") != "true"):
        return missing(r)
    found = filtered(r, all_repository_views(ctx, p))
    return found if isinstance(found, tuple) else paged(r, sorted_by(r, found))


@dataclass
class _Target:
    """The project and repository a path names (``repo``: its learned part, if any; ``full``: its name)."""

    project: dict[str, Any]
    repo: Repository | None
    full: str

    def stored(self, ctx: Context) -> dict[str, Any] | None:
        return ctx.state["repositories"].get(self.project["project_id"], {}).get(self.full)


def _target(ctx: Context, r: Request) -> _Target | Reply:
    p = project_of(ctx, r)
    if p is None or (r.user is None and p["metadata"].get("public") != "true"):
        return missing(r)
    full = f"{p['name']}/{unquote(r.params['repository_name'])}"  # Harbor unescapes the name a second time
    return _Target(p, learned(ctx, p).get(full), full)


def get_repository(ctx: Context, r: Request) -> Reply:
    t = _target(ctx, r)
    if not isinstance(t, _Target):
        return t
    stored = t.stored(ctx)
    if stored is not None:
        return 200, copy.deepcopy(stored), {}
    if t.repo is None:
        return error(404, "NOT_FOUND", f"repository {t.full} not found")
    return 200, repository_view(t.repo, t.project["project_id"]), {}


def list_artifacts(ctx: Context, r: Request) -> Reply:
    t = _target(ctx, r)
    if not isinstance(t, _Target):
        return t
    if t.repo is None:
        if t.stored(ctx) is not None:
            return paged(r, [])  # made through the control API: no artifact details
        return error(404, "NOT_FOUND", f"repository {t.full} not found")
    views = [artifact_view(a, t.repo, t.project["project_id"]) for a in t.repo.artifacts.values()]
    if r.query.get("with_tag", ["true"])[0] == "false":
        for view in views:
            view.pop("tags")
    chosen = filtered(r, views)
    return chosen if isinstance(chosen, tuple) else paged(r, sorted_by(r, chosen))


def project_used_bytes(ctx: Context, project: dict[str, Any]) -> int:
    return used_bytes(learned(ctx, project))


def quota_view(ctx: Context, quota: dict[str, Any]) -> dict[str, Any]:
    """A quota with the learned bytes of its project counted in ``used.storage``."""
    out = copy.deepcopy(quota)
    project = ctx.state["projects"].get(int(quota["ref"]["id"]))
    if project is not None:
        out["used"] = {"storage": int((quota.get("used") or {}).get("storage") or 0) + project_used_bytes(ctx, project)}
    return out


def get_project_summary(ctx: Context, r: Request) -> Reply:
    p = project_of(ctx, r)
    if p is None or (r.user is None and p["metadata"].get("public") != "true"):
        return missing(r)
    summary: dict[str, Any] = {"repo_count": len(all_repository_views(ctx, p)), "project_admin_count": 1,
                               "maintainer_count": 0, "developer_count": 0, "guest_count": 0,
                               "limited_guest_count": 0}
    quota = next((q for q in ctx.state["quotas"].values() if int(q["ref"]["id"]) == p["project_id"]), None)
    if quota is not None:
        view = quota_view(ctx, quota)
        summary["quota"] = {"hard": view["hard"], "used": view["used"]}
    registry = ctx.state["registries"].get(p.get("registry_id") or 0)
    if registry is not None:
        summary["registry"] = registry_view(registry)
    return 200, summary, {}


HANDLERS: dict[str, Handler] = {
    "getRepository": get_repository,
    "listArtifacts": list_artifacts,
    "getProjectSummary": get_project_summary,
}
