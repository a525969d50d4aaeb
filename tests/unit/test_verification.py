"""nodeVerification: Harbor's name for an image, the broken-link messages, the API proof, the provider's flow."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from components import node_ssh
from components.node_ssh import NodePullCheckProvider
from components.verification import VerificationError, artifact_in_project, harbor_image, pull_failure


@pytest.mark.parametrize(("upstream", "project", "repo", "ref"), [
    ("10.252.0.1:5000/quickstart/hello:v1", "mif", "quickstart/hello", "v1"),
    ("123.dkr.ecr.eu-west-1.amazonaws.com/team/app", "mif", "team/app", "latest"),
    ("reg.example/a/b@sha256:" + "0" * 64, "p", "a/b", "sha256:" + "0" * 64),
    ("busybox:1.37", "hub", "library/busybox", "1.37"),
])
def test_harbor_image(upstream: str, project: str, repo: str, ref: str) -> None:
    img = harbor_image(upstream, project)
    assert (img.project, img.repository, img.reference) == (project, repo, ref)


def test_harbor_name_and_double_encoded_api_path() -> None:
    img = harbor_image("10.252.0.1:5000/quickstart/hello:v1", "mif")
    assert img.name("10.252.0.1:30002") == "10.252.0.1:30002/mif/quickstart/hello:v1"
    assert img.api_path() == "/api/v2.0/projects/mif/repositories/quickstart%252Fhello/artifacts/v1"
    pinned = harbor_image("r.example/x@sha256:ab", "mif")
    assert pinned.name("h:1") == "h:1/mif/x@sha256:ab"


@pytest.mark.parametrize(("message", "link"), [
    ('failed to authorize: failed to fetch anonymous token: Get "http://harbor-core/service/token?scope=x": dial '
     "tcp: lookup harbor-core: no such host", "token realm"),
    ('failed to resolve reference "h:1/mif/a:v1": failed to do request: Head "https://h:1/v2/a/manifests/v1": '
     "tls: failed to verify certificate: x509: certificate signed by unknown authority", "TLS trust"),
    ("http: server gave HTTP response to HTTPS client", "TLS trust"),
    ('failed to resolve reference "h:1/mif/a:v1": pull access denied, repository does not exist or may require '
     "authorization: server message: insufficient_scope: authorization failed", "project not public"),
    ('failed to do request: Head "http://h:1/v2/mif/a/manifests/v1": dial tcp 10.0.0.1:1: connect: connection '
     "refused", "Harbor down"),
    ('failed to resolve reference "h:1/mif/a:v1": h:1/mif/a:v1: not found', "not found"),
])
def test_pull_failure_names_the_link(message: str, link: str) -> None:
    err = pull_failure("node1", "h:1/mif/a:v1", message)
    assert f"({link})" in str(err)
    assert str(err).startswith("node node1: pull of h:1/mif/a:v1 by Harbor's name failed")
    assert message in str(err)


class _Api(BaseHTTPRequestHandler):
    status = 200
    body: dict[str, Any] = {}
    paths: list[str] = []

    def do_GET(self) -> None:
        self.paths.append(self.path)
        data = json.dumps(self.body).encode()
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[tuple[str, type[_Api]]]:
    handler = type("Api", (_Api,), {"paths": [], "body": {"digest": "sha256:" + "a" * 64}})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


IMG = harbor_image("10.252.0.1:5000/quickstart/hello:v1", "mif")


def test_artifact_found(api: tuple[str, type[_Api]]) -> None:
    url, handler = api
    assert artifact_in_project(url + "/api/v2.0", IMG) == "sha256:" + "a" * 64
    assert handler.paths == ["/api/v2.0/projects/mif/repositories/quickstart%252Fhello/artifacts/v1"]


@pytest.mark.parametrize(("status", "words"), [
    (404, "cache bypassed"), (401, "not public"), (403, "not public"), (503, "Harbor down")])
def test_artifact_answers_name_the_link(api: tuple[str, type[_Api]], status: int, words: str) -> None:
    url, handler = api
    handler.status = status
    with pytest.raises(VerificationError, match=words):
        artifact_in_project(url, IMG)


def test_api_unreachable_is_harbor_down() -> None:
    with pytest.raises(VerificationError, match=r"not reachable .*\(Harbor down\)"):
        artifact_in_project("http://127.0.0.1:9", IMG, timeout=2)


# ---- the provider: pulls replaced by a table of answers, Harbor's API by the loopback stand-in

PROPS: dict[str, Any] = {
    "node": "node1", "host": "10.252.1.11", "port": 22, "user": "root", "host_key": None, "bastion": None,
    "image": "10.252.0.1:5000/quickstart/hello:v1", "crictl": "crictl", "trigger": "t",
    "node_endpoint": "10.252.0.1:30002", "project": "mif", "ca_pem": ""}


@pytest.fixture
def pulls(monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[bool, str]]:
    answers: dict[str, tuple[bool, str]] = {}

    def fake(_target: Any, _key: str, image: str, _crictl: str = "crictl", **_kw: Any) -> dict[str, Any]:
        ok, message = answers[image]
        return {"image": image, "node": "node1", "ok": ok, "image_id": "sha256:id" if ok else "",
                "message": message, "seconds": 0.1}

    monkeypatch.setattr(node_ssh, "crictl_pull", fake)
    monkeypatch.setattr(NodePullCheckProvider, "secret", "key", raising=False)
    return answers


def test_provider_proves_the_path(pulls: dict[str, tuple[bool, str]], api: tuple[str, type[_Api]]) -> None:
    pulls["10.252.0.1:30002/mif/quickstart/hello:v1"] = (True, "Image is up to date for sha256:id")
    pulls[PROPS["image"]] = (True, "Image is up to date for sha256:id")
    out = NodePullCheckProvider().create({**PROPS, "api_url": api[0]}).outs or {}
    assert out["through_harbor"] is True and out["ok"] is True
    assert out["harbor_image"] == "10.252.0.1:30002/mif/quickstart/hello:v1"
    assert out["digest"] == "sha256:" + "a" * 64


def test_provider_fails_on_a_bypassed_cache(pulls: dict[str, tuple[bool, str]], api: tuple[str, type[_Api]]) -> None:
    """The upstream-name pull succeeds (fallback), the Harbor-name one fails: the verification fails."""
    pulls["10.252.0.1:30002/mif/quickstart/hello:v1"] = (False, "x509: certificate signed by unknown authority")
    pulls[PROPS["image"]] = (True, "Image is up to date for sha256:id")
    with pytest.raises(VerificationError, match=r"\(TLS trust\)"):
        NodePullCheckProvider().create({**PROPS, "api_url": api[0]})


def test_provider_fails_when_harbor_has_no_artifact(pulls: dict[str, tuple[bool, str]],
                                                    api: tuple[str, type[_Api]]) -> None:
    pulls["10.252.0.1:30002/mif/quickstart/hello:v1"] = (True, "Image is up to date for sha256:id")
    pulls[PROPS["image"]] = (True, "Image is up to date for sha256:id")
    api[1].status = 404
    with pytest.raises(VerificationError, match="cache bypassed"):
        NodePullCheckProvider().create({**PROPS, "api_url": api[0]})


def test_old_state_without_endpoint_only_pulls_the_upstream_name(pulls: dict[str, tuple[bool, str]]) -> None:
    pulls[PROPS["image"]] = (True, "Image is up to date for sha256:id")
    old = {k: v for k, v in PROPS.items() if k not in ("node_endpoint", "project", "ca_pem")}
    out = NodePullCheckProvider().create(old).outs or {}
    assert out["through_harbor"] is False and out["ok"] is True


def test_a_long_containerd_error_keeps_its_cause() -> None:
    """crictl's one-line error starts with what failed and ends with why: both survive the shortening."""
    line = ('level=error msg="pulling image: failed to pull ' + "x" * 600
            + ' x509: certificate signed by unknown authority"')
    short = node_ssh._shorten(line)
    assert len(short) < 620 and short.startswith("level=error") and "x509: certificate signed" in short
    assert "(TLS trust)" in str(pull_failure("n", "i", short))
