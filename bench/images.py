"""Test images for the pull matrix, made locally: N layers of random bytes in an OCI layout, pushed with skopeo.

Each layer is one file of random bytes (incompressible, like most real layer content after compression), written
as a gzip stream at level 0 (stored blocks: building a 1 GB image must not take minutes; a real compressed
layer of random data is the same size). Bytes are seeded by the repository, version and layer index, so a
version ``v2`` built with ``shared_below=True`` has the same lower layers as ``v1`` (same digests) and a new
top layer: the rolling-update shape. Layouts are kept in the work directory and reused across runs.
"""

from __future__ import annotations

import hashlib
import json
import platform
import random
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from bench.common import run

MiB = 1024 * 1024
CHUNK = 4 * MiB
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"


@dataclass(frozen=True)
class Layer:
    """One built layer: compressed digest and size, uncompressed digest (diff_id)."""

    digest: str
    size: int
    diff_id: str


@dataclass(frozen=True)
class BuiltImage:
    """An image in an OCI layout: repository, tag, layers (bottom first), config and manifest digests."""

    layout: Path
    repo: str
    tag: str
    layers: tuple[Layer, ...]
    config_digest: str
    manifest_digest: str

    @property
    def blob_digests(self) -> list[str]:
        """Every blob a pull fetches: the config and the layers."""
        return [self.config_digest, *(layer.digest for layer in self.layers)]

    @property
    def layer_bytes(self) -> int:
        """Compressed bytes of all layers."""
        return sum(layer.size for layer in self.layers)


class _Hashing:
    """A write-only stream that hashes and counts what passes through to ``sink``."""

    def __init__(self, sink: BinaryIO | _Gzip) -> None:
        self.sink, self.sha, self.size = sink, hashlib.sha256(), 0

    def write(self, data: bytes) -> int:
        self.sha.update(data)
        self.size += len(data)
        self.sink.write(data)
        return len(data)


class _Gzip:
    """gzip (level 0) of what is written, into ``sink``."""

    def __init__(self, sink: _Hashing) -> None:
        self.sink = sink
        self.z = zlib.compressobj(0, zlib.DEFLATED, 31)

    def write(self, data: bytes) -> int:
        self.sink.write(self.z.compress(data))
        return len(data)

    def close(self) -> None:
        self.sink.write(self.z.flush())


class _RandomReader:
    """``read(n)``: deterministic pseudo-random bytes (fast; not for secrets)."""

    def __init__(self, seed: str) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - test payload, not a secret

    def read(self, n: int) -> bytes:
        return self.rng.randbytes(min(n, CHUNK))


def _write_layer(blobs: Path, seed: str, name: str, size: int) -> Layer:
    """A layer holding one file of ``size`` random bytes; written to ``blobs`` under its digest."""
    tmp = blobs / f".{seed}.tmp"
    with open(tmp, "wb") as f:
        compressed = _Hashing(f)
        gz = _Gzip(compressed)
        tar_stream = _Hashing(gz)
        with tarfile.open(fileobj=tar_stream, mode="w|", format=tarfile.PAX_FORMAT) as tar:  # type: ignore[call-overload]
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = size, 0, 0o644
            tar.addfile(info, _RandomReader(seed))
        gz.close()
    digest = compressed.sha.hexdigest()
    tmp.rename(blobs / digest)
    return Layer(f"sha256:{digest}", compressed.size, f"sha256:{tar_stream.sha.hexdigest()}")


def _put(blobs: Path, data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    (blobs / digest).write_bytes(data)
    return f"sha256:{digest}"


def build(dest: Path, repo: str, tag: str, size_mb: int, layers: int, top_seed: str = "") -> BuiltImage:
    """Build (or reuse) ``repo:tag``: ``layers`` layers sharing ``size_mb`` MiB; ``top_seed`` varies only the top one.

    Two builds of the same repo, size and layer count with different ``top_seed`` share every layer but the top.
    """
    if layers < 1 or size_mb < 1:
        raise ValueError(f"an image needs at least 1 MiB and 1 layer (got {size_mb} MiB, {layers} layers)")
    record = dest / "bench-image.json"
    if record.exists():
        data = json.loads(record.read_text())
        if data.get("key") == [repo, tag, size_mb, layers, top_seed]:
            return _from_record(dest, data)
    blobs = dest / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)
    per_layer = size_mb * MiB // layers
    built = []
    for i in range(layers):
        seed = f"{repo}/{size_mb}/{layers}/{i}" + (f"/{top_seed}" if i == layers - 1 and top_seed else "")
        built.append(_write_layer(blobs, hashlib.sha256(seed.encode()).hexdigest()[:16], f"layer-{i}.bin",
                                  per_layer))
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    config = json.dumps({"architecture": arch, "os": "linux", "config": {"Cmd": ["/layer-0.bin"]},
                         "rootfs": {"type": "layers", "diff_ids": [la.diff_id for la in built]}}).encode()
    config_digest = _put(blobs, config)
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest,
                   "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": la.digest,
                    "size": la.size} for la in built],
    }).encode()
    manifest_digest = _put(blobs, manifest)
    index = {"schemaVersion": 2, "manifests": [{"mediaType": OCI_MANIFEST, "digest": manifest_digest,
                                                "size": len(manifest),
                                                "annotations": {"org.opencontainers.image.ref.name": tag}}]}
    (dest / "index.json").write_text(json.dumps(index))
    (dest / "oci-layout").write_text(json.dumps({"imageLayoutVersion": "1.0.0"}))
    image = BuiltImage(dest, repo, tag, tuple(built), config_digest, manifest_digest)
    record.write_text(json.dumps({"key": [repo, tag, size_mb, layers, top_seed], "config": config_digest,
                                  "manifest": manifest_digest, "layers": [la.__dict__ for la in built]}))
    return image


def _from_record(dest: Path, data: dict[str, object]) -> BuiltImage:
    repo, tag = str(data["key"][0]), str(data["key"][1])  # type: ignore[index]
    layers = tuple(Layer(**la) for la in data["layers"])  # type: ignore[attr-defined]
    return BuiltImage(dest, repo, tag, layers, str(data["config"]), str(data["manifest"]))


def push(image: BuiltImage, registry: str) -> str:
    """Copy the layout to ``registry`` (host:port, plain HTTP); returns the pushed reference."""
    ref = f"{registry}/{image.repo}:{image.tag}"
    run(["skopeo", "copy", "--insecure-policy", "--dest-tls-verify=false", f"oci:{image.layout}:{image.tag}",
         f"docker://{ref}"], timeout=1200)
    return ref
