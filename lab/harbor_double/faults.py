"""Fault injection: switches a test (or ``POST /_double/faults``) flips to make the double misbehave.

Where each switch acts:

- transport (``server.py``): ``down`` closes the API port (connections refused; the control port stays up),
  ``slow`` delays every API request, ``fail_next`` answers the next N API requests with ``fail_status``,
  ``unauthorized`` answers 401 to everything but ping/health;
- Harbor's behaviour (handlers): ``registry_unhealthy`` (registry create/update/ping answer 400 "the registry
  is unhealthy"), ``health_unhealthy`` (``/health`` reports jobservice down), ``replication_result``
  (``Succeed``/``Failed``) and ``execution_polls`` (GETs an execution stays InProgress).

A new fault is a field here (with its default: no fault) plus the check where it acts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from lab.harbor_double.messages import Reply, error


@dataclass
class Faults:
    """The current fault switches (all off by default)."""

    down: bool = False
    slow: float = 0.0
    fail_next: int = 0
    fail_status: int = 503
    unauthorized: bool = False
    registry_unhealthy: bool = False
    health_unhealthy: bool = False
    replication_result: str = "Succeed"
    execution_polls: int = 1

    def update(self, **changes: Any) -> None:
        """Set the named switches, each converted to its field's type; KeyError for an unknown name."""
        types = {f.name: type(getattr(self, f.name)) for f in fields(self)}
        for key, value in changes.items():
            if key not in types:
                raise KeyError(key)
            setattr(self, key, types[key](value))

    def take_injected_failure(self) -> Reply | None:
        """The injected error reply when ``fail_next`` is still counting down (and count it), else None."""
        if self.fail_next <= 0:
            return None
        self.fail_next -= 1
        return error(self.fail_status, "UNKNOWN", "injected failure")
