"""A ~200 MB test image: one layer of random bytes, built by hand (OCI layout) and pushed with skopeo."""

from __future__ import annotations

import json
import os
from pathlib import Path

from bench.common import run
from lab.testbed import build_oci_image

REPO = "bench/big"
TAG = "v1"


def image_layout(dest: Path, size_mb: int) -> Path:
    """Build (once; kept in ``dest``) an OCI layout whose single layer holds ``size_mb`` MiB of random bytes."""
    stamp = dest / "bench-size"
    if stamp.exists() and stamp.read_text() == str(size_mb) and (dest / "index.json").exists():
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    build_oci_image(dest, tag=TAG, payload=os.urandom(size_mb * 1024 * 1024))
    stamp.write_text(str(size_mb))
    return dest


def layer_digest(layout: Path) -> tuple[str, int]:
    """Digest and compressed size of the layout's (only) layer."""
    index = json.loads((layout / "index.json").read_text())
    manifest_digest = index["manifests"][0]["digest"].split(":")[1]
    manifest = json.loads((layout / "blobs" / "sha256" / manifest_digest).read_text())
    layer = manifest["layers"][0]
    return str(layer["digest"]), int(layer["size"])


def push(layout: Path, registry: str) -> str:
    """Copy the layout to ``registry`` (host:port, plain HTTP); returns the pushed reference."""
    ref = f"{registry}/{REPO}:{TAG}"
    run(["skopeo", "copy", "--insecure-policy", "--dest-tls-verify=false", f"oci:{layout}:{TAG}",
         f"docker://{ref}"], timeout=600)
    return ref
