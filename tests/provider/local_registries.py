"""An upstream registry and a pull-through registry in front of it, both ``docker-registry`` on loopback, and
Harbor's pull path in front of that.

The pull-through registry stands for Harbor's proxy cache. ``HarborPath`` answers like Harbor's registry API (as
the test bed's nginx does, lab/testbed/registries.py): ``/v2/<project>/<repository>`` maps onto the pull-through
registry's ``/v2/<repository>``, a request without a token gets ``401`` with a Bearer realm, and
``/service/token`` hands out a token. The upstream's access log says what reached it, so a test can tell a warm
pull (nothing fetched upstream) from a cold one. ``push_image`` writes images through the registry API (no image
tooling), including multi-platform indexes.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import requests

from lab.processes import free_port

OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
_LOG_LINE = re.compile(r'"(GET|HEAD|POST|PUT|PATCH|DELETE) (\S+) HTTP/[\d.]+" (\d{3})')


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Registries:
    """Both registries' URLs, data directories and the upstream's access log."""

    upstream_url: str
    mirror_url: str
    upstream_log: Path
    mirror_data: Path
    processes: dict[str, subprocess.Popen[bytes]]

    def upstream_requests(self) -> list[tuple[str, str, int]]:
        """(method, path, status) of every request the upstream served so far."""
        text = self.upstream_log.read_text(errors="replace") if self.upstream_log.exists() else ""
        return [(m, p, int(s)) for m, p, s in _LOG_LINE.findall(text)]

    def stop_upstream(self) -> None:
        """The upstream goes away (a warm cache must not need it)."""
        _stop(self.processes.pop("upstream"))


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _config(root: Path, name: str, port: int, extra: str = "") -> Path:
    (root / f"{name}-data").mkdir(parents=True, exist_ok=True)
    path = root / f"{name}.yml"
    path.write_text(
        "version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: false\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root}/{name}-data\n  delete:\n    enabled: true\n"
        f"http:\n  addr: 127.0.0.1:{port}\n{extra}")
    return path


def _wait(url: str) -> None:
    end = time.monotonic() + 20
    while time.monotonic() < end:
        with suppress(requests.RequestException):
            if requests.get(url + "/v2/", timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not come up")


@contextmanager
def local_registries(root: Path) -> Iterator[Registries]:
    """Start the upstream and the pull-through registry; stop both (and only them) afterwards."""
    if not shutil.which("docker-registry"):
        raise FileNotFoundError("docker-registry")
    up_port, mirror_port = free_port(), free_port()
    up_url, mirror_url = f"http://127.0.0.1:{up_port}", f"http://127.0.0.1:{mirror_port}"
    procs: dict[str, subprocess.Popen[bytes]] = {}
    log = root / "upstream.log"
    try:
        with open(log, "wb") as out:
            procs["upstream"] = subprocess.Popen(["docker-registry", "serve", str(_config(root, "upstream", up_port))],
                                                 stdout=out, stderr=out, start_new_session=True)
        _wait(up_url)
        with open(root / "mirror.log", "wb") as out:
            procs["mirror"] = subprocess.Popen(
                ["docker-registry", "serve",
                 str(_config(root, "mirror", mirror_port, f"proxy:\n  remoteurl: {up_url}\n"))],
                stdout=out, stderr=out, start_new_session=True)
        _wait(mirror_url)
        yield Registries(up_url, mirror_url, log, root / "mirror-data", procs)
    finally:
        for proc in procs.values():
            _stop(proc)


def _put_blob(url: str, repo: str, data: bytes) -> dict[str, object]:
    start = requests.post(f"{url}/v2/{repo}/blobs/uploads/", timeout=10)
    start.raise_for_status()
    location = start.headers["Location"]
    if location.startswith("/"):
        location = url + location
    sep = "&" if "?" in location else "?"
    done = requests.put(f"{location}{sep}digest={digest_of(data)}", data=data,
                        headers={"Content-Type": "application/octet-stream"}, timeout=30)
    done.raise_for_status()
    return {"digest": digest_of(data), "size": len(data)}


def _put_manifest(url: str, repo: str, ref: str, body: bytes, media_type: str) -> None:
    requests.put(f"{url}/v2/{repo}/manifests/{ref}", data=body, headers={"Content-Type": media_type},
                 timeout=10).raise_for_status()


def push_image(url: str, repo: str, tag: str, layers: Sequence[bytes], architecture: str = "amd64") -> str:
    """An image of opaque layers (enough for a registry) as ``repo:tag``; its manifest digest."""
    config = json.dumps({"architecture": architecture, "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": [digest_of(x) for x in layers]}}).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", **_put_blob(url, repo, config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", **_put_blob(url, repo, x)}
                   for x in layers],
    }).encode()
    _put_manifest(url, repo, tag, manifest, OCI_MANIFEST)
    return digest_of(manifest)


def push_index(url: str, repo: str, tag: str, per_platform: dict[str, Sequence[bytes]]) -> dict[str, str]:
    """A multi-platform image (``{"linux/amd64": layers, ...}``) as ``repo:tag``; digest per platform and of the
    index (key ``index``)."""
    digests: dict[str, str] = {}
    entries = []
    for platform, layers in per_platform.items():
        os_name, arch = platform.split("/")[:2]
        digest = push_image(url, repo, f"{tag}-{arch}", layers, arch)
        body = requests.get(f"{url}/v2/{repo}/manifests/{digest}", headers={"Accept": OCI_MANIFEST},
                            timeout=10).content
        entries.append({"mediaType": OCI_MANIFEST, "digest": digest, "size": len(body),
                        "platform": {"os": os_name, "architecture": arch}})
        digests[platform] = digest
    index = json.dumps({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}).encode()
    _put_manifest(url, repo, tag, index, OCI_INDEX)
    digests["index"] = digest_of(index)
    return digests


class HarborPath:
    """Harbor's registry API on loopback in front of ``mirror_url``; ``tokens`` counts the tokens handed out and
    ``requests`` records (method, path, status)."""

    def __init__(self, mirror_url: str) -> None:
        self.mirror = urlsplit(mirror_url)
        self.tokens = 0
        self.requests: list[tuple[str, str, int]] = []
        path = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def do_HEAD(self) -> None:
                path.serve(self, "HEAD")

            def do_GET(self) -> None:
                path.serve(self, "GET")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> HarborPath:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _reply(self, h: BaseHTTPRequestHandler, method: str, status: int, headers: dict[str, str],
               body: bytes = b"") -> None:
        h.send_response(status)
        for key, value in headers.items():
            h.send_header(key, value)
        h.send_header("Content-Length", headers.get("Content-Length", str(len(body))))
        h.end_headers()
        if method == "GET" and body:
            h.wfile.write(body)
        self.requests.append((method, h.path, status))

    def serve(self, h: BaseHTTPRequestHandler, method: str) -> None:
        if h.path.startswith("/service/token"):
            self.tokens += 1
            self._reply(h, method, 200, {"Content-Type": "application/json"}, b'{"token": "loopback-token"}')
            return
        if h.headers.get("Authorization") != "Bearer loopback-token":
            realm = f"{self.url}/service/token"
            self._reply(h, method, 401, {"WWW-Authenticate": f'Bearer realm="{realm}",service="harbor-registry"',
                                         "Content-Type": "application/json"},
                        b'{"errors":[{"code":"UNAUTHORIZED","message":"unauthorized to access repository"}]}')
            return
        parts = h.path.split("/", 3)  # "", "v2", project, rest
        target = "/v2/" + (parts[3] if len(parts) == 4 else "")
        conn = http.client.HTTPConnection(self.mirror.hostname or "", self.mirror.port, timeout=60)
        try:
            conn.request(method, target, headers={k: v for k, v in h.headers.items() if k.lower() == "accept"})
            answer = conn.getresponse()
            headers = {k: v for k, v in answer.getheaders()
                       if k.lower() in ("content-type", "docker-content-digest", "content-length")}
            h.send_response(answer.status)
            for key, value in headers.items():
                h.send_header(key, value)
            h.end_headers()
            while method == "GET" and (chunk := answer.read(1 << 16)):
                h.wfile.write(chunk)
            self.requests.append((method, h.path, answer.status))
        finally:
            conn.close()
