"""A small typed client for Harbor's REST API (v2.0 paths, Harbor v2.14).

Design points (DOMAIN.md 1.1):

* HTTP Basic auth and **no cookie jar**: every attempt uses a fresh ``requests.Session`` whose cookies are
  cleared, because Harbor answers ``403 CSRF token invalid`` to a write that carries a kept ``sid`` cookie.
* A timeout on every call; bounded retries with exponential backoff on connection errors, 429 and 5xx.
  Every method is retried: the dynamic providers make creates idempotent (look up first, adopt on 409).
  4xx answers are never retried.
* Harbor's error body ``{"errors":[{"code","message"}]}`` becomes :class:`HarborApiError`, whose message names
  the operation, the HTTP status, Harbor's code and message, and never a credential.

How the client reaches Harbor is a :class:`HarborEndpoint`: a plain, picklable value without secrets.
Two modes:

``url``
    An explicit base URL of Harbor (``https://harbor.example.com``); the API is ``<url>/api/v2.0``.

``kubeconfig``
    The Kubernetes API server's service proxy,
    ``<apiserver>/api/v1/namespaces/<ns>/services/<scheme>:<name>:<port>/proxy/api/v2.0/...``, with the
    server, CA and credentials (client certificate/key or bearer token) read from a kubeconfig **file** at
    call time. **Caveat:** kube-apiserver's authentication filter (``k8s.io/apiserver``
    ``WithAuthentication``) deletes the ``Authorization`` header once it has authenticated the caller, so
    Harbor's Basic credentials do not reach Harbor through the service proxy, and with a bearer token there is
    no room to send them at all.
    Unauthenticated calls (``/ping``, ``/health``, so :meth:`HarborClient.wait_until_ready`) work; calls that
    need the admin account get ``401`` from Harbor, which this client reports with that explanation. This is
    read from the apiserver's source and still has to be confirmed against a real kube-apiserver.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any
from urllib.parse import quote, urlsplit

import requests
import yaml

API_PREFIX = "/api/v2.0"
MAX_PAGE_SIZE = 100
_MAX_PAGES = 10_000
_RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# Characters that Harbor's `q` parser treats as syntax; names containing them are looked up by listing.
_Q_UNSAFE = re.compile(r"""[,=~{}()\[\]"'\s]""")
_PROXY_401_HINT = (
    "the request went through the Kubernetes API server's service proxy, which removes the Authorization "
    "header after authenticating the caller, so Harbor saw an anonymous request; reach Harbor through an "
    "explicit API URL instead (docs/harbor-api.md)"
)


class HarborError(Exception):
    """Base class of every error this module raises."""


class HarborConfigError(HarborError):
    """The endpoint or the kubeconfig it points at is unusable."""


