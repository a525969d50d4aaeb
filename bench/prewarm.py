"""Pre-warm one image in the cache for the matrix's ``prewarmed`` case.

Uses harbor-cache's own pre-warm (``components/prewarm*``, the function the program's PreWarm resource calls)
when it is there; otherwise a stand-in that does what pre-warm is specified to do (issue 20): pull the
manifest and every blob through the proxy project's registry API once, reading and discarding the bytes.
``details.prewarm_impl`` in results.json says which one ran.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

ACCEPT = ", ".join([
    "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json",
])
TOKEN_HEADER = {"Authorization": "Bearer bench"}  # the bed's pull path admits any token (Harbor's anonymous one)


def _get(url: str, accept: str | None = None) -> bytes:
    headers = dict(TOKEN_HEADER)
    if accept:
        headers["Accept"] = accept
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=600) as r:  # noqa: S310 - http on the bench bridge only
        return bytes(r.read())


def _drain(url: str) -> int:
    total = 0
    with urllib.request.urlopen(urllib.request.Request(url, headers=TOKEN_HEADER), timeout=600) as r:  # noqa: S310 - http on the bench bridge only
        while chunk := r.read(1 << 20):
            total += len(chunk)
    return total


def standin_warm(registry_url: str, project: str, repo: str, tag: str) -> int:
    """Pull ``repo:tag`` through the proxy project once (manifest, config and layers, all at once); bytes read."""
    base = f"{registry_url}/v2/{project}/{repo}"
    manifest = json.loads(_get(f"{base}/manifests/{tag}", ACCEPT))
    digests = [manifest["config"]["digest"], *(layer["digest"] for layer in manifest["layers"])]
    with ThreadPoolExecutor(max_workers=len(digests)) as pool:
        return sum(pool.map(lambda d: _drain(f"{base}/blobs/{d}"), digests))


def warmer() -> tuple[str, Callable[[str, str, str, str], object]]:
    """(name, function(registry_url, project, repo, tag)) of the pre-warm to use."""
    try:
        from components.prewarm import warm_image  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return "bench stand-in (components/prewarm not present)", standin_warm
    return "components.prewarm.warm_image", warm_image
