"""HarborClient against the double: retries, errors, cookies, paging, lookups, readiness, service proxy."""

from __future__ import annotations

import base64
import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests

from components.harbor_api.client import HarborClient, id_from_location
from components.harbor_api.endpoint import HarborEndpoint
from components.harbor_api.errors import (
    HarborApiError,
    HarborConfigError,
    HarborConflictError,
    HarborNotFoundError,
    HarborNotReadyError,
    HarborPreconditionFailedError,
    HarborUnauthorizedError,
    HarborUnconfirmedWriteError,
    HarborUnreachableError,
    error_class,
)
from components.harbor_api.transport import open_transport, service_proxy_transport
from lab.harbor_double import HarborDouble
from tests.provider.conftest import ECR_URL, PASSWORD
from tests.provider.worlds import KEYS, fake_upstream, healthy_world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("healthy_world")


def _registry(client: HarborClient, name: str) -> int:
    body = {"name": name, "type": "aws-ecr", "url": ECR_URL, "insecure": False, "description": "", **KEYS}
    return client.create("/registries", body, f"create registry '{name}'")


def test_create_reads_id_from_location(client: HarborClient, double: HarborDouble) -> None:
    rid = _registry(client, "moreh-ecr")
    assert double.state["registries"][rid]["name"] == "moreh-ecr"
    assert id_from_location("/api/v2.0/replication/executions/42", "x") == 42


def test_error_names_operation_status_code_and_message_never_password(client: HarborClient) -> None:
    _registry(client, "dup")
    with pytest.raises(HarborConflictError) as err:
        _registry(client, "dup")
    text = str(err.value)
    assert err.value.status == 409 and err.value.code == "CONFLICT"
    assert text.startswith("create registry 'dup' failed: HTTP 409 CONFLICT: registry dup already exists")
    assert "request id" in text
    assert PASSWORD not in text


def test_retries_5xx_then_succeeds(client: HarborClient, double: HarborDouble) -> None:
    double.set_faults(fail_next=2)
    assert client.get("/registries/1", "read registry 1") is None  # 503, 503, then 404
    assert double.count("GET", "/registries/{id}") == 3


def test_5xx_burst_longer_than_retries_is_a_clear_error(client: HarborClient, double: HarborDouble) -> None:
    double.set_faults(fail_next=10)
    started = time.monotonic()
    with pytest.raises(HarborApiError) as err:
        client.get("/registries/1", "read registry 1")
    assert time.monotonic() - started < 2
    assert err.value.status == 503
    assert "read registry 1 failed: HTTP 503" in str(err.value) and "after 3 attempts" in str(err.value)
    assert double.count("GET", "/registries/{id}") == 3


def test_a_500_on_post_is_never_repeated(client: HarborClient, double: HarborDouble) -> None:
    """The POST may have been carried out: the caller looks it up (writes.py); the client does not repeat it."""
    double.set_faults(fail_next=3, fail_status=500, fail_match="POST /registries")
    with pytest.raises(HarborUnconfirmedWriteError) as err:
        _registry(client, "r")
    assert err.value.status == 500 and err.value.api_error is not None
    assert "HTTP 500 UNKNOWN: internal server error" in str(err.value) and "request id" in str(err.value)
    assert double.count("POST", "/registries") == 1


def test_a_lost_answer_to_a_post_is_never_repeated(client: HarborClient, double: HarborDouble) -> None:
    double.lose_response("POST /registries")
    with pytest.raises(HarborUnconfirmedWriteError, match="dropped the answer") as err:
        _registry(client, "r")
    assert err.value.status is None and not err.value.timed_out
    assert double.count("POST", "/registries") == 1 and len(double.state["registries"]) == 1


def test_a_post_that_never_reached_harbor_is_sent_again(double: HarborDouble) -> None:
    ep = HarborEndpoint(url=double.url, timeout=1.0, retries=6, backoff=0.05, max_backoff=0.2)
    double.set_down(True)
    threading.Timer(0.15, double.set_down, args=(False,)).start()
    _registry(HarborClient(ep, PASSWORD), "r")  # connection refused, then created
    assert double.count("POST", "/registries") == 1


def test_put_and_delete_are_retried_on_5xx(client: HarborClient, double: HarborDouble) -> None:
    rid = _registry(client, "r")
    double.set_faults(fail_next=2, fail_status=503, fail_match="PUT /registries/*")
    client.put(f"/registries/{rid}", {"description": "d"}, "update registry 'r'")
    assert double.count("PUT", "/registries/{id}") == 3


