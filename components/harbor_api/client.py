"""A small typed client for Harbor's REST API (v2.0 paths, Harbor v2.14).

Design points (docs/harbor-api.md):

* HTTP Basic auth and **no cookie jar**: every attempt uses a fresh ``requests.Session`` whose cookies are
  cleared, because Harbor answers ``403 CSRF token invalid`` to a write that carries a kept ``sid`` cookie.
* A timeout on every call; bounded retries with exponential backoff on connection errors, 429 and 5xx.
  Every method is retried: the dynamic providers make creates idempotent (look up first, adopt on 409).
  4xx answers are never retried.
* Harbor's error body ``{"errors":[{"code","message"}]}`` becomes a :class:`HarborApiError` of the class for
  its status (:func:`~components.harbor_api.errors.error_class`), whose message names the operation, the HTTP
  status, Harbor's code and message, and never a credential.

Where a call goes is the :class:`HarborEndpoint` (components/harbor_api/endpoint.py); how one attempt gets
there is the transport (components/harbor_api/transport.py).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests

from components.harbor_api.endpoint import HarborEndpoint
from components.harbor_api.errors import (
    HarborApiError,
    HarborError,
    HarborNotReadyError,
    HarborUnreachableError,
    error_class,
)
from components.harbor_api.transport import PROXY_401_HINT, open_transport

# HarborEndpoint is re-exported for callers written before it had its own module.
__all__ = ["HarborClient", "HarborEndpoint", "id_from_location", "quote_q_value"]

MAX_PAGE_SIZE = 100
_MAX_PAGES = 10_000
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Characters that Harbor's `q` parser treats as syntax; names containing them are looked up by listing.
_Q_UNSAFE = re.compile(r"""[,=~{}()\[\]"'\s]""")


def quote_q_value(value: str) -> str:
    """Quote a value for Harbor's ``q`` exact match: purely numeric values go in single quotes."""
    return f"'{value}'" if value.isdigit() else value


def id_from_location(location: str | None, operation: str) -> int:
    """Return the numeric id at the end of a ``Location`` header."""
    tail = (location or "").rstrip("/").rsplit("/", 1)[-1]
    if not tail.isdigit():
        raise HarborApiError(operation, 201, "BAD_LOCATION", f"no numeric id in Location {location!r}")
    return int(tail)


def _error_parts(resp: requests.Response) -> tuple[str, str]:
    try:
        body = resp.json()
        first = (body.get("errors") or [{}])[0]
        return str(first.get("code") or "UNKNOWN"), str(first.get("message") or resp.reason or "")
    except (ValueError, AttributeError, IndexError, TypeError):
        text = (resp.text or resp.reason or "").strip()
        return "UNKNOWN", text[:300]


