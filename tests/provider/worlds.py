"""The world around the Harbor double for helper F's provider tests (issue 13).

Harbor checks the upstream live on every registry write, so the double needs an upstream it can reach: the
``healthy_world`` fixture points every registry URL at a loopback ``/v2/`` that answers 200 and lets Harbor core
reach AWS, whatever the double's start-up settings are. A test then breaks one thing at a time with
``double.set_settings(...)`` / ``double.set_faults(...)`` (lab/harbor_double/faults.py, settings.py).
Use it with ``pytestmark = pytest.mark.usefixtures("healthy_world")`` after importing it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from lab.harbor_double import HarborDouble

KEYS = {"credential": {"type": "basic", "access_key": "AKIA-TEST", "access_secret": "test-secret"}}
"""A registry body's credential: Harbor's ECR adapter fails (500) on an aws-ecr registry without one."""


class _Upstream(BaseHTTPRequestHandler):
    """``GET /v2/`` → 200: the ECR host, asked with the token Harbor core got from AWS."""

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self.send_response(200 if self.path.rstrip("/") == "/v2" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture(scope="session")
def fake_upstream() -> Iterator[str]:
    """The base URL of that upstream on loopback."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Upstream)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def healthy_world(double: HarborDouble, fake_upstream: str) -> str:
    """Harbor core reaches AWS and every upstream: registry writes pass Harbor's live check."""
    double.set_settings(aws_reachable=True, aws_rejects_keys=False, upstream_map={"*": fake_upstream})
    return fake_upstream
