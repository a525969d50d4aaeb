"""The control API (no auth): what a test or a person uses to look inside the double and steer it.

``GET /_double/state`` (secrets masked), ``GET /_double/counts``, ``GET /_double/violations``,
``GET|POST /_double/faults`` (POST sets switches, answers all of them; faults.py), ``GET|POST /_double/settings``
(Harbor's configuration and environment; settings.py), ``POST /_double/reset`` (no objects, no faults, start-up
settings),
``POST /_double/repositories`` ``{"project", "name"[, "artifacts"]}``.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING

from lab.harbor_double.messages import Reply, error

if TYPE_CHECKING:
    from lab.harbor_double.double import HarborDouble


def control_reply(d: HarborDouble, method: str, path: str, raw: bytes) -> Reply:
    """The answer to one control request."""
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        return error(400, "BAD_REQUEST", "body is not JSON")
    if path == "/_double/state" and method == "GET":
        return 200, d.snapshot(), {}
    if path == "/_double/counts" and method == "GET":
        return 200, dict(d.counts), {}
    if path == "/_double/violations" and method == "GET":
        return 200, list(d.violations), {}
    if path == "/_double/faults":
        if method == "POST":
            try:
                if "down" in body:  # shutting the API server down from one of its own threads would block
                    threading.Thread(target=d.set_down, args=(bool(body.pop("down")),), daemon=True).start()
                d.set_faults(**body)
            except (KeyError, TypeError, ValueError) as exc:
                return error(400, "BAD_REQUEST", f"bad fault: {exc}")
        return 200, d.faults.view(), {}
    if path == "/_double/settings":
        if method == "POST":
            try:
                d.set_settings(**body)
            except (KeyError, TypeError, ValueError) as exc:
                return error(400, "BAD_REQUEST", f"bad setting: {exc}")
        return 200, d.settings.view(), {}
    if path == "/_double/reset" and method == "POST":
        if d.faults.down:  # reset reopens the API port: not from one of the control server's threads
            threading.Thread(target=d.reset, daemon=True).start()
        else:
            d.reset()
        return 200, {"reset": True}, {}
    if path == "/_double/repositories" and method == "POST":
        try:
            d.add_repository(str(body["project"]), str(body["name"]), int(body.get("artifacts", 1)))
        except KeyError as exc:
            return error(404, "NOT_FOUND", f"no such project or field: {exc}")
        return 201, None, {}
    return error(404, "NOT_FOUND", f"unknown control path {method} {path}")
