"""Pre-warm without a registry: the settings section, resolving entries to upstreams, the provider's diff, and
warm_image's token flow and errors against a scripted registry on loopback."""

from __future__ import annotations

import hashlib
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import yaml

from components.prewarm import PrewarmError, warm_image
from components.prewarm_resource import PrewarmProvider, PrewarmTarget
from components.settings import SettingsError, validate
from components.settings.prewarm import resolve
from lab.kube.pki import make_pki
from tests.unit.test_program_mocks import FAKE_SECRETS, ROOT, by_type, run_program  # noqa: F401 - a fixture

SECRETS = {"adminPassword": True, "sshPrivateKey": True}


def _sandbox(**extra: Any) -> dict[str, Any]:
    doc = yaml.safe_load((ROOT / "Pulumi.sandbox.yaml").read_text())["config"]
    raw = {k.split(":", 1)[1]: v for k, v in doc.items() if not (isinstance(v, dict) and "secure" in v)}
    return {**raw, **extra}


def _problems(prewarm: dict[str, Any], **extra: Any) -> str:
    with pytest.raises(SettingsError) as caught:
        validate(_sandbox(prewarm=prewarm, **extra), SECRETS)
    return str(caught.value)


def test_entries_resolve_to_their_upstream_and_proxy_project() -> None:
    settings = validate(_sandbox(prewarm={"images": [
        "10.252.0.1:5000/quickstart/hello:v1",
        {"repository": "quickstart/hello", "tags": ["v2", "v3"]},
        "10.252.0.1:5000/quickstart/hello@sha256:" + "a" * 64,
    ], "failOnError": True}), SECRETS)
    images, problems = resolve(settings.prewarm, settings.upstream_list)
    assert problems == []
    assert [(i.upstream, i.project, i.image) for i in images] == [
        ("sandbox-upstream", "mif", "10.252.0.1:5000/quickstart/hello:v1"),
        ("sandbox-upstream", "mif", "10.252.0.1:5000/quickstart/hello:v2"),
        ("sandbox-upstream", "mif", "10.252.0.1:5000/quickstart/hello:v3"),
        ("sandbox-upstream", "mif", "10.252.0.1:5000/quickstart/hello@sha256:" + "a" * 64),
    ]
    assert settings.prewarm.fail_on_error is True and settings.prewarm.platforms == ["linux/amd64"]
    assert validate(_sandbox(), SECRETS).prewarm.images == []  # off unless listed


def test_refused_entries_name_their_setting() -> None:
    text = _problems({"images": ["ghcr.io/x/y:v1", {"repository": "a", "tags": ["v1"], "upstream": "nope"},
                                 "10.252.0.1:5000/a:v1", {"repository": "a", "tags": ["v1"]}]})
    assert "harbor-cache:prewarm.images[0]: 'ghcr.io/x/y:v1' is on ghcr.io, which no upstream serves" in text
    assert "harbor-cache:prewarm.images[1].upstream: 'nope' is not an upstream's name" in text
    assert "harbor-cache:prewarm.images[3]: '10.252.0.1:5000/a:v1' is listed twice" in text
    bad = _problems({"images": ["Bad:Ref", {"repository": "10.0.0.1:5000/a", "tags": ["v1"]},
                                {"repository": "a", "tags": ["a:b"]}], "platforms": ["linux"],
                     "timeoutSeconds": 1, "registryUrl": "ftp://x"})
    for key in ("prewarm.images[0]", "prewarm.images[1]", "prewarm.images[2]", "prewarm.platforms[0]",
                "prewarm.timeoutSeconds", "prewarm.registryUrl"):
        assert f"harbor-cache:{key}" in bad, key
    assert "not a platform: os/architecture[/variant]" in bad and "without the registry host" in bad
    off = _problems({"images": ["10.252.0.1:5000/a:v1"]}, proxyProject={"enabled": False},
                    replication={"enabled": True})
    assert "harbor-cache:prewarm.images[0]: upstream 'sandbox-upstream' has no proxy-cache project" in off


