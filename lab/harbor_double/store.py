"""The double's objects (registries, projects, repositories, quotas, retentions, replication policies and
executions), one lock around them, and their file (``<state_dir>/state.json``) across restarts.

``state`` is a plain dict of ``{kind: {id: object}}`` plus ``next_ids`` (one sequence per kind, as PostgreSQL
has one per table); objects are stored as Harbor returns them, secrets included (views mask them). Handlers run
with ``lock`` held. A fresh store looks like a fresh Harbor: project 1 ``library`` (public) with quota 1, and
execution ids 1-2 used by Harbor's two system schedules (artifact cleanup, execution sweep: ``core/main.go``).
Soft-deleted projects (renamed ``name#id``) move to ``deleted_projects``: no API call finds them, and ids are not
reused.
"""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path
from typing import Any

from lab.harbor_double.messages import MASK, now

KINDS = (
    "registries", "projects", "deleted_projects", "repositories", "quotas", "retentions", "policies", "executions",
    "forgotten",  # project id -> {repository: time deleted}: pulls the cache view no longer counts (cache.py)
)  # fmt: skip
SEQUENCES = ("registries", "projects", "repositories", "quotas", "retentions", "policies", "executions")
STARTUP_SCHEDULES = 2  # executions created by Harbor core at start (system artifact cleanup, execution sweep)


def empty_state(library: bool = True) -> dict[str, Any]:
    """A fresh Harbor: the ``library`` project (id 1) and its quota (unless ``library`` is False), and two system
    schedule executions."""
    state: dict[str, Any] = {kind: {} for kind in KINDS}
    state["next_ids"] = dict.fromkeys(SEQUENCES, 0)
    state["next_ids"]["executions"] = STARTUP_SCHEDULES
    if not library:
        return state
    stamp = now()
    state["projects"][1] = {
        "project_id": 1, "owner_id": 1, "owner_name": "admin", "name": "library", "registry_id": 0,
        "creation_time": stamp, "update_time": stamp, "deleted": False, "togglable": True,
        "current_user_role_id": 1, "current_user_role_ids": [1], "metadata": {"public": "true"},
        "cve_allowlist": {"id": 1, "project_id": 1, "items": [], "creation_time": stamp, "update_time": stamp},
    }  # fmt: skip
    state["quotas"][1] = {
        "id": 1, "ref": {"id": 1, "name": "library", "owner_name": "admin"}, "hard": {"storage": -1},
        "used": {"storage": 0}, "creation_time": stamp, "update_time": stamp,
    }  # fmt: skip
    state["next_ids"].update(projects=1, quotas=1)
    return state


class Store:
    """The objects, their lock, and their file."""

    def __init__(self, state_dir: Path | None = None, library: bool = True) -> None:
        self.state_dir = state_dir
        self.library = library
        self.lock = threading.RLock()
        self.state: dict[str, Any] = empty_state(library)
        if state_dir and (state_dir / "state.json").exists():
            self.load()

    # ---- persistence

    def save(self) -> None:
        """Write the state file (when the double has a state directory)."""
        if self.state_dir:
            # Serialize and replace under the lock: concurrent requests share one temp file name.
            with self.lock:
                tmp = self.state_dir / "state.json.tmp"
                tmp.write_text(json.dumps(self.state), encoding="utf-8")
                tmp.replace(self.state_dir / "state.json")

    def load(self) -> None:
        """Read the state file (JSON object keys back to integer ids)."""
        if self.state_dir is None:
            raise ValueError("the store has no state directory to load from")
        data = json.loads((self.state_dir / "state.json").read_text(encoding="utf-8"))
        for key, value in data.items():
            if key in KINDS:
                data[key] = {int(k): v for k, v in value.items()}
        if "next_ids" not in data:  # a state file from before per-kind sequences
            data["next_ids"] = dict.fromkeys(SEQUENCES, int(data.pop("next_id", 0)))
        for kind in KINDS:
            data.setdefault(kind, {})
        self.state = data

    def clear(self, library: bool | None = None) -> None:
        """Back to a fresh Harbor (``library``: with Harbor's library project; default as at start)."""
        with self.lock:
            if library is not None:
                self.library = library
            self.state = empty_state(self.library)

    # ---- transactions (Harbor wraps every write request in one: a non-2xx answer rolls it back)

    def begin(self) -> dict[str, Any]:
        """A copy of the objects to roll back to (sequences are not rolled back, as in PostgreSQL)."""
        return {kind: copy.deepcopy(self.state[kind]) for kind in KINDS}

    def rollback(self, saved: dict[str, Any]) -> None:
        """Undo the request's changes; the ids it used stay used."""
        self.state.update(saved)

    # ---- ids and lookups (call with the lock held)

    def next_id(self, kind: str) -> int:
        """A fresh id from ``kind``'s sequence."""
        self.state["next_ids"][kind] += 1
        return int(self.state["next_ids"][kind])

    def skip_ids(self, kind: str, upto: int) -> None:
        """Mark ids up to ``upto`` as used (out-of-band creations the double did not see)."""
        self.state["next_ids"][kind] = max(self.state["next_ids"][kind], upto)

    def project_by_name(self, name: str) -> dict[str, Any] | None:
        """The live project called ``name``, or None."""
        return next((p for p in self.state["projects"].values() if p["name"] == name), None)

    def project_ref(self, ref: str, is_name: str | None) -> dict[str, Any] | None:
        """A project by id or name, as Harbor resolves ``{project_name_or_id}`` with ``X-Is-Resource-Name``."""
        if is_name != "true" and ref.isdigit():
            return self.state["projects"].get(int(ref))
        return self.project_by_name(ref)

    # ---- out-of-band changes and views

    def add_repository(self, project: str, name: str, artifacts: int = 1) -> None:
        """Simulate a cached or pushed image: repository ``<project>/<name>``; KeyError without that project."""
        with self.lock:
            p = self.project_by_name(project)
            if p is None:
                raise KeyError(project)
            repos = self.state["repositories"].setdefault(p["project_id"], {})
            full = f"{project}/{name}"
            repos[full] = {
                "id": self.next_id("repositories"), "project_id": p["project_id"], "name": full,
                "artifact_count": artifacts,
                "pull_count": 0, "creation_time": now(), "update_time": now(),
            }  # fmt: skip
        self.save()

    def snapshot(self, raw: bool = False) -> dict[str, Any]:
        """A JSON-safe copy of the state; secrets masked unless ``raw``."""
        with self.lock:
            data = copy.deepcopy(self.state)
        if not raw:
            for reg in data["registries"].values():
                if (reg.get("credential") or {}).get("access_secret"):
                    reg["credential"]["access_secret"] = MASK
        return dict(json.loads(json.dumps(data)))
