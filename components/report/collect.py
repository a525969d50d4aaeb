"""Harbor's numbers for each proxy-cache project the stack names, from its API (read-only calls).

Per project: ``GET /projects/{name}/summary`` (``repo_count``, ``quota.hard``/``used`` ``storage``, the upstream
registry), ``GET /projects/{name}/repositories`` (``artifact_count``, ``pull_count``) and, per repository,
``GET .../artifacts?with_tag=false`` (``pull_time``). Harbor writes the zero time ``0001-01-01T00:00:00Z`` for an
artifact nobody pulled; the report says ``null`` then.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import quote

from components.harbor_api.client import HarborClient
from components.report.stack import CacheTarget, ReportError, StackView

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class ImageUse:
    """One cached repository: how often it was pulled through the cache, and when last."""

    repository: str  # without the project, as it follows the upstream host: quickstart/hello
    pull_count: int
    artifacts: int
    last_pull_time: str | None


@dataclass(frozen=True)
class UpstreamReport:
    """What one proxy-cache project holds (``limit_bytes``: None when Harbor enforces no limit)."""

    project: str
    hosts: list[str]
    registry: dict[str, str] | None
    repositories: int
    artifacts: int
    pulls: int
    used_bytes: int
    limit_bytes: int | None
    last_pull_time: str | None
    top_images: list[ImageUse]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["storage"] = {"used_bytes": data.pop("used_bytes"), "limit_bytes": data.pop("limit_bytes")}
        return data


def _time(value: Any) -> str | None:
    """An RFC 3339 time, or None for Harbor's zero time and absent values."""
    if not value or str(value).startswith("0001-01-01"):
        return None
    try:
        parsed = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _latest(times: list[str | None]) -> str | None:
    known = [t for t in times if t]
    return max(known) if known else None  # one format throughout: text order is time order


def _registry(summary: dict[str, Any]) -> dict[str, str] | None:
    reg = summary.get("registry")
    if not isinstance(reg, dict):
        return None
    return {"name": str(reg.get("name") or ""), "type": str(reg.get("type") or ""), "url": str(reg.get("url") or "")}


def upstream_report(client: HarborClient, target: CacheTarget, top: int) -> UpstreamReport:
    """The numbers of one project (raises ReportError when Harbor does not have it)."""
    name = target.project
    base = f"/projects/{quote(name, safe='')}"
    summary = client.get(f"{base}/summary", f"read the summary of project '{name}'",
                         headers={"X-Is-Resource-Name": "true"})
    if not isinstance(summary, dict):
        raise ReportError(f"Harbor has no project '{name}' (named by the stack's outputs): run pulumi refresh")
    repos = client.list_all(f"{base}/repositories", f"list the repositories of project '{name}'")
    uses = []
    for repo in repos:
        full = str(repo.get("name") or "")
        short = full[len(name) + 1:] if full.startswith(name + "/") else full
        arts = client.list_all(f"{base}/repositories/{quote(quote(short, safe=''), safe='')}/artifacts",
                               f"list the artifacts of '{full}'", params={"with_tag": "false"})
        uses.append(ImageUse(short, int(repo.get("pull_count") or 0), int(repo.get("artifact_count") or 0),
                             _latest([_time(a.get("pull_time")) for a in arts])))
    quota = summary.get("quota") or {}
    limit = (quota.get("hard") or {}).get("storage")
    ranked = sorted(uses, key=lambda u: (-u.pull_count, u.repository))
    return UpstreamReport(
        project=name, hosts=list(target.hosts), registry=_registry(summary), repositories=len(repos),
        artifacts=sum(u.artifacts for u in uses), pulls=sum(u.pull_count for u in uses),
        used_bytes=int((quota.get("used") or {}).get("storage") or 0),
        limit_bytes=int(limit) if isinstance(limit, int) and limit >= 0 else None,
        last_pull_time=_latest([u.last_pull_time for u in uses]), top_images=ranked[:top])


def collect(view: StackView, client: HarborClient, top: int = 5) -> dict[str, Any]:
    """The whole report as JSON-ready data (docs/report.schema.json)."""
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    return {"schema_version": SCHEMA_VERSION, "stack": view.stack, "harbor": view.api_url, "generated_at": now,
            "upstreams": [upstream_report(client, t, top).to_json() for t in view.targets]}
