"""Pre-warm: pull one image through Harbor's proxy project once, so that no node meets a cold cache.

What a node's containerd does, done once from where ``pulumi`` runs, against Harbor's registry API (``/v2/``):

1. ``HEAD /v2/<project>/<repository>/manifests/<tag>``: Harbor asks the upstream for the tag (and, once the
   manifest is stored, links the tag in its store: a later warm pull by tag then needs no manifest GET upstream);
2. ``GET`` the manifest by digest; for an index (multi-platform image) the manifests of the wanted platforms;
3. ``GET`` every blob (config and layers) to the end, checking its digest: on a miss Harbor streams the blob from
   the upstream and stores a copy (HARBOR-BEHAVIOUR.md, "The proxy cache itself"); the bytes are discarded here.

Authentication is Harbor's registry token flow: a ``401`` names a Bearer realm (``<externalURL>/service/token``),
which hands out a pull token, anonymously for a public project or with ``credentials``. Errors name the image and
carry Harbor's answer, which for a proxy project is the upstream's (e.g. ``404 MANIFEST_UNKNOWN``).

``warm_image`` is the one entry point (the dynamic resource in components/prewarm_resource.py and the benchmark
use it); it needs only ``requests``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

from components.realm import parse_challenge

MANIFEST_TYPES = (
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
INDEX_TYPES = frozenset(MANIFEST_TYPES[:2])
DEFAULT_PLATFORMS = ("linux/amd64",)
_CHUNK = 1 << 20


class PrewarmError(Exception):
    """A pre-warm failed: the message names the image, the request and Harbor's (the upstream's) answer."""

    def __init__(self, image: str, message: str) -> None:
        super().__init__(f"pre-warm of {image} failed: {message}")
        self.image = image
        self.reason = message


@dataclass(frozen=True)
class WarmedImage:
    """What one pre-warm pulled through Harbor."""

    image: str  # ``<project>/<repository>:<reference>``
    digest: str  # the digest the reference resolved to (an index's, for a multi-platform image)
    manifests: int  # image manifests pulled (1, or one per wanted platform of an index)
    blobs: int
    bytes: int  # blob bytes read
    seconds: float
    platforms: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """Plain form for a resource's outputs."""
        return {"image": self.image, "digest": self.digest, "manifests": self.manifests, "blobs": self.blobs,
                "bytes": self.bytes, "seconds": self.seconds, "platforms": list(self.platforms)}


def warm_image(
    registry_url: str,
    project: str,
    repository: str,
    reference: str,
    *,
    ca_pem: str = "",
    credentials: tuple[str, str] | None = None,
    platforms: Sequence[str] | None = DEFAULT_PLATFORMS,
    timeout: float = 600.0,
) -> WarmedImage:
    """Pull ``<project>/<repository>:<reference>`` (a tag or ``sha256:...``) through Harbor at ``registry_url``
    (Harbor's externalURL, e.g. ``https://harbor.example.com``); raise :class:`PrewarmError` on any failure.

    ``platforms``: which manifests of a multi-platform image to pull (``os/arch[/variant]``); ``None`` pulls
    all. ``timeout``: seconds for the whole image (each request waits at most that long for data).
    ``ca_pem``: the CA that signs Harbor's certificate (else the system's).
    """
    started = time.monotonic()
    image = f"{project}/{repository}{'@' if reference.startswith('sha256:') else ':'}{reference}"
    puller = _Puller(registry_url, f"{project}/{repository}", image, ca_pem, credentials, timeout)
    try:
        digest = puller.resolve(reference)
        body, media_type = puller.manifest(digest)
        children = _pick(body, media_type, platforms, image) if media_type in INDEX_TYPES else [(digest, "")]
        blobs, size = 0, 0
        for child, _platform in children:
            manifest, child_type = (body, media_type) if child == digest and media_type not in INDEX_TYPES \
                else puller.manifest(child)
            if child_type in INDEX_TYPES:
                raise PrewarmError(image, f"manifest {child} is an index inside an index (not supported)")
            for blob in _blobs(manifest, image):
                size += puller.blob(blob)
                blobs += 1
        if not reference.startswith("sha256:"):
            puller.resolve(reference)  # links the tag once the manifest is stored (HARBOR-BEHAVIOUR.md)
    finally:
        puller.close()
    return WarmedImage(image, digest, len(children), blobs, size, round(time.monotonic() - started, 3),
                       tuple(p for _, p in children if p))


