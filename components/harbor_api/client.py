"""A small typed client for Harbor's REST API (v2.0 paths, Harbor v2.14).

Design points (docs/harbor-api.md, "Failures and what you see"):

* HTTP Basic auth and **no cookie jar**: every attempt uses a fresh ``requests.Session`` whose cookies are
  cleared, because Harbor answers ``403 CSRF token invalid`` to a write that carries a kept ``sid`` cookie.
* A timeout on every call (a call may ask for a longer one: registry writes wait for Harbor's live upstream
  check). Idempotent methods (GET, PUT, DELETE) are retried with bounded exponential backoff on connection
  errors, 429 and 5xx. A **POST is never repeated here**: it is retried only when it surely did not reach Harbor
  (connection refused, 429); a lost answer, a timeout or a 5xx raises :class:`HarborUnconfirmedWriteError`,
  and the caller looks the object up before anything else (components/harbor_api/writes.py).
  Other 4xx answers are never retried; 401 fails at once, with the caller's hint (which setting holds the
  password).
* Harbor's error body ``{"errors":[{"code","message"}]}`` becomes a :class:`HarborApiError` of the class for
  its status (:func:`~components.harbor_api.errors.error_class`), whose message names the operation, the HTTP
  status, Harbor's code and message and the request id, and never a credential.

Where a call goes is the :class:`HarborEndpoint` (components/harbor_api/endpoint.py); how one attempt gets
there is the transport (components/harbor_api/transport.py).
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from components.harbor_api.endpoint import HarborEndpoint
from components.harbor_api.errors import (
    HarborApiError,
    HarborError,
    HarborNotReadyError,
    HarborTimeoutError,
    HarborUnconfirmedWriteError,
    HarborUnreachableError,
    error_class,
)
from components.harbor_api.transport import PROXY_401_HINT, open_transport

if TYPE_CHECKING:
    import requests

# HarborEndpoint is re-exported for callers written before it had its own module.
__all__ = ["HarborClient", "HarborEndpoint", "id_from_location"]

MAX_PAGE_SIZE = 100
_MAX_PAGES = 10_000
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE"})
# Characters that Harbor's `q` parser treats as syntax; names containing them are looked up by listing all.
# Harbor compares an exact-match value as sent (no unquoting), so safe names go unquoted, digits included.
_Q_UNSAFE = re.compile(r"""[,=~{}()\[\]"'\s]""")


def request_was_sent(exc: requests.RequestException) -> bool:
    """Whether a failed attempt may have reached Harbor: False only when no connection was made at all."""
    import requests
    from urllib3.exceptions import NewConnectionError

    if isinstance(exc, (requests.ConnectTimeout, requests.exceptions.SSLError)):
        return False
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return not isinstance(reason, NewConnectionError)


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
    """Harbor API calls for one endpoint and password; safe to use from several threads.

    ``unauthorized_hint`` is added to a 401's message: where the password comes from and how to fix it.
    """

    def __init__(
        self, endpoint: HarborEndpoint, password: str | None, *, unauthorized_hint: str | None = None
    ) -> None:
        self.endpoint = endpoint
        self._password = password
        self._unauthorized_hint = unauthorized_hint

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

    def _api_error(
        self, resp: requests.Response, operation: str, attempt: int, via_proxy: bool
    ) -> HarborApiError:
        code, message = _error_parts(resp)
        hint = None
        if resp.status_code == 401:
            hint = PROXY_401_HINT if via_proxy else self._unauthorized_hint
        if attempt:
            message += f" (after {attempt + 1} attempts)"
        return error_class(resp.status_code)(
            operation,
            resp.status_code,
            code,
            self._redact(message),
            request_id=resp.headers.get("X-Request-Id"),
            hint=hint,
        )

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
        timeout: float | None = None,
        retry_timeouts: bool = True,
    ) -> requests.Response | None:
        """Send one API call with retries; return the response, or ``None`` on 404 when ``missing_ok``.

        ``timeout``: seconds to wait for the answer (default: the endpoint's); ``retry_timeouts=False`` gives
        up after the first attempt that timed out (:class:`HarborTimeoutError`). A POST is never repeated
        once it may have reached Harbor: see the module docstring.
        """
        import requests  # here: the program imports this module, only the provider process sends requests

        ep = self.endpoint
        idempotent = method in _IDEMPOTENT
        attempts = 1 + (ep.retries if retry else 0)
        read_timeout = max(ep.timeout, timeout or 0.0)
        started = time.monotonic()
        last_exc: str = ""
        timed_out = False
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
                        timeout=(ep.timeout, read_timeout),
                        verify=tr.verify,
                        cert=tr.cert,
                        allow_redirects=False,
                    )
                except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError) as exc:
                    last_exc = self._redact(exc.__class__.__name__ + ": " + str(exc))[:300]
                    timed_out = isinstance(exc, requests.ReadTimeout)
                    if not idempotent and request_was_sent(exc):
                        raise HarborUnconfirmedWriteError(
                            operation,
                            f"Harbor at {tr.api_base} "
                            + (f"did not answer within {read_timeout:g}s" if timed_out else "dropped the answer")
                            + f" ({last_exc}); the request may have been carried out",
                            timed_out=timed_out,
                        ) from None
                    if timed_out and not retry_timeouts:
                        raise HarborTimeoutError(
                            f"{operation} failed: Harbor at {tr.api_base} did not answer within "
                            f"{read_timeout:g}s: {last_exc}"
                        ) from None
                finally:
                    session.close()
                via_proxy, api_base = tr.via_proxy, tr.api_base
            if resp is not None:
                status = resp.status_code
                if status in ok:
                    return resp
                if missing_ok and status == 404:
                    return None
                retryable = status in _RETRY_STATUSES and (idempotent or status == 429)
                if not retryable or attempt == attempts - 1:
                    error = self._api_error(resp, operation, attempt, via_proxy)
                    if not idempotent and status >= 500:
                        raise HarborUnconfirmedWriteError(
                            operation, f"{error}; the request may have been carried out", status=status,
                            api_error=error,
                        )
                    raise error
            if attempt < attempts - 1:
                time.sleep(self._sleep_for(attempt, resp))
        elapsed = time.monotonic() - started
        error_type = HarborTimeoutError if timed_out else HarborUnreachableError
        raise error_type(
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

    def create(self, path: str, body: Any, operation: str, *, timeout: float | None = None) -> int:
        """POST ``body`` once; return the id from the ``Location`` header of the 201.

        Raises :class:`HarborUnconfirmedWriteError` when it may have been carried out without our knowing;
        use :func:`components.harbor_api.writes.create_once` to look up before anything else.
        """
        resp = self.request("POST", path, operation, body=body, ok=(201,), timeout=timeout)
        assert resp is not None
        return id_from_location(resp.headers.get("Location"), operation)

    def put(
        self, path: str, body: Any, operation: str, *, timeout: float | None = None, retry_timeouts: bool = True
    ) -> None:
        """PUT ``body`` (Harbor answers 200)."""
        self.request("PUT", path, operation, body=body, timeout=timeout, retry_timeouts=retry_timeouts)

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
        params = None if _Q_UNSAFE.search(name) else {"q": f"name={name}"}
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
