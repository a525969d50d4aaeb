"""The verification's API proof against the Harbor double, whose getArtifact answers from the storage of the
registry that really holds the cache (setting ``proxy_storage``): an artifact exists only after a pull."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.verification import VerificationError, artifact_in_project, harbor_image
from tests.provider.test_double_world import World, _world, world  # noqa: F401 - fixtures

IMG = harbor_image("10.252.0.1:5000/quickstart/hello:v1", "mif")
DIGEST = "sha256:" + "b" * 64


def store_manifest(root: Path, repository: str, tag: str, digest: str) -> None:
    """What a distribution registry writes when a pull through it stores ``repository:tag``."""
    repo = root / "docker" / "registry" / "v2" / "repositories" / repository / "_manifests"
    for link in (repo / "tags" / tag / "current" / "link",
                 repo / "revisions" / "sha256" / digest.removeprefix("sha256:") / "link"):
        link.parent.mkdir(parents=True, exist_ok=True)
        link.write_text(digest)


def test_artifact_exists_only_after_the_pull(world: World, tmp_path: Path) -> None:  # noqa: F811
    world.proxy_project("mif", metadata={"public": "true"})
    world.double.set_settings(proxy_storage={"*": str(tmp_path)})
    with pytest.raises(VerificationError, match="cache bypassed"):
        artifact_in_project(world.double.url, IMG)
    store_manifest(tmp_path, "quickstart/hello", "v1", DIGEST)
    assert artifact_in_project(world.double.url, IMG) == DIGEST
    by_digest = harbor_image(f"10.252.0.1:5000/quickstart/hello@{DIGEST}", "mif")
    assert artifact_in_project(world.double.url, by_digest) == DIGEST
    body = world.call("GET", "/projects/mif/repositories/quickstart%252Fhello/artifacts/v1", auth=None).json()
    assert body["repository_name"] == "mif/quickstart/hello" and body["tags"][0]["name"] == "v1"


def test_private_project_is_named_and_unmapped_project_holds_nothing(world: World,  # noqa: F811
                                                                     tmp_path: Path) -> None:
    world.proxy_project("mif", metadata={"public": "false"})
    store_manifest(tmp_path, "quickstart/hello", "v1", DIGEST)
    world.double.set_settings(proxy_storage={"other": str(tmp_path)})
    with pytest.raises(VerificationError, match="not public"):
        artifact_in_project(world.double.url, IMG)
    assert world.call("GET", "/projects/mif/repositories/quickstart%252Fhello/artifacts/v1").status_code == 404
    world.double.set_settings(proxy_storage={"mif": str(tmp_path)})
    assert world.call("GET", "/projects/mif/repositories/quickstart%252Fhello/artifacts/v1").status_code == 200
