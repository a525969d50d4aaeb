"""The pull path's stand-in for Harbor's registry health check (lab/testbed/upstream_health.py): the ping, the
switch nginx reads, the interval a running bed re-reads and the status log (end to end:
tests/e2e/test_upstream_down.py)."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from lab.processes import free_port
from lab.testbed import upstream_health as uh


@pytest.fixture
def registry() -> Iterator[tuple[str, dict[str, int]]]:
    """A loopback server answering ``GET /v2/`` with the status in ``answer["status"]``."""
    answer = {"status": 200}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(answer["status"])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", answer
    finally:
        server.shutdown()


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (401, True), (404, False), (503, False)])
def test_ping_is_healthy_on_200_or_401_like_harbors(registry: tuple[str, dict[str, int]], status: int,
                                                    healthy: bool) -> None:
    url, answer = registry
    answer["status"] = status
    assert uh.upstream_healthy(url, timeout=5) is healthy


def test_a_refused_upstream_is_unhealthy() -> None:
    assert uh.upstream_healthy(f"http://127.0.0.1:{free_port()}", timeout=5) is False


def test_backend_switch_and_interval(tmp_path: Path) -> None:
    uh.write_backend(tmp_path, healthy=True)
    assert not uh.serving_local(tmp_path) and "mirror_reg" in (tmp_path / uh.BACKEND_CONF).read_text()
    uh.write_backend(tmp_path, healthy=False)
    assert uh.serving_local(tmp_path) and "local_reg" in (tmp_path / uh.BACKEND_CONF).read_text()
    assert uh.interval(tmp_path) == uh.HARBOR_INTERVAL == 300.0
    uh.set_interval(tmp_path, 15)
    assert uh.interval(tmp_path) == 15.0


def test_transitions_read_the_status_log(tmp_path: Path) -> None:
    assert uh.transitions(tmp_path) == []
    (tmp_path / "logs").mkdir()
    (tmp_path / "logs" / uh.LOG).write_text("100.50 unhealthy\n130.25 healthy\n")
    assert uh.transitions(tmp_path) == [(100.5, "unhealthy"), (130.25, "healthy")]