def _pick(index: dict[str, Any], media_type: str, platforms: Sequence[str] | None,
          image: str) -> list[tuple[str, str]]:
    """The (digest, platform) of each index entry to pull."""
    entries = []
    for m in index.get("manifests") or []:
        p = m.get("platform") or {}
        name = "/".join(x for x in (p.get("os"), p.get("architecture"), p.get("variant")) if x)
        entries.append((str(m.get("digest")), name))
    if platforms is None:
        return entries
    wanted = [(d, p) for d, p in entries if p in platforms or p.rsplit("/", 1)[0] in platforms]
    if not wanted:
        have = ", ".join(p for _, p in entries) or "none"
        raise PrewarmError(image, f"the {media_type} index has no manifest for {', '.join(platforms)} "
                                  f"(it has: {have})")
    return wanted


def _blobs(manifest: dict[str, Any], image: str) -> list[str]:
    """The config and layer digests of an image manifest."""
    if manifest.get("schemaVersion") != 2 or "layers" not in manifest:
        raise PrewarmError(image, "the manifest is not an image manifest (schema 2 with layers)")
    config = (manifest.get("config") or {}).get("digest")
    out = [config] if config else []
    out += [layer["digest"] for layer in manifest["layers"] if layer.get("digest")]
    return list(dict.fromkeys(out))