def test_429_is_retried(client: HarborClient, double: HarborDouble) -> None:
    double.set_faults(fail_next=1, fail_status=429)
    assert client.list_all("/registries", "list registries") == []
    assert double.count("GET", "/registries") == 2


def test_connection_refused_retries_then_clear_error_in_bounded_time(
    endpoint: HarborEndpoint, double: HarborDouble
) -> None:
    double.set_down(True)
    client = HarborClient(endpoint, PASSWORD)
    started = time.monotonic()
    with pytest.raises(HarborUnreachableError) as err:
        client.get("/registries/1", "read registry 1")
    assert time.monotonic() - started < 2
    text = str(err.value)
    assert text.startswith(
        f"read registry 1 failed: cannot reach Harbor at {double.url}/api/v2.0 after 3 attempts"
    )
    assert PASSWORD not in text


def test_recovers_when_harbor_comes_back_during_retries(double: HarborDouble) -> None:
    ep = HarborEndpoint(url=double.url, timeout=1.0, retries=6, backoff=0.05, max_backoff=0.2)
    double.set_down(True)
    threading.Timer(0.15, double.set_down, args=(False,)).start()
    assert HarborClient(ep, PASSWORD).list_all("/registries", "list registries") == []


def test_401_is_not_retried(endpoint: HarborEndpoint, double: HarborDouble) -> None:
    with pytest.raises(HarborUnauthorizedError) as err:
        HarborClient(endpoint, "wrong").list_all("/registries", "list registries")
    assert err.value.status == 401
    assert double.count("GET", "/registries") == 1
    assert "wrong" not in str(err.value)


def test_4xx_is_not_retried(client: HarborClient, double: HarborDouble) -> None:
    with pytest.raises(HarborApiError) as err:
        client.create("/projects", {"project_name": "Bad Name"}, "create project 'Bad Name'")
    assert type(err.value) is HarborApiError  # a 400 has no class of its own
    assert double.count("POST", "/projects") == 1


def test_status_specific_errors_keep_their_class_with_a_hint() -> None:
    assert error_class(404) is HarborNotFoundError and error_class(400) is HarborApiError
    hinted = error_class(412)("delete x", 412, "PRECONDITION", "busy", request_id="r1").with_hint("empty it first")
    assert isinstance(hinted, HarborPreconditionFailedError)
    assert str(hinted) == "delete x failed: HTTP 412 PRECONDITION: busy (request id r1); empty it first"


def test_no_cookie_is_ever_sent_although_harbor_sets_one(client: HarborClient, double: HarborDouble) -> None:
    for i in range(3):
        _registry(client, f"r{i}")
    client.delete("/registries/2", "delete registry 2")
    assert double.cookies_seen == 0
    assert all(not r["cookie"] for r in double.requests)


def test_a_kept_sid_cookie_gets_403_csrf(double: HarborDouble) -> None:
    """Why the client has no cookie jar: the double behaves as Harbor does with a requests.Session."""
    session = requests.Session()
    session.auth = ("admin", PASSWORD)
    assert session.get(f"{double.url}/api/v2.0/registries").status_code == 200
    assert "sid" in session.cookies
    resp = session.post(
        f"{double.url}/api/v2.0/registries", json={"name": "x", "type": "harbor", "url": "http://h"}
    )
    assert resp.status_code == 403
    assert resp.json()["errors"][0]["message"] == "CSRF token invalid"
    double.cookies_seen = 0  # this test sent them on purpose


def test_pagination_follows_x_total_count(client: HarborClient, double: HarborDouble) -> None:
    for i in range(1, 206):
        double.state["registries"][1000 + i] = {
            "id": 1000 + i,
            "name": f"r{i}",
            "type": "harbor",
            "url": "http://h",
        }
    items = client.list_all("/registries", "list registries")
    assert len(items) == 205
    assert double.count("GET", "/registries") == 3


def test_find_by_name_is_exact_and_sends_names_unquoted(client: HarborClient, double: HarborDouble) -> None:
    """Harbor compares q=name=<value> as sent: name='123' matches nothing, name=123 finds it (item 5)."""
    for name in ("mif", "mif2", "xmif", "123"):
        _registry(client, name)
    assert client.find_by_name("/registries", "mif", "look up")["name"] == "mif"  # type: ignore[index]
    assert client.find_by_name("/registries", "123", "look up")["name"] == "123"  # type: ignore[index]
    assert client.find_by_name("/registries", "mi", "look up") is None
    queries = [r for r in double.requests if r["method"] == "GET" and r["path"] == "/registries"]
    assert len(queries) == 3
    sent = [r.get("query", "") for r in queries]
    if all(sent):  # the double records the raw query string (E's strict double)
        assert "q=name%3D123" in sent[1] and "%27" not in sent[1], sent


