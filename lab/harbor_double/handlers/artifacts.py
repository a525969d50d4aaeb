"""One artifact of a proxy-cache project, answered truthfully from the registry that really holds the cache.

In Harbor a proxy-cache project holds an artifact once a pull by Harbor's name brought it through the cache.
The sandbox's pull path is a proxying registry (lab/testbed) whose storage holds exactly what was pulled; the
setting ``proxy_storage`` (``{project name: storage root}``, ``"*"``: every proxy-cache project) points the
double at that storage, so ``getArtifact`` says 200 only when the bytes went through the pull path, and 404
otherwise (a cache the nodes bypassed). A project without a mapping holds no artifacts. Anonymous callers
see public projects only (Harbor answers 401 for the others, as for a project that does not exist).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from lab.harbor_double.handlers.base import Context, Handler
from lab.harbor_double.handlers.projects import missing, project_of
from lab.harbor_double.messages import Reply, Request, error


def stored_digest(root: Path, repository: str, reference: str) -> tuple[str, float] | None:
    """The manifest digest and time a distribution registry stored for ``repository:reference`` (a tag or a
    digest) under its storage ``root``, or None when it holds none."""
    if ".." in repository.split("/") or "/" in reference:
        return None
    repo = root / "docker" / "registry" / "v2" / "repositories" / repository / "_manifests"
    if reference.startswith("sha256:"):
        link = repo / "revisions" / "sha256" / reference.removeprefix("sha256:") / "link"
    else:
        link = repo / "tags" / reference / "current" / "link"
    if not link.is_file():
        return None
    return link.read_text().strip(), link.stat().st_mtime


def _storage(ctx: Context, project: dict[str, Any]) -> Path | None:
    if not project.get("registry_id"):
        return None  # not a proxy-cache project
    mapping = ctx.settings.proxy_storage
    root = mapping.get(project["name"]) or mapping.get("*")
    return Path(root) if root else None


def get_artifact(ctx: Context, r: Request) -> Reply:
    p = project_of(ctx, r)
    if p is None or (r.user is None and p["metadata"].get("public") != "true"):
        return missing(r)
    # The router decoded the path once; Harbor unescapes the repository name a second time.
    repository, reference = unquote(r.params["repository_name"]), r.params["reference"]
    root = _storage(ctx, p)
    found = stored_digest(root, repository, reference) if root else None
    if found is None:
        return error(404, "NOT_FOUND", f"artifact {p['name']}/{repository}:{reference} not found")
    digest, stamp = found
    when = dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    tags = [] if reference.startswith("sha256:") else [
        {"name": reference, "repository_id": 0, "artifact_id": 0, "push_time": when, "pull_time": when,
         "immutable": False}]
    return 200, {"id": 0, "type": "IMAGE", "media_type": "application/vnd.oci.image.config.v1+json",
                 "manifest_media_type": "application/vnd.oci.image.manifest.v1+json", "project_id": p["project_id"],
                 "repository_name": f"{p['name']}/{repository}", "digest": digest, "push_time": when,
                 "pull_time": when, "tags": tags}, {}


HANDLERS: dict[str, Handler] = {"getArtifact": get_artifact}