class HarborApiError(HarborError):
    """Harbor answered with an error status.

    ``operation`` names the call (``"create registry 'moreh-ecr'"``); ``status`` is the HTTP status; ``code``
    and ``message`` come from Harbor's error body.
    """

    def __init__(
        self,
        operation: str,
        status: int,
        code: str,
        message: str,
        *,
        request_id: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.operation = operation
        self.status = status
        self.code = code
        self.message = message
        self.request_id = request_id
        self.hint = hint
        text = f"{operation} failed: HTTP {status} {code}: {message}"
        if request_id:
            text += f" (request id {request_id})"
        if hint:
            text += f"; {hint}"
        super().__init__(text)


class HarborUnreachableError(HarborError):
    """No answer from Harbor (connection refused, reset, timed out) after every retry."""


class HarborNotReadyError(HarborError):
    """Harbor did not become healthy within the wait."""


@dataclass(frozen=True)
class HarborEndpoint:
    """How to reach Harbor's API: plain data, picklable, no secrets.

    Set ``url`` for direct access, or ``kubeconfig`` (a file path, optionally ``kube_context``) for the
    Kubernetes service proxy to ``service_scheme:service_name:service_port`` in ``service_namespace``.
    ``verify_tls``/``ca_pem`` apply to a direct ``url`` only; in proxy mode TLS to the API server follows
    the kubeconfig. ``timeout`` (seconds per attempt), ``retries`` (extra attempts) and ``backoff`` (first
    delay, doubling up to ``max_backoff``) bound every call.
    """

    url: str | None = None
    username: str = "admin"
    verify_tls: bool = True
    ca_pem: str | None = None
    kubeconfig: str | None = None
    kube_context: str | None = None
    service_namespace: str = "harbor"
    service_name: str = "harbor"
    service_scheme: str = "http"
    service_port: str = "80"
    timeout: float = 30.0
    retries: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    ready_timeout: float = 0.0

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise HarborConfigError("invalid Harbor endpoint: " + "; ".join(problems))

    def problems(self) -> list[str]:
        """Return what is wrong with this endpoint (empty when usable)."""
        out: list[str] = []
        if bool(self.url) == bool(self.kubeconfig):
            out.append("set exactly one of url (direct) and kubeconfig (service proxy)")
        if self.url:
            parts = urlsplit(self.url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                out.append(f"url must be http(s)://host[:port], got {self.url!r}")
            if parts.username or parts.password:
                out.append("url must not carry credentials")
        if self.service_scheme not in ("http", "https"):
            out.append("service_scheme must be http or https")
        if not self.username:
            out.append("username must not be empty")
        if self.timeout <= 0 or self.retries < 0 or self.backoff < 0 or self.max_backoff < 0:
            out.append("timeout must be > 0 and retries/backoff >= 0")
        return out

    @property
    def mode(self) -> str:
        """``"url"`` or ``"service-proxy"``."""
        return "url" if self.url else "service-proxy"

    def to_dict(self) -> dict[str, Any]:
        """Plain dict form (the ``harbor`` input of the dynamic resources)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HarborEndpoint:
        """Build from :meth:`to_dict` output; numbers may arrive as floats, unknown keys are rejected."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise HarborConfigError(f"invalid Harbor endpoint: unknown keys {unknown}")
        values: dict[str, Any] = {}
        for key, value in data.items():
            if value is None and known[key].default is not None:
                continue
            if key == "retries" and isinstance(value, float) and value.is_integer():
                values[key] = int(value)
            elif key == "service_port" and isinstance(value, (int, float)):
                values[key] = str(int(value))
            else:
                values[key] = value
        return cls(**values)


@dataclass(frozen=True)
class _Transport:
    """Everything one HTTP attempt needs; built per call, may point at temporary files."""

    api_base: str
    verify: bool | str
    cert: tuple[str, str] | None
    headers: dict[str, str]
    send_basic: bool
    via_proxy: bool


def _write_temp(directory: str, name: str, data: bytes) -> str:
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path


def _kube_file_or_data(entry: Mapping[str, Any], key: str, base_dir: str) -> tuple[str | None, bytes | None]:
    import base64

    data = entry.get(f"{key}-data")
    if data:
        return None, base64.b64decode(data)
    path = entry.get(key)
    if path:
        return (path if os.path.isabs(path) else os.path.join(base_dir, path)), None
    return None, None


def _named(items: Any, name: str, kind: str, path: str) -> Mapping[str, Any]:
    for item in items or []:
        if isinstance(item, Mapping) and item.get("name") == name:
            return item.get(kind) or {}
    raise HarborConfigError(f"kubeconfig {path}: no {kind} named {name!r}")


@contextlib.contextmanager
def _service_proxy_transport(ep: HarborEndpoint) -> Iterator[_Transport]:
    """Read the kubeconfig now and yield a transport to the service proxy; temp files are removed after."""
    path = os.path.expanduser(ep.kubeconfig or "")
    try:
        with open(path, encoding="utf-8") as fh:
            cfg = yaml.safe_load(fh) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise HarborConfigError(f"cannot read kubeconfig {path}: {exc.__class__.__name__}") from None
    base_dir = os.path.dirname(os.path.abspath(path))
    ctx_name = ep.kube_context or cfg.get("current-context")
    if not ctx_name:
        raise HarborConfigError(f"kubeconfig {path}: no context given and no current-context")
    ctx = _named(cfg.get("contexts"), ctx_name, "context", path)
    cluster = _named(cfg.get("clusters"), str(ctx.get("cluster")), "cluster", path)
    user = _named(cfg.get("users"), str(ctx.get("user")), "user", path) if ctx.get("user") else {}
    server = str(cluster.get("server") or "").rstrip("/")
    if not server.startswith(("https://", "http://")):
        raise HarborConfigError(f"kubeconfig {path}: cluster of context {ctx_name!r} has no server URL")
    if user.get("exec") or user.get("auth-provider"):
        raise HarborConfigError(
            f"kubeconfig {path}: user of context {ctx_name!r} uses an exec/auth-provider plugin, which this "
            "client does not run; use a client certificate or a token"
        )
    with tempfile.TemporaryDirectory(prefix="harbor-kube-") as tmp:
        verify: bool | str = not cluster.get("insecure-skip-tls-verify", False)
        ca_file, ca_data = _kube_file_or_data(cluster, "certificate-authority", base_dir)
        if ca_data:
            ca_file = _write_temp(tmp, "ca.crt", ca_data)
        if verify and ca_file:
            verify = ca_file
        cert_file, cert_data = _kube_file_or_data(user, "client-certificate", base_dir)
        key_file, key_data = _kube_file_or_data(user, "client-key", base_dir)
        if cert_data:
            cert_file = _write_temp(tmp, "client.crt", cert_data)
        if key_data:
            key_file = _write_temp(tmp, "client.key", key_data)
        token = user.get("token")
        if not token and user.get("tokenFile"):
            with open(user["tokenFile"], encoding="utf-8") as fh:
                token = fh.read().strip()
        headers: dict[str, str] = {}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        svc = f"{ep.service_scheme}:{ep.service_name}:{ep.service_port}"
        base = (
            f"{server}/api/v1/namespaces/{quote(ep.service_namespace, safe='')}/services/"
            f"{quote(svc, safe=':')}/proxy{API_PREFIX}"
        )
        yield _Transport(
            api_base=base,
            verify=verify,
            cert=(cert_file, key_file) if cert_file and key_file else None,
            headers=headers,
            # With a bearer token the Authorization header belongs to the API server.
            send_basic=not token,
            via_proxy=True,
        )


@contextlib.contextmanager
def _direct_transport(ep: HarborEndpoint) -> Iterator[_Transport]:
    url = (ep.url or "").rstrip("/")
    if url.endswith(API_PREFIX):
        url = url[: -len(API_PREFIX)]
    if ep.ca_pem:
        with tempfile.TemporaryDirectory(prefix="harbor-ca-") as tmp:
            ca = _write_temp(tmp, "ca.crt", ep.ca_pem.encode())
            yield _Transport(url + API_PREFIX, ca, None, {}, True, False)
    else:
        yield _Transport(url + API_PREFIX, ep.verify_tls, None, {}, True, False)


def _transport(ep: HarborEndpoint) -> contextlib.AbstractContextManager[_Transport]:
    return _direct_transport(ep) if ep.url else _service_proxy_transport(ep)


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
            with _transport(ep) as tr:
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
                    hint = _PROXY_401_HINT if via_proxy and resp.status_code == 401 else None
                    if attempt:
                        message += f" (after {attempt + 1} attempts)"
                    raise HarborApiError(
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
