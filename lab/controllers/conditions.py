"""The ``Ready`` condition of a controller-managed object, as cert-manager and Kyverno write it."""

from __future__ import annotations

import datetime as dt
from typing import Any


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ready_condition(obj: dict[str, Any]) -> dict[str, Any]:
    """The object's current Ready condition ({} if none)."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == "Ready"), {})


def is_ready_for_generation(obj: dict[str, Any]) -> bool:
    """Ready=True was set for the object's current generation."""
    cond = ready_condition(obj)
    return cond.get("status") == "True" and cond.get("observedGeneration") == obj["metadata"].get(
        "generation"
    )


def set_ready(obj: dict[str, Any], ready: bool, reason: str, message: str) -> dict[str, Any] | None:
    """A Ready condition list for obj, or None when the current one already says the same."""
    status, old = ("True" if ready else "False"), ready_condition(obj)
    generation = obj["metadata"].get("generation")
    if (old.get("status"), old.get("reason"), old.get("message"), old.get("observedGeneration")) == (
        status,
        reason,
        message,
        generation,
    ):
        return None
    since = (
        old["lastTransitionTime"] if old.get("status") == status and old.get("lastTransitionTime") else _now()
    )
    cond = {
        "type": "Ready",
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": since,
        "observedGeneration": generation,
    }
    others = [c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") != "Ready"]
    return {"conditions": [*others, cond]}