def test_find_by_name_lists_everything_for_names_with_query_syntax(
    client: HarborClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name with a character Harbor's q parser reads as syntax is not put in q; the list is filtered here."""
    _registry(client, "a,b")
    seen: list[Any] = []
    real = HarborClient.list_all

    def spy(self: HarborClient, path: str, operation: str, *, params: Any = None) -> list[Any]:
        seen.append(params)
        return real(self, path, operation, params=params)

    monkeypatch.setattr(HarborClient, "list_all", spy)
    assert client.find_by_name("/registries", "a,b", "look up")["name"] == "a,b"  # type: ignore[index]
    assert client.find_by_name("/registries", "123", "look up") is None
    assert seen == [None, {"q": "name=123"}]


def test_project_lookup_by_name_uses_resource_name_header(client: HarborClient) -> None:
    client.create(
        "/projects", {"project_name": "123", "metadata": {"public": "false"}}, "create project '123'"
    )
    found = client.get_project_by_name("123", "look up project '123'")
    assert found is not None and found["name"] == "123"
    assert client.get_project_by_name("nope", "look up project 'nope'") is None


def test_wait_until_ready(client: HarborClient) -> None:
    assert client.wait_until_ready(timeout=2, interval=0.01)["status"] == "healthy"


def test_wait_until_ready_times_out_with_what_it_saw(client: HarborClient, double: HarborDouble) -> None:
    double.set_faults(health_unhealthy=True)
    with pytest.raises(HarborNotReadyError, match=r"not ready after 0.2s: unhealthy components: jobservice"):
        client.wait_until_ready(timeout=0.2, interval=0.05)


def test_wait_until_ready_waits_for_harbor_to_come_up(endpoint: HarborEndpoint, double: HarborDouble) -> None:
    double.set_down(True)
    threading.Timer(0.2, double.set_down, args=(False,)).start()
    assert HarborClient(endpoint, PASSWORD).wait_until_ready(timeout=3, interval=0.05)["status"] == "healthy"


def test_wait_until_ready_when_down_says_so(endpoint: HarborEndpoint, double: HarborDouble) -> None:
    double.set_down(True)
    with pytest.raises(HarborNotReadyError, match="ping did not answer Pong"):
        HarborClient(endpoint, PASSWORD).wait_until_ready(timeout=0.2, interval=0.05)


def test_endpoint_validation_and_dict_round_trip() -> None:
    ep = HarborEndpoint(url="https://harbor.example.com", timeout=5)
    assert HarborEndpoint.from_dict({**ep.to_dict(), "retries": 3.0}).retries == 3
    with pytest.raises(HarborConfigError, match="exactly one of url"):
        HarborEndpoint()
    with pytest.raises(HarborConfigError, match="must not carry credentials"):
        HarborEndpoint(url="https://admin:pw@harbor.example.com")
    with pytest.raises(HarborConfigError, match="unknown keys"):
        HarborEndpoint.from_dict({"url": "http://h", "password": "x"})


# ------------------------------------------------------------------ Kubernetes service proxy


class _FakeApiServer:
    """What kube-apiserver does on the service proxy path: authenticate, DELETE Authorization, forward."""

    def __init__(self, target: str, token: str) -> None:
        self.target, self.token = target, token
        self.seen_paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _any(self) -> None:
                outer.seen_paths.append(self.path)
                if self.headers.get("Authorization") != f"Bearer {outer.token}":
                    self.send_response(401)
                    self.end_headers()
                    return
                prefix = "/api/v1/namespaces/harbor/services/http:harbor:80/proxy"
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("authorization", "host")
                }
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                resp = requests.request(
                    self.command,
                    outer.target + self.path[len(prefix) :],
                    headers=headers,
                    data=body,
                    timeout=5,
                )
                self.send_response(resp.status_code)
                for key in ("Content-Type", "X-Request-Id", "Location", "X-Total-Count"):
                    if key in resp.headers:
                        self.send_header(key, resp.headers[key])
                self.send_header("Content-Length", str(len(resp.content)))
                self.end_headers()
                self.wfile.write(resp.content)

            do_GET = do_POST = do_PUT = do_DELETE = _any

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def apiserver(double: HarborDouble) -> Iterator[_FakeApiServer]:
    fake = _FakeApiServer(double.url, "kube-token")
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def _kubeconfig(path: Path, server: str, user: dict[str, Any]) -> Path:
    cfg = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "test",
        "clusters": [{"name": "c", "cluster": {"server": server}}],
        "contexts": [{"name": "test", "context": {"cluster": "c", "user": "u"}}],
        "users": [{"name": "u", "user": user}],
    }
    path.write_text(json.dumps(cfg))  # JSON is YAML
    return path


