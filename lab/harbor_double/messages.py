"""What a handler receives (:class:`Request`) and returns (:data:`Reply`), and Harbor's error body."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

API = "/api/v2.0"
MASK = "*****"  # how Harbor shows a stored secret

# (status, JSON body or text or None, extra headers)
Reply = tuple[int, Any, dict[str, str]]


@dataclass
class Request:
    """One API request after routing: path parameters by swagger name, query values as lists, parsed body, the
    user (``"admin"``, or None for an anonymous caller: no credentials or wrong ones, as Harbor's basic-auth
    middleware falls back to anonymous), and what the operation's unlocked preparation found (``prepared``)."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, list[str]]
    headers: Any
    body: Any
    user: str | None = "admin"
    prepared: Any = field(default=None)


def error(status: int, code: str, message: str) -> Reply:
    """Harbor's error reply: ``{"errors": [{"code", "message"}]}``."""
    return status, {"errors": [{"code": code, "message": message}]}, {}


def crash() -> Reply:
    """A Go panic in the handler (a nil dereference): 500 with an empty body, as recorded on a running Harbor."""
    return 500, None, {}


def internal(detail: str) -> Reply:
    """A plain Go error (no Harbor error code): 500; the server replaces ``detail`` by "internal server error"."""
    return error(500, "UNKNOWN", detail)


def unauthorized() -> Reply:
    """Harbor's answer to an anonymous caller where a login is needed."""
    return error(401, "UNAUTHORIZED", "unauthorized")


def now() -> str:
    """A timestamp as Harbor writes them."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
