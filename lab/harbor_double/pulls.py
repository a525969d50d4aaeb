"""What the sandbox's pull path served, accounted as Harbor accounts it: repositories, artifacts, pulls, bytes.

The sandbox's pull path (nginx in front of one proxying registry, lab/testbed/registries.py) is separate from
the double. nginx writes a pull log (setting ``pull_log``; never truncated by the test bed) with one line per
request to a project path: ``<unix time> <method> <request URI> <status>``. The registry's storage (setting
``proxy_storage``, as for ``getArtifact``) resolves tags to digests and holds the manifests, hence the sizes.
From both, for each proxy-cache project (the project is the first segment of the path, as in Harbor):

* a **pull** is a ``GET`` of a manifest answered 200 (Harbor's ``PullArtifact`` event: the repository's
  ``pull_count`` + 1 and the artifact's ``pull_time``); a ``HEAD`` (containerd resolving a tag) is not a pull,
  so a node that already holds an image and only resolves its tag adds nothing, in Harbor as here;
* an **artifact** exists once the registry holds its manifest (Harbor stores a proxied manifest once its blobs
  are local); its ``size`` is the manifest's plus its config's and layers' sizes (an index: its own plus its
  stored children's); ``push_time`` is its first pull, tags are the tags it was asked for (HEAD or GET);
* a **repository** exists once it holds an artifact; ``creation_time`` is its first pull;
* **storage used** (quota, project summary) is the size of every distinct blob of the project's artifacts.

Only pulls since the project was created count (a project made again under the same name starts empty, as in
Harbor), and a repository deleted through the API (``deleteRepository``, e.g. ``forceDestroy``) forgets its
pulls up to that moment; a later pull caches it again. The log is read again when it changed (size or time), so a
restarted double still knows every pull. The ids of learned repositories and artifacts start at
``LEARNED_ID_BASE`` in log order.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LEARNED_ID_BASE = 100000
_MANIFEST_PATH = re.compile(r"^/v2/(?P<project>[a-z0-9][a-z0-9._-]*)/(?P<repo>.+)/manifests/(?P<ref>[^/?#]+)")
_INDEX_TYPES = ("application/vnd.oci.image.index.v1+json",
                "application/vnd.docker.distribution.manifest.list.v2+json")


def stamp(seconds: float) -> str:
    """Harbor's time format."""
    return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass
class Artifact:
    """One cached artifact of a learned repository."""

    id: int
    digest: str
    size: int
    blobs: dict[str, int]  # digest -> size of every blob it holds (manifest, config, layers, children)
    media_type: str
    push_time: float
    pull_time: float | None = None
    tags: set[str] = field(default_factory=set)


@dataclass
class Repository:
    """One learned repository (``<project>/<name>``) with its artifacts by digest."""

    id: int
    name: str
    creation_time: float
    pull_count: int = 0
    artifacts: dict[str, Artifact] = field(default_factory=dict)


class Storage:
    """Read-only view of a distribution registry's filesystem storage."""

    def __init__(self, root: Path) -> None:
        self.root = root / "docker" / "registry" / "v2"

    def digest(self, repository: str, reference: str) -> str | None:
        if reference.startswith("sha256:"):
            return reference if self.blob(reference) is not None else None
        if ".." in repository.split("/") or "/" in reference:
            return None
        link = self.root / "repositories" / repository / "_manifests" / "tags" / reference / "current" / "link"
        return link.read_text().strip() if link.is_file() else None

    def blob(self, digest: str) -> bytes | None:
        algo, _, hexa = digest.partition(":")
        if algo != "sha256" or not re.fullmatch(r"[0-9a-f]{64}", hexa):
            return None
        path = self.root / "blobs" / "sha256" / hexa[:2] / hexa / "data"
        return path.read_bytes() if path.is_file() else None

    def blob_size(self, digest: str) -> int | None:
        algo, _, hexa = digest.partition(":")
        path = self.root / "blobs" / algo / hexa[:2] / hexa / "data"
        return path.stat().st_size if algo == "sha256" and path.is_file() else None

    def artifact(self, digest: str) -> tuple[str, dict[str, int]] | None:
        """The manifest's media type and every blob it holds with its size, or None when not stored."""
        raw = self.blob(digest)
        if raw is None:
            return None
        try:
            manifest = json.loads(raw)
        except ValueError:
            return None
        media_type = str(manifest.get("mediaType") or "application/vnd.oci.image.manifest.v1+json")
        blobs = {digest: len(raw)}
        if media_type in _INDEX_TYPES or "manifests" in manifest:
            for child in manifest.get("manifests") or []:
                found = self.artifact(str(child.get("digest")))
                if found is not None:
                    blobs.update(found[1])
        else:
            for ref in [manifest.get("config") or {}, *(manifest.get("layers") or [])]:
                if ref.get("digest"):
                    blobs[str(ref["digest"])] = int(ref.get("size") or self.blob_size(str(ref["digest"])) or 0)
        return media_type, blobs