def test_service_proxy_reaches_harbor_unauthenticated_endpoints(
    apiserver: _FakeApiServer, tmp_path: Path
) -> None:
    kc = _kubeconfig(tmp_path / "kubeconfig", apiserver.url, {"token": "kube-token"})
    ep = HarborEndpoint(kubeconfig=str(kc), timeout=2, retries=0)
    client = HarborClient(ep, PASSWORD)
    assert client.wait_until_ready(timeout=2, interval=0.05)["status"] == "healthy"
    assert apiserver.seen_paths[0] == "/api/v1/namespaces/harbor/services/http:harbor:80/proxy/api/v2.0/ping"


def test_service_proxy_authenticated_call_fails_plainly(apiserver: _FakeApiServer, tmp_path: Path) -> None:
    """The API server consumes the Authorization header; Harbor sees an anonymous caller and answers 401."""
    kc = _kubeconfig(tmp_path / "kubeconfig", apiserver.url, {"token": "kube-token"})
    client = HarborClient(HarborEndpoint(kubeconfig=str(kc), timeout=2, retries=0), PASSWORD)
    with pytest.raises(HarborUnauthorizedError) as err:
        client.list_all("/registries", "list registries")
    assert err.value.status == 401
    assert "service proxy, which removes the Authorization header" in str(err.value)
    assert "kube-token" not in str(err.value) and PASSWORD not in str(err.value)


def test_kubeconfig_is_read_at_call_time_with_cert_files_removed_after(tmp_path: Path) -> None:
    user = {
        "client-certificate-data": base64.b64encode(b"CERT").decode(),
        "client-key-data": base64.b64encode(b"KEY").decode(),
    }
    kc = _kubeconfig(tmp_path / "kubeconfig", "https://127.0.0.1:6443", user)
    ep = HarborEndpoint(kubeconfig=str(kc), service_scheme="https", service_port="443")
    with service_proxy_transport(ep) as tr:
        assert tr.api_base == (
            "https://127.0.0.1:6443/api/v1/namespaces/harbor/services/https:harbor:443/proxy/api/v2.0"
        )
        assert tr.cert is not None and Path(tr.cert[0]).read_bytes() == b"CERT"
        assert oct(os.stat(tr.cert[1]).st_mode & 0o777) == "0o600"
        assert tr.send_basic and tr.headers == {}
        cert_dir = Path(tr.cert[0]).parent
    assert not cert_dir.exists()


def test_direct_ca_pem_is_a_file_only_during_the_call() -> None:
    ep = HarborEndpoint(url="https://harbor.example.com/api/v2.0/", ca_pem="-----BEGIN CERTIFICATE-----\n")
    with open_transport(ep) as tr:
        assert tr.api_base == "https://harbor.example.com/api/v2.0" and isinstance(tr.verify, str)
        assert Path(tr.verify).read_text() == "-----BEGIN CERTIFICATE-----\n"
        ca_file = Path(tr.verify)
    assert not ca_file.exists()
    with open_transport(HarborEndpoint(url="https://h", verify_tls=False)) as tr:
        assert tr.verify is False and tr.send_basic and not tr.via_proxy


def test_kubeconfig_problems_are_config_errors(tmp_path: Path) -> None:
    ep = HarborEndpoint(kubeconfig=str(tmp_path / "missing"))
    with pytest.raises(HarborConfigError, match="cannot read kubeconfig"):
        HarborClient(ep, PASSWORD).list_all("/registries", "list registries")
    kc = _kubeconfig(tmp_path / "kc", "https://127.0.0.1:6443", {"exec": {"command": "aws"}})
    with pytest.raises(HarborConfigError, match="exec/auth-provider plugin"):
        HarborClient(HarborEndpoint(kubeconfig=str(kc)), PASSWORD).list_all("/registries", "list registries")
