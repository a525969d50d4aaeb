"""Pre-warm one image in the cache for the matrix's ``prewarmed`` case, with harbor-cache's own pre-warm
(``components.prewarm.warm_image``, what the program's pre-warm resource runs): through the proxy project's registry
API with Harbor's token flow, manifest then every blob, read to the end and discarded."""

from __future__ import annotations

from typing import Any

from components.prewarm import warm_image

IMPLEMENTATION = "components.prewarm.warm_image"


def prewarm(registry_url: str, project: str, repo: str, tag: str) -> dict[str, Any]:
    """Warm ``<project>/<repo>:<tag>`` through the cache at ``registry_url``; what warm_image reports."""
    return warm_image(registry_url, project, repo, tag).to_dict()