def read_log(path: Path) -> list[tuple[float, str, str, int]]:
    """(time, method, request URI, status) of every line of the pull log (a missing file: none)."""
    out = []
    for line in path.read_text(errors="replace").splitlines() if path.is_file() else []:
        parts = line.split()
        if len(parts) == 4 and parts[3].isdigit():
            try:
                out.append((float(parts[0]), parts[1], parts[2], int(parts[3])))
            except ValueError:
                continue
    return out


def learn(log: list[tuple[float, str, str, int]], storage_of: Any,
          since: Callable[[str, str], float] = lambda _p, _r: 0.0) -> dict[str, dict[str, Repository]]:
    """Project name -> repository name -> learned repository (``storage_of(project)``: its Storage or None;
    ``since(project, repository)``: pulls before that time do not count)."""
    projects: dict[str, dict[str, Repository]] = {}
    next_id = LEARNED_ID_BASE
    for when, method, uri, status in log:
        m = _MANIFEST_PATH.match(uri)
        if m is None or status != 200 or method not in ("GET", "HEAD"):
            continue
        project, repo, ref = m["project"], m["repo"], m["ref"]
        if when < since(project, f"{project}/{repo}"):
            continue
        storage = storage_of(project)
        digest = storage.digest(repo, ref) if storage is not None else None
        found = storage.artifact(digest) if digest else None
        if digest is None or found is None:
            continue  # the cache does not hold it
        repos = projects.setdefault(project, {})
        full = f"{project}/{repo}"
        if full not in repos:
            next_id += 1
            repos[full] = Repository(next_id, full, when)
        repository = repos[full]
        if digest not in repository.artifacts:
            next_id += 1
            media_type, blobs = found
            repository.artifacts[digest] = Artifact(next_id, digest, sum(blobs.values()), blobs, media_type, when)
        artifact = repository.artifacts[digest]
        if not ref.startswith("sha256:"):
            artifact.tags.add(ref)
        if method == "GET":
            repository.pull_count += 1
            artifact.pull_time = when
    return projects


class PullLedger:
    """One pull log, parsed again whenever it changed (size or time)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._key: tuple[Any, ...] | None = None
        self._lines: list[tuple[float, str, str, int]] = []

    def lines(self, log_path: str) -> list[tuple[float, str, str, int]]:
        if not log_path:
            return []
        path = Path(log_path)
        info = path.stat() if path.is_file() else None
        key = (log_path, info.st_size if info else -1, info.st_mtime_ns if info else -1)
        with self._lock:
            if key != self._key:
                self._lines, self._key = read_log(path), key
            return self._lines

    def project(self, log_path: str, storage: dict[str, str], name: str,
                since: Callable[[str], float]) -> dict[str, Repository]:
        """The learned repositories of project ``name`` (``since(repository)``: pulls before it do not count)."""
        roots = {key: Storage(Path(root)) for key, root in storage.items()}
        lines = [line for line in self.lines(log_path) if line[2].startswith(f"/v2/{name}/")]
        found = learn(lines, lambda p: roots.get(p) or roots.get("*"), lambda _p, repo: since(repo))
        return found.get(name, {})


LEDGER = PullLedger()


def used_bytes(repositories: dict[str, Repository]) -> int:
    """Storage a project's learned artifacts take: each distinct blob once."""
    blobs: dict[str, int] = {}
    for repo in repositories.values():
        for artifact in repo.artifacts.values():
            blobs.update(artifact.blobs)
    return sum(blobs.values())
