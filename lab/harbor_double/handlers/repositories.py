"""Repositories of a project: made through the double's control API, or learned from the pull path's pulls
(handlers/cache.py)."""

from __future__ import annotations

from urllib.parse import unquote

from lab.harbor_double.handlers.base import Context, Handler
from lab.harbor_double.handlers.cache import forget, list_repositories
from lab.harbor_double.handlers.projects import missing, project_of
from lab.harbor_double.messages import Reply, Request, error


def delete_repository(ctx: Context, r: Request) -> Reply:
    p = project_of(ctx, r)
    if p is None:
        return missing(r)
    # The router decoded the path once; Harbor unescapes the repository name a second time.
    full = f"{p['name']}/{unquote(r.params['repository_name'])}"
    repos = ctx.state["repositories"].get(p["project_id"], {})
    if full in repos:
        del repos[full]
    elif not forget(ctx, p, full):  # a repository learned from pulls (cache.py)
        return error(404, "NOT_FOUND", f"repository {full} not found")
    return 200, None, {}


HANDLERS: dict[str, Handler] = {
    "listRepositories": list_repositories,  # with the repositories learned from pulls (cache.py)
    "deleteRepository": delete_repository,
}
