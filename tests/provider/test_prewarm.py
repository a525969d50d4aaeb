# The SDK declares CreateResult.outs Optional; these tests index them directly.
# mypy: disable-error-code="index,arg-type,dict-item"
"""Pre-warm against real registries on loopback: an upstream, a pull-through cache and Harbor's pull path in
front (tests/provider/local_registries.py), and the Harbor double's artifact API reading the cache's storage."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.prewarm import PrewarmError, warm_image
from components.prewarm_resource import PrewarmProvider
from components.verification import artifact_in_project, harbor_image
from lab.harbor_double import HarborDouble
from tests.provider.conftest import configured
from tests.provider.local_registries import HarborPath, Registries, local_registries, push_image, push_index
from tests.provider.test_double_world import World, _world, world  # noqa: F401 - fixtures
from tests.support.requirements import require


@pytest.fixture
def regs(tmp_path: Path) -> Iterator[tuple[Registries, HarborPath]]:
    import shutil

    require([] if shutil.which("docker-registry") else ["docker-registry"], "the pre-warm provider tests",
             "apt-get install docker-registry")
    with local_registries(tmp_path) as registries, HarborPath(registries.mirror_url) as path:
        yield registries, path


def _host(regs: tuple[Registries, HarborPath]) -> str:
    return regs[0].upstream_url.removeprefix("http://")


def _blob_gets(registries: Registries, since: int) -> list[str]:
    return [p for m, p, _ in registries.upstream_requests()[since:] if m == "GET" and "/blobs/" in p]


def test_warm_image_fills_the_cache(regs: tuple[Registries, HarborPath]) -> None:
    registries, path = regs
    layers = [os.urandom(200_000), os.urandom(3_000)]
    digest = push_image(registries.upstream_url, "quickstart/hello", "v1", layers)
    warmed = warm_image(path.url, "mif", "quickstart/hello", "v1")
    assert warmed.digest == digest and warmed.blobs == 3 and warmed.bytes > 203_000
    assert path.tokens >= 1  # Harbor's token flow was followed
    registries.stop_upstream()  # a warm cache answers without the upstream
    again = warm_image(path.url, "mif", "quickstart/hello", f"{digest}")
    assert again.digest == digest and again.bytes == warmed.bytes


def test_platforms_of_an_index(regs: tuple[Registries, HarborPath]) -> None:
    registries, path = regs
    digests = push_index(registries.upstream_url, "multi/app", "v2",
                         {"linux/amd64": [b"a" * 1000], "linux/arm64": [b"b" * 2000]})
    start = len(registries.upstream_requests())
    one = warm_image(path.url, "mif", "multi/app", "v2")
    assert one.digest == digests["index"] and one.platforms == ("linux/amd64",) and one.manifests == 1
    arm = f"/v2/multi/app/manifests/{digests['linux/arm64']}"
    assert all(p != arm for _, p, _ in registries.upstream_requests()[start:])  # the other platform stays cold
    both = warm_image(path.url, "mif", "multi/app", "v2", platforms=None)
    assert both.manifests == 2 and set(both.platforms) == {"linux/amd64", "linux/arm64"}
    with pytest.raises(PrewarmError, match=r"no manifest for linux/s390x \(it has: linux/amd64, linux/arm64\)"):
        warm_image(path.url, "mif", "multi/app", "v2", platforms=["linux/s390x"])


def test_a_missing_image_names_the_image_and_the_answer(regs: tuple[Registries, HarborPath]) -> None:
    _, path = regs
    with pytest.raises(PrewarmError) as caught:
        warm_image(path.url, "mif", "quickstart/nothere", "v9")
    assert caught.value.image == "mif/quickstart/nothere:v9"
    assert "404" in str(caught.value) and "MANIFEST_UNKNOWN" in str(caught.value)


def _props(regs: tuple[Registries, HarborPath], images: list[str], **over: Any) -> dict[str, Any]:
    return {"registry_url": regs[1].url, "username": "admin", "ca_pem": "", "platforms": ["linux/amd64"],
            "fail_on_error": False, "timeout": 60.0,
            "targets": [{"image": i, "project": "mif", "upstream": "up"} for i in images], **over}


def test_provider_warms_reports_failures_and_retries_only_what_is_new(regs: tuple[Registries, HarborPath]) -> None:
    registries, _ = regs
    host = _host(regs)
    push_image(registries.upstream_url, "quickstart/hello", "v1", [os.urandom(50_000)])
    push_image(registries.upstream_url, "quickstart/hello", "v2", [os.urandom(50_000)])
    provider = configured(PrewarmProvider)
    props = _props(regs, [f"{host}/quickstart/hello:v1", f"{host}/quickstart/gone:v1"])
    created = provider.create(props)
    assert created.outs["warm"] == [f"{host}/quickstart/hello:v1"]
    assert list(created.outs["failed"]) == [f"{host}/quickstart/gone:v1"]
    assert "mif/quickstart/gone:v1" in created.outs["failed"][f"{host}/quickstart/gone:v1"]
    assert "404" in created.outs["failed"][f"{host}/quickstart/gone:v1"]

    same = _props(regs, [f"{host}/quickstart/hello:v1"])
    done = {**created.outs, "targets": same["targets"], "failed": {}}  # as after a run of `same`
    assert provider.diff("prewarm", done, same).changes is False  # nothing changed: no pull
    assert provider.diff("prewarm", created.outs, props).changes is True  # a failure is retried
    grown = _props(regs, [f"{host}/quickstart/hello:v1", f"{host}/quickstart/hello:v2"])
    assert provider.diff("prewarm", done, grown).changes is True
    start = len(registries.upstream_requests())
    updated = provider.update("prewarm", done, grown)
    assert updated.outs["warm"] == [f"{host}/quickstart/hello:v1", f"{host}/quickstart/hello:v2"]
    pulled = "\n".join(p for _, p, _ in registries.upstream_requests()[start:])
    assert "/quickstart/hello/manifests/v2" in pulled and "/manifests/v1" not in pulled  # only the new one
    moved = _props(regs, [f"{host}/quickstart/hello:v1"], registry_url=regs[1].url + "/")
    assert provider.diff("prewarm", done, moved).changes is True  # another endpoint: all again


def test_fail_on_error_fails_naming_every_image(regs: tuple[Registries, HarborPath]) -> None:
    host = _host(regs)
    provider = configured(PrewarmProvider)
    with pytest.raises(RuntimeError, match=r"prewarm.failOnError is true\):\n  pre-warm of mif/a/b:v1 failed"):
        provider.create(_props(regs, [f"{host}/a/b:v1"], fail_on_error=True))


def test_the_double_sees_the_warmed_artifact(regs: tuple[Registries, HarborPath], world: World) -> None:  # noqa: F811
    registries, path = regs
    digest = push_image(registries.upstream_url, "quickstart/hello", "v1", [os.urandom(10_000)])
    world.proxy_project("mif", metadata={"public": "true"})
    double: HarborDouble = world.double
    double.set_settings(proxy_storage={"mif": str(registries.mirror_data)})
    image = harbor_image(f"{_host(regs)}/quickstart/hello:v1", "mif")
    with pytest.raises(Exception, match="cache bypassed"):
        artifact_in_project(double.url, image)
    warm_image(path.url, "mif", "quickstart/hello", "v1")
    assert artifact_in_project(double.url, image) == digest