def test_the_program_prewarms_after_the_upstreams_only_when_asked(run_program: Any) -> None:  # noqa: F811
    assert by_type(run_program("sandbox"), "dynamic/prewarm:PrewarmImages") == []
    resources = run_program("sandbox", prewarm={"images": [{"repository": "quickstart/hello", "tags": ["v1"]}],
                                                "platforms": ["linux/arm64"], "failOnError": True})
    (state,) = by_type(resources, "dynamic/prewarm:PrewarmImages")
    assert state["targets"] == [{"image": "10.252.0.1:5000/quickstart/hello:v1", "project": "mif",
                                 "upstream": "sandbox-upstream"}]
    assert state["registry_url"] == "http://10.252.0.1:30002"  # Harbor's externalURL, as nodes reach it
    assert state["platforms"] == ["linux/arm64"] and state["fail_on_error"] is True
    assert state["username"] == "admin" and FAKE_SECRETS["adminPassword"] not in json.dumps(state)


def test_harbor_names_of_a_target() -> None:
    assert PrewarmTarget("10.252.0.1:5000/quickstart/hello:v1", "mif", "u").harbor_parts() == \
        ("mif", "quickstart/hello", "v1")
    assert PrewarmTarget("docker.io/busybox", "hub", "u").harbor_parts() == ("hub", "library/busybox", "latest")


def test_diff_reruns_only_for_the_list_the_endpoint_or_a_failure() -> None:
    provider = PrewarmProvider()
    olds = {"registry_url": "http://h", "ca_pem": "", "username": "admin", "platforms": ["linux/amd64"],
            "timeout": 600.0, "fail_on_error": False, "targets": [{"image": "h/a:v1", "project": "p", "upstream": "u"}],
            "warm": ["h/a:v1"], "pulled": {}, "failed": {}}
    news = {k: v for k, v in olds.items() if k not in ("warm", "pulled", "failed")}
    assert provider.diff("prewarm", olds, news).changes is False
    assert provider.diff("prewarm", olds, {**news, "registry_url": "https://h"}).changes is True
    assert provider.diff("prewarm", olds, {**news, "targets": []}).changes is True
    assert provider.diff("prewarm", {**olds, "failed": {"h/a:v1": "404"}}, news).changes is True


# ---- warm_image against a scripted registry

LAYER = b"layer-bytes" * 100
CONFIG = b'{"os":"linux"}'


def _d(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


MANIFEST = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"digest": _d(CONFIG), "size": len(CONFIG)},
                       "layers": [{"digest": _d(LAYER), "size": len(LAYER)}]}).encode()


class Scripted:
    """A registry that wants a token, serves one image, and answers what ``answers`` says for some paths."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, str]] = []
        self.answers: dict[str, tuple[int, bytes]] = {}
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def do_GET(self) -> None:
                outer.handle(self, "GET")

            def do_HEAD(self) -> None:
                outer.handle(self, "HEAD")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        self.seen.append((method, h.path, h.headers.get("Authorization", "")))
        path = h.path.split("?")[0]
        status, body, headers = 404, b'{"errors":[{"code":"NOT_FOUND","message":"no such thing"}]}', {}
        if path == "/service/token":
            status, body = 200, b'{"token": "t0k"}'
        elif h.headers.get("Authorization") != "Bearer t0k":
            status, body = 401, b""
            headers = {"WWW-Authenticate": f'Bearer realm="{self.url}/service/token",service="harbor-registry"'}
        elif path in self.answers:
            status, body = self.answers[path]
        elif path.endswith(("/manifests/v1", f"/manifests/{_d(MANIFEST)}")):
            status, body = 200, MANIFEST
            headers = {"Docker-Content-Digest": _d(MANIFEST),
                       "Content-Type": "application/vnd.oci.image.manifest.v1+json"}
        elif path.endswith(f"/blobs/{_d(LAYER)}"):
            status, body = 200, LAYER
        elif path.endswith(f"/blobs/{_d(CONFIG)}"):
            status, body = 200, CONFIG
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if method == "GET":
            h.wfile.write(body)


@pytest.fixture
def registry() -> Iterator[Scripted]:
    scripted = Scripted()
    thread = threading.Thread(target=scripted.server.serve_forever, daemon=True)
    thread.start()
    yield scripted
    scripted.server.shutdown()
    scripted.server.server_close()


def test_token_flow_manifest_and_blobs(registry: Scripted) -> None:
    warmed = warm_image(registry.url, "mif", "quickstart/hello", "v1", credentials=("admin", "pw"))
    assert warmed.digest == _d(MANIFEST) and warmed.blobs == 2 and warmed.bytes == len(LAYER) + len(CONFIG)
    token = [s for s in registry.seen if s[1].startswith("/service/token")]
    assert len(token) == 1 and "scope=repository%3Amif%2Fquickstart%2Fhello%3Apull" in token[0][1]
    assert token[0][2].startswith("Basic ")  # the admin's credentials go to the realm only
    pulls = [(m, p) for m, p, auth in registry.seen if auth == "Bearer t0k"]
    assert pulls[0] == ("HEAD", "/v2/mif/quickstart/hello/manifests/v1")  # as containerd asks: HEAD by tag first
    assert ("GET", f"/v2/mif/quickstart/hello/blobs/{_d(LAYER)}") in pulls
    assert pulls[-1] == ("HEAD", "/v2/mif/quickstart/hello/manifests/v1")  # links the tag once stored


def test_harbor_ca_is_trusted_whatever_requests_ca_bundle_says(
        registry: Scripted, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # requests lets REQUESTS_CA_BUNDLE override a Session's `verify`; Harbor's own CA must still be the one used.
    make_pki(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(tmp_path / "apiserver.crt", tmp_path / "apiserver.key")
    registry.server.socket = tls.wrap_socket(registry.server.socket, server_side=True)
    registry.url = registry.url.replace("http://", "https://")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ssl.get_default_verify_paths().openssl_cafile)
    warmed = warm_image(registry.url, "mif", "quickstart/hello", "v1",
                        ca_pem=(tmp_path / "ca.crt").read_text(), credentials=("admin", "pw"))
    assert warmed.digest == _d(MANIFEST)
    with pytest.raises(PrewarmError, match="CERTIFICATE_VERIFY_FAILED"):
        warm_image(registry.url, "mif", "quickstart/hello", "v1")


def test_errors_name_the_image_and_the_answer(registry: Scripted) -> None:
    registry.answers[f"/v2/mif/quickstart/hello/blobs/{_d(LAYER)}"] = (200, b"tampered")
    with pytest.raises(PrewarmError, match=r"mif/quickstart/hello:v1 failed: blob sha256:\w+: the 8 bytes"):
        warm_image(registry.url, "mif", "quickstart/hello", "v1")
    registry.answers["/v2/mif/quickstart/hello/manifests/v1"] = (
        502, b'{"errors":[{"code":"UNKNOWN","message":"upstream said: 429 toomanyrequests"}]}')
    with pytest.raises(PrewarmError) as caught:
        warm_image(registry.url, "mif", "quickstart/hello", "v1")
    assert str(caught.value) == ("pre-warm of mif/quickstart/hello:v1 failed: HEAD /manifests/v1 answered 502 Bad "
                                 "Gateway (UNKNOWN: upstream said: 429 toomanyrequests)")
    with pytest.raises(PrewarmError, match="registry URL must be http"):
        warm_image("ftp://x", "mif", "a", "v1")
    with pytest.raises(PrewarmError, match=r"Harbor not reachable: ConnectionError"):
        warm_image("http://127.0.0.1:9", "mif", "a", "v1", timeout=5)
