"""What a handler receives (:class:`Request`) and returns (:data:`Reply`), and Harbor's error body."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

API = "/api/v2.0"
MASK = "*****"  # how Harbor shows a stored secret

# (status, JSON body or text or None, extra headers)
Reply = tuple[int, Any, dict[str, str]]


@dataclass
class Request:
    """One API request after routing: path parameters by swagger name, query values as lists, parsed body."""

    method: str
    path: str
    params: dict[str, str]
    query: dict[str, list[str]]
    headers: Any
    body: Any


def error(status: int, code: str, message: str) -> Reply:
    """Harbor's error reply: ``{"errors": [{"code", "message"}]}``."""
    return status, {"errors": [{"code": code, "message": message}]}, {}


def now() -> str:
    """A timestamp as Harbor writes them."""
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
