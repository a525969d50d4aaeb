"""A tiny upstream registry for the double's live health check: ``GET /v2/`` on a free loopback port.

``with FakeUpstream() as up: double.set_settings(upstream_map={"*": up.url})``. ``status`` (200) is what ``/v2/``
answers; with ``credentials=("key", "secret")`` it asks for HTTP Basic auth (401 without them or with others), as
a registry that needs keys does. ``stop()`` closes the port (a stopped upstream: connection refused); ``start()``
opens it again on the same port. ``hits`` counts the pings.
"""

from __future__ import annotations

import base64
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class FakeUpstream:
    """A ``/v2/`` responder on 127.0.0.1."""

    def __init__(self, status: int = 200, credentials: tuple[str, str] | None = None, port: int = 0) -> None:
        self.status, self.credentials, self.port = status, credentials, port
        self.hits = 0
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeUpstream:
        """Listen (the same port again after a stop)."""
        if self._server is None:
            self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
            self._server.daemon_threads = True
            self.port = self._server.server_address[1]
            threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        """Close the port: connections are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeUpstream:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def answer(self, authorization: str | None) -> int:
        """The status ``/v2/`` answers a request with this ``Authorization`` header."""
        self.hits += 1
        if self.credentials is not None:
            expected = base64.b64encode(":".join(self.credentials).encode()).decode()
            if authorization != f"Basic {expected}":
                return 401
        return self.status


def _handler(up: FakeUpstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            status = up.answer(self.headers.get("Authorization")) if self.path.rstrip("/") == "/v2" else 404
            body = b"{}"
            self.send_response(status)
            if status == 401:
                self.send_header("WWW-Authenticate", 'Basic realm="fake-upstream"')
            self.send_header("Docker-Distribution-API-Version", "registry/2.0")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler
