"""The double's objects (registries, projects, repositories, quotas, retentions, replication policies and
executions), one lock around them, and their file (``<state_dir>/state.json``) across restarts.

``state`` is a plain dict of ``{kind: {id: object}}`` plus ``next_id``; objects are stored as Harbor returns
them, secrets included (views mask them). Handlers run with ``lock`` held.
"""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path
from typing import Any

from lab.harbor_double.messages import MASK, now

KINDS = ("registries", "projects", "repositories", "quotas", "retentions", "policies", "executions")


def empty_state() -> dict[str, Any]:
    """No objects; the first id handed out is 2."""
    return {**{kind: {} for kind in KINDS}, "next_id": 1}


class Store:
    """The objects, their lock, and their file."""

    def __init__(self, state_dir: Path | None = None) -> None:
        self.state_dir = state_dir
        self.lock = threading.RLock()
        self.state: dict[str, Any] = empty_state()
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
            if isinstance(value, dict):
                data[key] = {int(k): v for k, v in value.items()}
        self.state = data

    def clear(self) -> None:
        """Forget every object."""
        with self.lock:
            self.state = empty_state()

    # ---- ids and lookups (call with the lock held)

    def next_id(self) -> int:
        """A fresh id (one sequence for every kind)."""
        self.state["next_id"] += 1
        return int(self.state["next_id"])

    def project_by_name(self, name: str) -> dict[str, Any] | None:
        """The project called ``name``, or None."""
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
                "id": self.next_id(), "project_id": p["project_id"], "name": full,
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
                if reg.get("credential", {}).get("access_secret"):
                    reg["credential"]["access_secret"] = MASK
        return dict(json.loads(json.dumps(data)))
