"""A client of a running double (another process): its control API, and Harbor's API as admin."""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request
from typing import Any


class DoubleClient:
    """The Harbor double's control API plus its Harbor API as admin (for out-of-band changes)."""

    def __init__(self, url: str, control_url: str, admin_password: str) -> None:
        self.url, self.control_url, self.admin_password = url, control_url, admin_password

    def _call(self, method: str, url: str, body: Any = None, auth: bool = False) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (http URL of the double)
        req.add_header("Content-Type", "application/json")
        if auth:
            token = base64.b64encode(f"admin:{self.admin_password}".encode()).decode()
            req.add_header("Authorization", f"Basic {token}")
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 (loopback only)
            raw = resp.read()
        return json.loads(raw) if raw else None

    def state(self) -> dict[str, Any]:
        """Registries, projects, policies, ... (secrets masked)."""
        result: dict[str, Any] = self._call("GET", f"{self.control_url}/_double/state")
        return result

    def faults(self, **changes: Any) -> dict[str, Any]:
        """Set faults (``down=True``, ``fail_next=3``, ``fail_status=503, fail_seconds=60``, ...; see
        lab/harbor_double/faults.py); returns all of them."""
        result: dict[str, Any] = self._call("POST", f"{self.control_url}/_double/faults", changes)
        return result

    def settings(self, **changes: Any) -> dict[str, Any]:
        """Change Harbor's configuration and environment (``aws_reachable=True``, ``upstream_map={...}``, ...);
        returns all of them."""
        result: dict[str, Any] = self._call("POST", f"{self.control_url}/_double/settings", changes)
        return result

    def lose_response(self, match: str, times: int = 1) -> dict[str, Any]:
        """Add a lost-response rule (``"POST /retentions"``; -1: every time) to those already set."""
        rules = self._call("GET", f"{self.control_url}/_double/faults")["lose_response"]
        return self.faults(lose_response=[*rules, {"match": match, "times": times}])

    def api(self, method: str, path: str, body: Any = None) -> Any:
        """Call Harbor's API (``/api/v2.0`` + path) as admin, as a person with the UI would."""
        return self._call(method, f"{self.url}/api/v2.0{path}", body, auth=True)

    def is_empty(self) -> bool:
        """No registry, project (but Harbor's own ``library``) or replication policy left."""
        s = self.state()
        projects = [p for p in s["projects"].values() if p["name"] != "library"]
        return not (s["registries"] or projects or s["policies"])

    def up(self) -> bool:
        """The API port answers."""
        try:
            urllib.request.urlopen(f"{self.url}/api/v2.0/ping", timeout=2).close()  # noqa: S310 (loopback only)
        except (OSError, urllib.error.URLError):
            return False
        return True