class HarborClient:
    """Harbor API calls for one endpoint and password; safe to use from several threads."""

    def __init__(self, endpoint: HarborEndpoint, password: str | None) -> None:
        self.endpoint = endpoint
        self._password = password

    def __repr__(self) -> str:
        return f"HarborClient({self.endpoint.mode}, {self.endpoint.url or self.endpoint.service_name})"

    def _redact(self, text: str) -> str:
        return text.replace(self._password, "***") if self._password else text

    def _sleep_for(self, attempt: int, resp: requests.Response | None) -> float:
        ep = self.endpoint
        delay = min(ep.backoff * (2**attempt), ep.max_backoff)
        if resp is not None and resp.status_code == 429:
            retry_after = resp.headers.get("Retry-After", "")
            if retry_after.isdigit():
                delay = min(max(delay, float(retry_after)), ep.max_backoff)
        return delay

    def request(
        self,
        method: str,
        path: str,
        operation: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
        ok: tuple[int, ...] = (200,),
        missing_ok: bool = False,
        retry: bool = True,
    ) -> requests.Response | None:
        """Send one API call with retries; return the response, or ``None`` on 404 when ``missing_ok``."""
        ep = self.endpoint
        attempts = 1 + (ep.retries if retry else 0)
        started = time.monotonic()
        last_exc: str = ""
        for attempt in range(attempts):
            resp: requests.Response | None = None
            with open_transport(ep) as tr:
                hdrs = {"Accept": "application/json", "X-Request-Id": uuid.uuid4().hex, **tr.headers}
                hdrs.update(headers or {})
                session = requests.Session()
                try:
                    session.cookies.clear()
                    basic = (
                        (ep.username, self._password) if auth and tr.send_basic and self._password else None
                    )
                    resp = session.request(
                        method,
                        tr.api_base + path,
                        params=params,
                        json=body,
                        headers=hdrs,
                        auth=basic,
                        timeout=ep.timeout,
                        verify=tr.verify,
                        cert=tr.cert,
                        allow_redirects=False,
                    )
                except (requests.ConnectionError, requests.Timeout) as exc:
                    last_exc = self._redact(exc.__class__.__name__ + ": " + str(exc))[:300]
                finally:
                    session.close()
                via_proxy, api_base = tr.via_proxy, tr.api_base
            if resp is not None:
                if resp.status_code in ok:
                    return resp
                if missing_ok and resp.status_code == 404:
                    return None
                if resp.status_code not in _RETRY_STATUSES or attempt == attempts - 1:
                    code, message = _error_parts(resp)
                    hint = PROXY_401_HINT if via_proxy and resp.status_code == 401 else None
                    if attempt:
                        message += f" (after {attempt + 1} attempts)"
                    raise error_class(resp.status_code)(
                        operation,
                        resp.status_code,
                        code,
                        self._redact(message),
                        request_id=resp.headers.get("X-Request-Id"),
                        hint=hint,
                    )
            if attempt < attempts - 1:
                time.sleep(self._sleep_for(attempt, resp))
        elapsed = time.monotonic() - started
        raise HarborUnreachableError(
            f"{operation} failed: cannot reach Harbor at {api_base} after {attempts} attempts in "
            f"{elapsed:.1f}s: {last_exc}"
        )

    def get(
        self,
        path: str,
        operation: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """GET a JSON document; ``None`` when Harbor answers 404."""
        resp = self.request("GET", path, operation, params=params, headers=headers, missing_ok=True)
        return None if resp is None else resp.json()

    def create(self, path: str, body: Any, operation: str) -> int:
        """POST ``body``; return the id from the ``Location`` header of the 201."""
        resp = self.request("POST", path, operation, body=body, ok=(201,))
        assert resp is not None
        return id_from_location(resp.headers.get("Location"), operation)

    def put(self, path: str, body: Any, operation: str) -> None:
        """PUT ``body`` (Harbor answers 200)."""
        self.request("PUT", path, operation, body=body)

    def delete(self, path: str, operation: str) -> bool:
        """DELETE; ``False`` when it was already gone (404)."""
        return self.request("DELETE", path, operation, missing_ok=True) is not None

    def list_all(self, path: str, operation: str, *, params: Mapping[str, Any] | None = None) -> list[Any]:
        """GET every page of a list (``page_size`` 100, until ``X-Total-Count`` items or a short page)."""
        items: list[Any] = []
        for page in range(1, _MAX_PAGES + 1):
            query = {**(params or {}), "page": page, "page_size": MAX_PAGE_SIZE}
            resp = self.request("GET", path, operation, params=query)
            assert resp is not None
            batch = resp.json() or []
            items.extend(batch)
            total = resp.headers.get("X-Total-Count")
            if len(batch) < MAX_PAGE_SIZE or (
                total is not None and total.isdigit() and len(items) >= int(total)
            ):
                return items
        raise HarborApiError(operation, 200, "TOO_MANY_PAGES", f"more than {_MAX_PAGES} pages")

    def find_by_name(self, path: str, name: str, operation: str) -> dict[str, Any] | None:
        """Exact-name lookup in a list endpoint: ``q=name=<name>`` then client-side equality."""
        params = None if _Q_UNSAFE.search(name) else {"q": f"name={quote_q_value(name)}"}
        matches = [item for item in self.list_all(path, operation, params=params) if item.get("name") == name]
        return matches[0] if matches else None

    def get_project_by_name(self, name: str, operation: str) -> dict[str, Any] | None:
        """GET /projects/{name} with ``X-Is-Resource-Name: true``; ``None`` if absent."""
        found = self.get(
            f"/projects/{quote(name, safe='')}", operation, headers={"X-Is-Resource-Name": "true"}
        )
        return found if isinstance(found, dict) else None

    def ping(self) -> bool:
        """One unauthenticated ``GET /ping`` without retries; ``True`` when Harbor answers ``Pong``."""
        try:
            resp = self.request("GET", "/ping", "ping Harbor", auth=False, retry=False)
        except HarborError:
            return False
        return resp is not None and resp.text.strip().strip('"') == "Pong"

    def health(self) -> dict[str, Any]:
        """One unauthenticated ``GET /health`` without retries (``OverallHealthStatus``)."""
        resp = self.request("GET", "/health", "read Harbor health", auth=False, retry=False, ok=(200,))
        assert resp is not None
        data = resp.json()
        return data if isinstance(data, dict) else {}

    def wait_until_ready(self, timeout: float, interval: float = 2.0) -> dict[str, Any]:
        """Poll ``/ping`` then ``/health`` until every component is healthy; return the health document.

        Raises :class:`HarborNotReadyError` naming what was last seen once ``timeout`` seconds have passed.
        """
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while True:
            if not self.ping():
                last = "GET /api/v2.0/ping did not answer Pong"
            else:
                try:
                    health = self.health()
                except HarborError as exc:
                    last = f"GET /api/v2.0/health failed: {exc}"
                else:
                    bad = [
                        f"{c.get('name')} ({c.get('error') or c.get('status')})"
                        for c in health.get("components") or []
                        if c.get("status") != "healthy"
                    ]
                    if health.get("status") == "healthy" and not bad:
                        return health
                    last = "unhealthy components: " + (", ".join(bad) or str(health.get("status")))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                where = (
                    self.endpoint.url
                    or f"service {self.endpoint.service_namespace}/{self.endpoint.service_name}"
                )
                raise HarborNotReadyError(f"Harbor at {where} not ready after {timeout:g}s: {last}")
            time.sleep(min(interval, remaining))
