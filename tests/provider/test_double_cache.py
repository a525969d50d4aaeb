"""The double's cache view (handlers/cache.py, pulls.py): what a proxy-cache project holds comes from the pull
path's pull log and its registry's storage, as Harbor accounts it. One test per endpoint of docs/harbor-double.md's
"What the cache holds" rows; the sandbox's real pull path is covered by tests/e2e/test_report.py."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from lab.harbor_double.pulls import stamp
from lab.testbed.image import build_oci_image
from tests.provider import test_double_world as fixtures
from tests.provider.test_double_world import World, errors

_world, world = fixtures._world, fixtures.world
REPO = "quickstart/hello"
T0 = int(time.time()) + 3600.25  # pulls count from their project's creation on


class Cache:
    """A registry storage holding one image, and a pull log the test appends to."""

    def __init__(self, base: Path) -> None:
        layout = base / "layout"
        self.digest = build_oci_image(layout, "v1", b"cached bytes\n")
        self.root = base / "storage"
        v2 = self.root / "docker" / "registry" / "v2"
        self.sizes = {}
        for blob in (layout / "blobs" / "sha256").iterdir():
            data = v2 / "blobs" / "sha256" / blob.name[:2] / blob.name / "data"
            data.parent.mkdir(parents=True)
            data.write_bytes(blob.read_bytes())
            self.sizes[f"sha256:{blob.name}"] = blob.stat().st_size
        link = v2 / "repositories" / REPO / "_manifests" / "tags" / "v1" / "current" / "link"
        link.parent.mkdir(parents=True)
        link.write_text(self.digest)
        self.log = base / "harbor-pulls.log"
        self.log.write_text("")

    def served(self, when: float, method: str, uri: str, status: int = 200) -> None:
        with self.log.open("a") as fh:
            fh.write(f"{when:.3f} {method} {uri} {status}\n")


@pytest.fixture
def cache(world: World, tmp_path: Path) -> Cache:
    c = Cache(tmp_path)
    world.double.set_settings(proxy_storage={"*": str(c.root)}, pull_log=str(c.log))
    return c


def _pull(cache: Cache, project: str, when: float) -> None:
    """A containerd pull: resolve the tag (HEAD), then GET the manifest by digest, then the blobs."""
    cache.served(when, "HEAD", f"/v2/{project}/{REPO}/manifests/v1")
    cache.served(when + 0.1, "GET", f"/v2/{project}/{REPO}/manifests/{cache.digest}")
    cache.served(when + 0.2, "GET", f"/v2/{project}/{REPO}/blobs/sha256:{'0' * 64}")


def test_list_repositories_counts_manifest_gets_not_head_requests(world: World, cache: Cache) -> None:
    world.proxy_project("cache")
    assert world.call("GET", "/projects/cache/repositories").json() == []
    _pull(cache, "cache", T0)
    _pull(cache, "cache", T0 + 10)
    cache.served(T0 + 20, "HEAD", f"/v2/cache/{REPO}/manifests/v1")  # a node that holds it: no pull
    cache.served(T0 + 21, "GET", f"/v2/cache/{REPO}/manifests/v9", 404)  # not cached: nothing
    repos = world.call("GET", "/projects/cache/repositories", params={"sort": "-pull_count"}).json()
    assert [(r["name"], r["pull_count"], r["artifact_count"]) for r in repos] == [(f"cache/{REPO}", 2, 1)]
    assert repos[0]["creation_time"] == stamp(T0)


def test_pulls_count_for_the_project_in_their_path_and_proxy_projects_only(world: World, cache: Cache) -> None:
    world.proxy_project("cache")
    world.proxy_project("other")
    world.created("/projects", {"project_name": "plain", "metadata": {"public": "true"}})
    for project in ("other", "plain"):
        _pull(cache, project, T0)
    assert world.call("GET", "/projects/cache/repositories").json() == []
    assert world.call("GET", "/projects/other/repositories").json()[0]["pull_count"] == 1
    assert world.call("GET", "/projects/plain/repositories").json() == []  # a plain project is not a cache


def test_get_repository(world: World, cache: Cache) -> None:
    world.proxy_project("cache", metadata={"public": "false"})
    _pull(cache, "cache", T0)
    repo = world.call("GET", "/projects/cache/repositories/quickstart%252Fhello").json()
    assert (repo["name"], repo["pull_count"], repo["artifact_count"]) == (f"cache/{REPO}", 1, 1)
    assert errors(world.call("GET", "/projects/cache/repositories/nothing%252Fhere"))[0] == 404
    anonymous = world.call("GET", "/projects/cache/repositories/quickstart%252Fhello", auth=None)
    assert anonymous.status_code == 401  # a private project, as Harbor answers anonymous callers


def test_list_artifacts_has_size_tags_and_pull_time(world: World, cache: Cache) -> None:
    world.proxy_project("cache")
    _pull(cache, "cache", T0)
    _pull(cache, "cache", T0 + 30)
    (artifact,) = world.call("GET", "/projects/cache/repositories/quickstart%252Fhello/artifacts").json()
    assert artifact["digest"] == cache.digest and artifact["size"] == sum(cache.sizes.values())
    assert [t["name"] for t in artifact["tags"]] == ["v1"]
    assert (artifact["push_time"], artifact["pull_time"]) == (stamp(T0), stamp(T0 + 30.1))
    untagged = world.call("GET", "/projects/cache/repositories/quickstart%252Fhello/artifacts",
                          params={"with_tag": "false"}).json()
    assert "tags" not in untagged[0]


def test_project_summary_and_quota_count_the_cached_bytes(world: World, cache: Cache) -> None:
    rid = world.registry("up")
    pid = world.proxy_project("cache", registry_id=rid, storage_limit=10_000_000)
    empty = world.call("GET", "/projects/cache/summary", headers={"X-Is-Resource-Name": "true"}).json()
    assert empty["repo_count"] == 0 and empty["quota"] == {"hard": {"storage": 10_000_000}, "used": {"storage": 0}}
    _pull(cache, "cache", T0)
    summary = world.call("GET", f"/projects/{pid}/summary").json()
    assert summary["repo_count"] == 1 and summary["registry"]["id"] == rid
    assert summary["quota"]["used"] == {"storage": sum(cache.sizes.values())}
    quota = world.call("GET", "/quotas", params={"reference_id": str(pid)}).json()[0]
    assert quota["used"] == {"storage": sum(cache.sizes.values())}
    assert world.call("GET", f"/projects/{pid}").json()["repo_count"] == 1


def test_a_restarted_double_still_knows_every_pull(world: World, cache: Cache) -> None:
    """The log is the record (never truncated by the test bed): the view is rebuilt from it when it changes."""
    world.proxy_project("cache")
    _pull(cache, "cache", T0)
    first = world.call("GET", "/projects/cache/repositories").json()
    world.double.set_settings(pull_log="")
    assert world.call("GET", "/projects/cache/repositories").json() == []
    world.double.set_settings(pull_log=str(cache.log))
    assert world.call("GET", "/projects/cache/repositories").json() == first
    assert json.loads(json.dumps(first))[0]["id"] >= 100000


def test_delete_repository_forgets_a_learned_repository_until_it_is_pulled_again(world: World, cache: Cache) -> None:
    """What forceDestroy does before deleting a proxy project: the repositories go, the project can go."""
    world.proxy_project("cache")
    time.sleep(0.05)
    _pull(cache, "cache", time.time())
    time.sleep(0.3)  # the pull's lines are stamped up to 0.2 s after its start
    assert world.call("DELETE", "/projects/cache/repositories/quickstart%252Fhello").status_code == 200
    assert world.call("GET", "/projects/cache/repositories").json() == []
    assert errors(world.call("DELETE", "/projects/cache/repositories/quickstart%252Fhello"))[0] == 404
    _pull(cache, "cache", time.time() + 1)
    (repo,) = world.call("GET", "/projects/cache/repositories").json()
    assert repo["pull_count"] == 1


def test_a_project_made_again_under_the_same_name_starts_empty(world: World, cache: Cache) -> None:
    world.proxy_project("cache", registry_id=world.registry("first"))
    time.sleep(0.05)
    _pull(cache, "cache", time.time())
    time.sleep(0.3)  # the pull's lines are stamped up to 0.2 s after its start
    assert world.call("DELETE", "/projects/cache/repositories/quickstart%252Fhello").status_code == 200
    assert world.call("DELETE", "/projects/cache").status_code == 200
    time.sleep(0.01)
    world.proxy_project("cache", registry_id=world.registry("second"))
    assert world.call("GET", "/projects/cache/repositories").json() == []
