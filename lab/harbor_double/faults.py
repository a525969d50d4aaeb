"""The double's controls: fault switches (Harbor misbehaving) and how a test or a person flips them.

Three ways to reach the same switches:

- in-process: ``double.set_faults(name=value, ...)``, ``double.lose_response("POST /retentions", times=1)``;
- another process: ``DoubleClient.faults(name=value, ...)`` = ``POST /_double/faults`` with a JSON object (the
  answer, and ``GET /_double/faults``, show every switch); ``POST /_double/reset`` turns every fault off;
- at start: ``python -m lab double --fault fail_status=503 --fault fail_seconds=60``.

Harbor's configuration and environment (upstream reachability, AWS, permitted proxy types, quota) are
*settings*, not faults: see settings.py (``/_double/settings``).

A *match* is ``"METHOD /path-glob"`` on the API path after ``/api/v2.0`` (shell-style glob, method ``*`` for any),
e.g. ``"POST /registries"``, ``"* /projects*"``, ``"POST /replication/executions"``; ``"*"`` alone is every request.

Transport (server.py):

- ``down`` (bool): the API port is closed, connections are refused; the control port stays up.
- ``slow`` (seconds): every API request waits this long before it is handled.
- ``fail_status`` (int, 503), ``fail_next`` (int), ``fail_seconds`` (float), ``fail_match`` (match, ``"*"``): the next
  ``fail_next`` matching requests, and every matching request during the next ``fail_seconds`` seconds ("503 for
  60 s then recover": ``fail_status=503, fail_seconds=60``), answer ``fail_status`` without running the handler
  (nothing changes). A 5xx body is Harbor's ``{"errors":[{"code":"UNKNOWN","message":"internal server error"}]}``.
  Reading the faults back shows ``fail_seconds`` as the seconds left.
- ``lose_response`` (list of ``{"match": ..., "times": N}``, ``times`` -1 = every time): a matching request is
  handled and committed (the object exists, the run started), then the connection is closed before a single byte
  of the reply is sent (the client sees the connection drop: ``RemoteDisconnected`` / ``ConnectionError``). Each
  rule counts down on its own and disappears at 0. Setting ``lose_response`` replaces the list.
- ``unauthorized`` (bool): every caller is anonymous, as Harbor treats a wrong password (its basic-auth middleware
  falls back to anonymous): 401 ``UNAUTHORIZED`` "unauthorized" for everything but ``/ping``, ``/health``, the
  public part of ``/systeminfo`` and reads of public projects. A client can also simply send another password.

Harbor's behaviour (handlers):

- ``jobservice_down`` (bool; old name ``health_unhealthy``): ``/health`` reports jobservice unhealthy, and what
  creates or stops a schedule (proxy-cache project create, a scheduled replication policy create, update or
  delete, a retention policy create, update or delete with a schedule) answers 500 "internal server error" and is
  rolled back (nothing is left; the ids are used up, as PostgreSQL sequences are). A project delete still
  succeeds (Harbor removes the retention in an event handler after the answer and only logs its failure): the
  project's retention policy stays behind. A replication run started meanwhile ends ``Failed``.
- ``registry_unhealthy`` (bool): every upstream health check fails (registry create/update/ping → 400 "the registry
  is unhealthy") whatever the upstream and settings say.
- ``replication_result`` (``Succeed``/``Failed``/``Stopped``) and ``execution_polls`` (int): a new execution stays
  ``InProgress`` for that many GETs, then ends with that result.

A new fault is a field here (with its default: no fault) plus the check where it acts, and a line above.
"""

from __future__ import annotations

import fnmatch
import time
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from lab.harbor_double.messages import Reply, error

RENAMED = {"health_unhealthy": "jobservice_down"}


def matches(pattern: str, method: str, path: str) -> bool:
    """``"METHOD /path-glob"`` (or ``"*"``) against one request."""
    want_method, _, want_path = pattern.strip().partition(" ")
    if not want_path:
        want_method, want_path = "*", want_method or "*"
    return fnmatch.fnmatchcase(method, want_method.upper()) and fnmatch.fnmatchcase(path, want_path)


@dataclass
class Faults:
    """The current fault switches (all off by default); see the module docstring for each."""

    down: bool = False
    slow: float = 0.0
    fail_status: int = 503
    fail_next: int = 0
    fail_seconds: float = 0.0
    fail_match: str = "*"
    lose_response: list[dict[str, Any]] = field(default_factory=list)
    unauthorized: bool = False
    jobservice_down: bool = False
    registry_unhealthy: bool = False
    replication_result: str = "Succeed"
    execution_polls: int = 1
    _fail_until: float = 0.0

    def update(self, **changes: Any) -> None:
        """Set the named switches, each converted to its field's type; KeyError for an unknown name."""
        types = {f.name: type(getattr(self, f.name)) for f in fields(self) if not f.name.startswith("_")}
        for given, value in changes.items():
            key = RENAMED.get(given, given)
            if key not in types:
                raise KeyError(key)
            if key == "lose_response":
                self.lose_response = [_loss_rule(rule) for rule in value or []]
            elif key == "fail_seconds":
                self._fail_until = time.monotonic() + float(value) if float(value) > 0 else 0.0
            elif types[key] is bool and isinstance(value, str):
                setattr(self, key, value.lower() in ("1", "true", "yes", "on"))
            else:
                setattr(self, key, types[key](value))

    def view(self) -> dict[str, Any]:
        """Every switch as JSON (``fail_seconds``: the seconds left)."""
        out = {k: v for k, v in asdict(self).items() if not k.startswith("_")}
        out["fail_seconds"] = round(max(0.0, self._fail_until - time.monotonic()), 3)
        return out

    def take_injected_failure(self, method: str, path: str) -> Reply | None:
        """The injected error reply for this request (counting ``fail_next`` down), else None."""
        if not matches(self.fail_match, method, path):
            return None
        if self._fail_until and time.monotonic() < self._fail_until:
            return injected_error(self.fail_status)
        if self.fail_next > 0:
            self.fail_next -= 1
            return injected_error(self.fail_status)
        return None

    def take_lost_response(self, method: str, path: str) -> bool:
        """True when this request's reply must be lost (and count the rule down)."""
        for rule in self.lose_response:
            if matches(rule["match"], method, path):
                if rule["times"] > 0:
                    rule["times"] -= 1
                    if rule["times"] == 0:
                        self.lose_response.remove(rule)
                return True
        return False


def _loss_rule(rule: Any) -> dict[str, Any]:
    if isinstance(rule, str):
        return {"match": rule, "times": 1}
    times = int(rule.get("times", 1))
    if times == 0 or times < -1:
        raise ValueError(f"lose_response times must be a positive count or -1 (every time), got {times}")
    return {"match": str(rule["match"]), "times": times}


def injected_error(status: int) -> Reply:
    """What Harbor answers with ``status``: every 5xx says "internal server error" (``lib/http/error.go``)."""
    if status >= 500:
        return error(status, "UNKNOWN", "internal server error")
    codes = {400: "BAD_REQUEST", 401: "UNAUTHORIZED", 403: "FORBIDDEN", 404: "NOT_FOUND", 409: "CONFLICT",
             412: "PRECONDITION", 429: "TOO_MANY_REQUESTS"}  # fmt: skip
    return error(status, codes.get(status, "UNKNOWN"), "injected failure")
