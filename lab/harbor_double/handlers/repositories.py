"""Repositories of a project (a cached or pushed image; the double creates them through its control API)."""

from __future__ import annotations

from urllib.parse import unquote

from lab.harbor_double.handlers.base import Context, Handler
from lab.harbor_double.handlers.projects import missing, project_of
from lab.harbor_double.listing import filtered_page
from lab.harbor_double.messages import Reply, Request, error


def list_repositories(ctx: Context, r: Request) -> Reply:
    p = project_of(ctx, r)
    if p is None or (r.user is None and p["metadata"].get("public") != "true"):
        return missing(r)
    return filtered_page(r, list(ctx.state["repositories"].get(p["project_id"], {}).values()))


def delete_repository(ctx: Context, r: Request) -> Reply:
    p = project_of(ctx, r)
    if p is None:
        return missing(r)
    # The router decoded the path once; Harbor unescapes the repository name a second time.
    full = f"{p['name']}/{unquote(r.params['repository_name'])}"
    repos = ctx.state["repositories"].get(p["project_id"], {})
    if full not in repos:
        return error(404, "NOT_FOUND", f"repository {full} not found")
    del repos[full]
    return 200, None, {}


HANDLERS: dict[str, Handler] = {
    "listRepositories": list_repositories,
    "deleteRepository": delete_repository,
}
