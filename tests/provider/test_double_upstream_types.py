"""The double takes the registry types real Harbor v2.14 does (an adapter each), and lets only the chart's
PERMITTED_REGISTRY_TYPES_FOR_PROXY_CACHE back a proxy-cache project (issue 17's many upstreams)."""

from __future__ import annotations

import pytest

from components import rules
from tests.provider import test_double_world as fixtures
from tests.provider.test_double_world import World, errors

_world, world = fixtures._world, fixtures.world


def _registry(world: World, name: str, kind: str, url: str) -> int:
    world.double.set_settings(upstream_map={url: world.upstream.url})
    resp = world.call("POST", "/registries", {"name": name, "type": kind, "url": url})
    assert resp.status_code == 201, resp.text
    return next(r["id"] for r in world.double.state["registries"].values() if r["name"] == name)


@pytest.mark.parametrize(("kind", "url"), [
    ("docker-hub", rules.DOCKER_HUB_URL), ("github-ghcr", "https://ghcr.io"), ("docker-registry", "https://quay.io"),
    ("google-gcr", "https://gcr.io"), ("azure-acr", "https://x.azurecr.io"), ("harbor", "https://harbor.example"),
])
def test_a_proxy_cache_project_on_each_permitted_type(world: World, kind: str, url: str) -> None:
    rid = _registry(world, kind, kind, url)
    resp = world.call("POST", "/projects", {"project_name": f"p-{kind}", "registry_id": rid,
                                            "metadata": {"public": "true"}})
    assert resp.status_code == 201, resp.text


def test_quay_is_an_adapter_but_no_proxy_cache(world: World) -> None:
    rid = _registry(world, "quay", "quay", "https://quay.io")  # the adapter exists: the registry is created
    body = {"project_name": "quay", "registry_id": rid, "metadata": {"public": "true"}}
    assert errors(world.call("POST", "/projects", body)) == (400, "BAD_REQUEST", "unsupported registry type quay")
    assert "quay" not in rules.CHART_PROXY_CACHE_TYPES  # so the settings send quay.io through docker-registry


def test_an_unknown_type_is_harbors_500(world: World) -> None:
    world.double.set_settings(upstream_map={"*": world.upstream.url})
    resp = world.call("POST", "/registries", {"name": "n", "type": "nexus", "url": "https://nexus.example"})
    assert errors(resp) == (500, "UNKNOWN", "internal server error")
    assert "nexus" not in rules.HARBOR_ADAPTER_TYPES
