"""The HTTP side: one request through the double, as Harbor's core would take it.

Order: the ``slow`` fault; Go's single path decode; routing by the swagger; recording (request, cookie,
count); the ``fail_next``/``fail_seconds`` faults; 404/405 for unknown paths; 403 for a write that sends Harbor's
session cookie back; JSON parsing and swagger validation (422 "validation failure list" and a recorded
violation); the caller (admin by Basic auth, else anonymous: 401 unless the operation serves anonymous callers;
the ``unauthorized`` fault makes every caller anonymous); the operation's preparation outside the lock (the
upstream health check); the handler under the store's lock, inside a transaction that a non-2xx answer rolls back
(ids stay used); the ``lose_response`` fault; saving the state; a 5xx's message replaced by "internal server
error". Every reply carries ``X-Request-Id`` and a fresh ``sid`` cookie, as Harbor's do. Paths under
``/_double/`` go to the control API (control.py) instead.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote

from lab.harbor_double.control import control_reply
from lab.harbor_double.handlers import HANDLERS, PREPARES, Context
from lab.harbor_double.messages import API, Reply, Request, error, unauthorized

if TYPE_CHECKING:
    from lab.harbor_double.double import HarborDouble

# What an anonymous caller (no credentials, or wrong ones: Harbor's basic-auth middleware then falls back to
# anonymous) may call; the handler of the last four shows public projects only. Everything else answers 401.
ANONYMOUS_OPS = {"getPing", "getHealth", "getSystemInfo", "listProjects", "getProject", "listRepositories",
                 "getArtifact"}
WRITE_METHODS = {"POST", "PUT", "DELETE", "PATCH"}


def caller(headers: Any, admin_password: str) -> str | None:
    """``"admin"`` when the request authenticates as admin with HTTP Basic auth, else None (anonymous)."""
    header = headers.get("Authorization") or ""
    if not header.startswith("Basic "):
        return None
    try:
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return None
    return "admin" if user == "admin" and password == admin_password else None


def api_reply(d: HarborDouble, method: str, raw_path: str, raw_query: str, headers: Any, raw: bytes) -> Reply:
    """Harbor's answer to one API request (see the module docstring for the order of checks)."""
    if d.faults.slow:
        time.sleep(d.faults.slow)
    path = unquote(raw_path)  # Go's server decodes the path once before routing
    if not path.startswith(API + "/"):
        return error(404, "NOT_FOUND", f"{path} not found")
    sub = path[len(API) :]
    found = d.swagger.match(method, sub)
    cookie = headers.get("Cookie") or ""
    with d.lock:
        d.requests.append({"method": method, "path": sub, "cookie": bool(cookie)})
        if cookie:
            d.cookies_seen += 1
        if found is not None:
            d.counts[f"{method} {found[0].template}"] += 1
        injected = d.faults.take_injected_failure(method, sub)
        if injected is not None:
            return injected
    if found is None:
        if d.swagger.path_exists(sub):
            return error(405, "METHOD_NOT_ALLOWED", f"{method} not allowed on {sub}")
        return error(404, "NOT_FOUND", f"{sub} not found")
    op, params = found
    if "sid=" in cookie and method in WRITE_METHODS:
        return error(403, "FORBIDDEN", "CSRF token invalid")
    body: Any = None
    if raw:
        try:
            body = json.loads(raw)
        except ValueError:
            d.violations.append(f"{method} {op.template}: body is not JSON")
            return error(400, "BAD_REQUEST", "body is not JSON")
    query = parse_qs(raw_query, keep_blank_values=True)
    problems = d.swagger.validate(op, params, query, headers, body)
    with d.lock:
        d.violations.extend(d.swagger.unknown_query(op, query))  # Harbor ignores them; a client bug all the same
    if problems:  # go-swagger's binding, before Harbor's handler (and its permission checks) runs
        with d.lock:
            d.violations.extend(problems)
        found_list = "\n".join(p.split(": ", 1)[-1] for p in problems)
        return error(422, "UNPROCESSABLE_ENTITY", f"validation failure list:\n{found_list}")
    user = None if d.faults.unauthorized else caller(headers, d.admin_password)
    if user is None and op.operation_id not in ANONYMOUS_OPS:
        return unauthorized()
    return _run(d, op.operation_id, Request(method, sub, params, query, headers, body, user))


def _run(d: HarborDouble, operation_id: str, req: Request) -> Reply:
    """The operation's preparation, then its handler in a transaction; the lost-response fault; saving."""
    method, sub = req.method, req.path
    handler = HANDLERS.get(operation_id)
    if handler is None:
        d.violations.append(f"{method} {sub}: {operation_id} is not implemented by the double")
        return error(501, "UNKNOWN", f"{operation_id} not implemented by the double")
    ctx = Context(d.store, d.faults, d.settings)
    prepare = PREPARES.get(operation_id)
    if prepare is not None:  # slow work (the upstream health check) outside the lock, as Harbor runs it
        req.prepared = prepare(ctx, req)
    with d.lock:
        saved = d.store.begin() if method in WRITE_METHODS else None
        reply = handler(ctx, req)
        if saved is not None and not 200 <= reply[0] < 300:
            d.store.rollback(saved)  # Harbor's transaction middleware commits 2xx answers only
        lost = d.faults.take_lost_response(method, sub)
    if method in WRITE_METHODS:
        d.store.save()  # also after a rollback: the ids it used stay used
    if lost:
        raise LostResponse(f"{method} {sub}")
    return masked(reply)


class LostResponse(Exception):
    """The request was handled and committed; its reply must never reach the client (the lose_response fault)."""


def masked(reply: Reply) -> Reply:
    """Harbor never shows a 5xx's own message (``lib/http/error.go``): code UNKNOWN, "internal server error"."""
    status, body, headers = reply
    if status >= 500 and isinstance(body, dict) and "errors" in body:
        return status, error(status, "UNKNOWN", "internal server error")[1], headers
    return reply


def make_handler(d: HarborDouble) -> type[BaseHTTPRequestHandler]:
    """A request handler class bound to one double."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "harbor-double"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            self._handle("GET")

        def do_POST(self) -> None:
            self._handle("POST")

        def do_PUT(self) -> None:
            self._handle("PUT")

        def do_DELETE(self) -> None:
            self._handle("DELETE")

        def do_HEAD(self) -> None:
            self._handle("HEAD")

        def do_PATCH(self) -> None:
            self._handle("PATCH")

        def _handle(self, method: str) -> None:
            raw_path, _, raw_query = self.path.partition("?")
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if raw_path.startswith("/_double/"):
                self._reply(method, control_reply(d, method, raw_path, raw))
                return
            try:
                reply = api_reply(d, method, raw_path, raw_query, self.headers, raw)
            except LostResponse:
                self.close_connection = True  # not a byte of the reply: the client sees the connection drop
                return
            self._reply(method, reply)

        def _reply(self, method: str, reply: Reply) -> None:
            status, body, headers = reply
            ctype = headers.pop("Content-Type", "application/json")
            if body is None:
                data = b""
            elif isinstance(body, str) and ctype.startswith("text/"):
                data = body.encode()
            else:
                data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("X-Request-Id", self.headers.get("X-Request-Id") or uuid.uuid4().hex)
            # Real Harbor hands out a session cookie; a client that sends it back gets 403 on writes.
            self.send_header("Set-Cookie", f"sid={uuid.uuid4().hex}; Path=/; HttpOnly")
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            if method != "HEAD":
                self.wfile.write(data)

    return Handler
