"""The token realm: parsing Harbor's challenge, judging it for the nodes, and the check against a live /v2/."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from components.realm import RealmCheckProvider, RealmError, check_realm, judge_realm, parse_challenge

HARBOR = 'Bearer realm="https://harbor.example:30443/service/token",service="harbor-registry"'


def test_parse_harbor_challenge() -> None:
    c = parse_challenge(HARBOR)
    assert c is not None and c.scheme == "bearer"
    assert c.params == {"realm": "https://harbor.example:30443/service/token", "service": "harbor-registry"}


def test_parse_unquoted_and_escaped_values_and_empty() -> None:
    c = parse_challenge('Bearer realm=http://h/t, service="a \\"b\\"", scope="repository:p/r:pull"')
    assert c is not None
    assert c.params == {"realm": "http://h/t", "service": 'a "b"', "scope": "repository:p/r:pull"}
    assert parse_challenge("  ") is None


@pytest.mark.parametrize(("endpoint", "header", "level", "words"), [
    ("https://harbor.example:30443", HARBOR, "ok", "on the node endpoint"),
    ("https://harbor.example", 'Bearer realm="https://harbor.example:443/service/token"', "ok", "node endpoint"),
    ("https://harbor.example:30443", 'Bearer realm="http://harbor.example:30080/service/token"', "fail",
     "plain HTTP while nodes use HTTPS"),
    ("http://10.0.0.5:30002", 'Bearer realm="http://harbor.harbor.svc.cluster.local/service/token"', "fail",
     "cannot reach"),
    ("http://10.0.0.5:30002", 'Bearer realm="http://harbor-core/service/token"', "fail", "cannot reach"),
    ("http://10.0.0.5:30002", 'Bearer realm="http://127.0.0.1:8080/service/token"', "fail", "loopback"),
    ("http://10.0.0.5:30002", 'Bearer realm="ftp://10.0.0.5/service/token"', "fail", "not an http(s) URL"),
    ("http://10.0.0.5:30002", 'Basic realm="harbor"', "fail", "not Harbor's anonymous Bearer"),
    ("https://harbor.example:30443", 'Bearer realm="https://harbor.corp.example/service/token"', "warn",
     "not on the node endpoint"),
    ("http://10.0.0.5:30002", 'Bearer realm="http://10.0.0.5:30003/service/token"', "warn", "10.0.0.5:30003"),
])
def test_judge_realm(endpoint: str, header: str, level: str, words: str) -> None:
    verdict = judge_realm(endpoint, 401, header)
    assert verdict.level == level, verdict
    assert words in verdict.message


def test_no_challenge_and_no_token_needed() -> None:
    assert judge_realm("http://h:1", 200, "").level == "ok"
    assert judge_realm("http://h:1", 404, "").level == "warn"


class _V2(BaseHTTPRequestHandler):
    challenge = ""

    def do_GET(self) -> None:
        self.send_response(401)
        self.send_header("WWW-Authenticate", self.challenge)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def v2() -> Iterator[tuple[str, type[_V2]]]:
    handler = type("V2", (_V2,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


def test_check_reads_the_live_answer(v2: tuple[str, type[_V2]]) -> None:
    url, handler = v2
    handler.challenge = f'Bearer realm="{url}/service/token",service="harbor-registry"'
    assert check_realm(url).level == "ok"
    handler.challenge = 'Bearer realm="http://harbor.harbor.svc/service/token"'
    with pytest.raises(RealmError, match=r"harbor-cache:nodes: the token realm .*harbor\.harbor\.svc"):
        RealmCheckProvider().create({"endpoint": url, "ca_pem": ""})


def test_unreachable_endpoint_is_a_warning_not_a_failure() -> None:
    verdict = check_realm("http://127.0.0.1:9", timeout=2)
    assert verdict.level == "warn" and "not reachable from here" in verdict.message
    out = RealmCheckProvider().create({"endpoint": "http://127.0.0.1:9", "ca_pem": ""}).outs or {}
    assert out["level"] == "warn"


def test_diff_only_on_endpoint_or_ca() -> None:
    p = RealmCheckProvider()
    old = {"endpoint": "http://a:1", "ca_pem": "", "level": "ok"}
    assert not p.diff("x", old, {"endpoint": "http://a:1", "ca_pem": ""}).changes
    assert p.diff("x", old, {"endpoint": "http://a:2", "ca_pem": ""}).changes
