"""nodeVerification: prove that a node's pull came through Harbor, or say which link broke.

A pull by the upstream name succeeds even when the cache is bypassed (containerd falls back to the upstream
after any mirror failure), so its success proves nothing. The verification therefore

1. pulls by Harbor's name (``<node endpoint>/<project>/<repository>:<tag>``, what the Kyverno rewrite
   produces): that name has no fallback, so it fails when the node cannot use Harbor;
2. asks Harbor's API, anonymously as a node would (the proxy project is public), for that artifact in the
   proxy project (``GET /api/v2.0/projects/{p}/repositories/{r}/artifacts/{ref}``, ``r`` double-encoded);
3. pulls by the upstream name (what kubelet asks for), which must succeed too.

A failure names the link: TLS trust, token realm, project not public, Harbor down, or not in the project.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import quote

from components.anonymous_http import anonymous_get
from components.rules import image_registry


class VerificationError(Exception):
    """The cache is not proven: the message names the node, the image and the link that broke."""


@dataclass(frozen=True)
class HarborImage:
    """An upstream image as Harbor's proxy project names it."""

    project: str
    repository: str  # inside the project, e.g. ``quickstart/hello``
    reference: str  # a tag or a digest

    def name(self, node_endpoint: str) -> str:
        """``<node endpoint>/<project>/<repository>`` with ``:tag`` or ``@digest``."""
        sep = "@" if ":" in self.reference else ":"
        return f"{node_endpoint}/{self.project}/{self.repository}{sep}{self.reference}"

    def api_path(self) -> str:
        """The artifact's API path; Harbor unescapes the repository name twice (``lib%252Fhello``)."""
        repo = quote(quote(self.repository, safe=""), safe="")
        return f"/api/v2.0/projects/{quote(self.project, safe='')}/repositories/{repo}/artifacts/" \
               f"{quote(self.reference, safe=':')}"


def harbor_image(upstream_image: str, project: str) -> HarborImage:
    """The proxy project's name for ``upstream_image`` (``host/repo:tag`` or ``host/repo@sha256:...``)."""
    host = image_registry(upstream_image)
    path = upstream_image[len(host) + 1:] if upstream_image.startswith(host + "/") else upstream_image
    if "@" in path:
        repo, _, ref = path.partition("@")
    else:
        head, _, last = path.rpartition("/")
        name, sep, tag = last.partition(":")
        repo, ref = (f"{head}/{name}" if head else name), (tag if sep else "latest")
    if host == "docker.io" and "/" not in repo:
        repo = f"library/{repo}"
    return HarborImage(project, repo, ref)


# containerd's words for each broken link, most specific first (the token fetch's own errors contain the
# dial and x509 words too, so the realm comes before TLS and "Harbor down").
_PULL_LINKS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("token realm", ("anonymous token", "fetch token", "failed to authorize", "/service/token"),
     "the node could not get a token from Harbor's token realm (its externalURL): the realm must be a URL nodes "
     "reach and trust"),
    ("TLS trust", ("x509", "certificate", "tls:", "http response to https client"),
     "the node does not trust Harbor's certificate (or speaks the wrong scheme): check the CA in the node's "
     "certs.d directory for Harbor's host and harbor-cache:harbor.tlsMode"),
    ("project not public", ("401 unauthorized", "403 forbidden", "unauthorized", "forbidden", "denied"),
     "Harbor refused the anonymous pull: the proxy project must be public (harbor-cache:proxyProject.public)"),
    ("Harbor down", ("connection refused", "no route to host", "i/o timeout", "timeout", "dial tcp",
                     "502 bad gateway", "503 service", "500 internal", "eof", "connection reset"),
     "the node could not reach Harbor at its node endpoint (Harbor down, or the endpoint is not reachable "
     "from nodes)"),
    ("not found", ("not found", "404"),
     "Harbor has no such image in the proxy project: the upstream lacks it, or the project is not a proxy cache "
     "of this upstream"),
)


def pull_failure(node: str, image: str, message: str) -> VerificationError:
    """The error for a failed pull by Harbor's name, naming the broken link."""
    low = message.lower()
    for link, words, meaning in _PULL_LINKS:
        if any(w in low for w in words):
            return VerificationError(f"node {node}: pull of {image} by Harbor's name failed ({link}): {meaning}; "
                                     f"containerd said: {message}")
    return VerificationError(f"node {node}: pull of {image} by Harbor's name failed: {message}")


def artifact_in_project(api_url: str, image: HarborImage, ca_pem: str = "", timeout: float = 15.0) -> str:
    """The artifact's digest from Harbor's API (anonymous GET); VerificationError naming the link otherwise."""
    url = api_url.rstrip("/").removesuffix("/api/v2.0") + image.api_path()
    where = f"{image.project}/{image.repository}:{image.reference}"
    try:
        status, _, raw = anonymous_get(url, ca_pem, timeout, accept="application/json")
        body = json.loads(raw or b"{}") if status < 400 else None
    except (OSError, ValueError) as exc:
        raise VerificationError(f"Harbor's API at {api_url} is not reachable to confirm {where} (Harbor down): "
                                f"{getattr(exc, 'reason', exc)}") from None
    if status == 404:
        raise VerificationError(f"Harbor's proxy project has no artifact {where} after the pull: the bytes did "
                                "not come through Harbor's cache (cache bypassed)")
    if status in (401, 403):
        raise VerificationError(f"Harbor refused an anonymous read of {where} ({status}): the proxy "
                                "project is not public (harbor-cache:proxyProject.public)")
    if status >= 400:
        raise VerificationError(f"Harbor's API answered {status} for {where}: Harbor is not healthy "
                                "(Harbor down)")
    digest = body.get("digest") if isinstance(body, dict) else None
    if not isinstance(digest, str) or not digest:
        raise VerificationError(f"Harbor's API answered for {where} without an artifact digest")
    return digest