class _Puller:
    """Registry API calls for one repository, with Harbor's token flow; one HTTP session."""

    def __init__(self, registry_url: str, repo: str, image: str, ca_pem: str,
                 credentials: tuple[str, str] | None, timeout: float) -> None:
        import requests  # here, not at module level: the program imports this module without pulling

        parts = urlsplit(registry_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PrewarmError(image, f"the registry URL must be http(s)://host[:port], got {registry_url!r}")
        self.base = f"{parts.scheme}://{parts.netloc}/v2/{quote(repo, safe='/')}"
        self.repo, self.image, self.credentials = repo, image, credentials
        self.deadline = time.monotonic() + timeout
        self.timeout = timeout
        self.session = requests.Session()
        self.token = ""
        self._ca_dir: Any = None
        # Passed on every request: requests lets REQUESTS_CA_BUNDLE override a Session's own `verify`.
        self.verify: bool | str = True
        if ca_pem:
            import tempfile

            self._ca_dir = tempfile.TemporaryDirectory(prefix="prewarm-ca-")
            path = f"{self._ca_dir.name}/ca.crt"
            with open(path, "w", encoding="utf-8") as f:
                f.write(ca_pem)
            self.verify = path

    def close(self) -> None:
        self.session.close()
        if self._ca_dir is not None:
            self._ca_dir.cleanup()

    def _send(self, method: str, path: str, accept: str = "", stream: bool = False) -> Any:
        import requests

        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise PrewarmError(self.image, f"{method} {path}: no time left (timeout {self.timeout:g}s)")
        headers = {"User-Agent": "harbor-cache-prewarm", **({"Accept": accept} if accept else {})}
        for attempt in (1, 2):
            if self.token:
                headers["Authorization"] = f"Bearer {self.token}"
            try:
                resp = self.session.request(method, self.base + path, headers=headers, stream=stream,
                                            verify=self.verify, timeout=(min(30.0, remaining), remaining))
            except requests.RequestException as exc:
                raise PrewarmError(self.image, f"{method} {self.base}{path}: Harbor not reachable: "
                                               f"{exc.__class__.__name__}: {str(exc)[:300]}") from None
            if resp.status_code == 401 and attempt == 1:
                resp.close()
                self._login(resp.headers.get("WWW-Authenticate", ""))
                continue
            if resp.status_code >= 400:
                if method == "HEAD":  # a HEAD's answer has no body: ask again for the error document
                    resp.close()
                    resp = self.session.request("GET", self.base + path, headers=headers, verify=self.verify,
                                                timeout=(min(30.0, remaining), remaining))
                    if resp.status_code < 400:
                        return resp
                raise PrewarmError(self.image, f"{method} {path} answered {_answer(resp)}")
            return resp
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    def _login(self, challenge: str) -> None:
        """A pull token from the Bearer realm the 401 named."""
        import requests

        parsed = parse_challenge(challenge)
        fields = parsed.params if parsed else {}
        if parsed is None or parsed.scheme != "bearer" or "realm" not in fields:
            raise PrewarmError(self.image, f"Harbor answered 401 without a Bearer realm ({challenge or 'none'}): "
                                           "check the credentials or that the project is public")
        query = {"service": fields.get("service", ""), "scope": f"repository:{self.repo}:pull"}
        try:
            resp = self.session.get(fields["realm"], params=query, auth=self.credentials,
                                    verify=self.verify, timeout=30.0)
        except requests.RequestException as exc:
            raise PrewarmError(self.image, f"the token realm {fields['realm']} is not reachable from here: "
                                           f"{exc.__class__.__name__}: {str(exc)[:300]}") from None
        if resp.status_code >= 400:
            raise PrewarmError(self.image, f"the token realm {fields['realm']} answered {_answer(resp)}")
        body = resp.json() if resp.content else {}
        self.token = str(body.get("token") or body.get("access_token") or "")
        if not self.token:
            raise PrewarmError(self.image, f"the token realm {fields['realm']} gave no token")

    def resolve(self, reference: str) -> str:
        """The digest a tag (or digest) points at: HEAD, as containerd asks; a GET when HEAD names none."""
        if reference.startswith("sha256:"):
            return reference
        accept = ", ".join(MANIFEST_TYPES)
        resp = self._send("HEAD", f"/manifests/{quote(reference, safe='')}", accept)
        digest = resp.headers.get("Docker-Content-Digest", "")
        resp.close()
        if digest:
            return str(digest)
        resp = self._send("GET", f"/manifests/{quote(reference, safe='')}", accept)
        return "sha256:" + hashlib.sha256(resp.content).hexdigest()

    def manifest(self, digest: str) -> tuple[dict[str, Any], str]:
        """A manifest by digest (checked) and its media type."""
        resp = self._send("GET", f"/manifests/{digest}", ", ".join(MANIFEST_TYPES))
        raw = resp.content
        if "sha256:" + hashlib.sha256(raw).hexdigest() != digest:
            raise PrewarmError(self.image, f"manifest {digest}: the bytes Harbor sent do not match the digest")
        try:
            body = resp.json()
        except ValueError:
            raise PrewarmError(self.image, f"manifest {digest} is not JSON") from None
        media = str(body.get("mediaType") or resp.headers.get("Content-Type", "").split(";")[0])
        return body, media

    def blob(self, digest: str) -> int:
        """Read one blob to the end (Harbor stores it as it streams); its size. The digest is checked."""
        algorithm, _, expected = digest.partition(":")
        if algorithm != "sha256":
            raise PrewarmError(self.image, f"blob {digest}: only sha256 digests are supported")
        resp = self._send("GET", f"/blobs/{digest}", stream=True)
        hasher, size = hashlib.sha256(), 0
        try:
            for chunk in resp.iter_content(_CHUNK):
                hasher.update(chunk)
                size += len(chunk)
        except Exception as exc:  # noqa: BLE001 - any transport failure mid-blob is this blob's failure
            raise PrewarmError(self.image, f"blob {digest}: the transfer broke after {size} bytes: "
                                           f"{exc.__class__.__name__}: {str(exc)[:300]}") from None
        finally:
            resp.close()
        if hasher.hexdigest() != expected:
            raise PrewarmError(self.image, f"blob {digest}: the {size} bytes Harbor sent do not match the digest")
        return size


def _answer(resp: Any) -> str:
    """``<status> <code>: <message>`` from a registry error body (the upstream's answer, for a proxy project)."""
    try:
        first = (resp.json().get("errors") or [{}])[0]
        detail = f"{first.get('code', '')}: {first.get('message', '')}".strip(": ")
    except (ValueError, AttributeError, IndexError, TypeError):
        detail = (resp.text or "").strip()[:300]
    return f"{resp.status_code} {resp.reason or ''}".strip() + (f" ({detail})" if detail else "")
