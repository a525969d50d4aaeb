"""The cache report against the Harbor double holding pulls it learned from a pull log (handlers/cache.py):
every number of the report comes from Harbor's API as the double serves it, and follows the schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from components.harbor_api.client import HarborClient
from components.harbor_api.endpoint import HarborEndpoint
from components.report import collect
from components.report.stack import CacheTarget, StackView
from lab.harbor_double.pulls import stamp
from tests.provider import test_double_world as fixtures
from tests.provider.test_double_cache import REPO, T0, Cache, _pull
from tests.provider.test_double_world import PW, World

_world, world = fixtures._world, fixtures.world
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "report.schema.json").read_text())


def test_report_numbers_come_from_harbors_api(world: World, tmp_path: Path) -> None:
    cache = Cache(tmp_path)
    world.double.set_settings(proxy_storage={"*": str(cache.root)}, pull_log=str(cache.log))
    rid = world.registry("up")
    world.proxy_project("cache", registry_id=rid, storage_limit=50_000)
    world.proxy_project("idle")
    for when in (T0, T0 + 5, T0 + 9):
        _pull(cache, "cache", when)
    view = StackView("dev", world.double.url, "admin", None,
                     (CacheTarget("cache", ("upstream.test:5000",)), CacheTarget("idle", ())))
    report = collect(view, HarborClient(HarborEndpoint(url=world.double.url, retries=0), PW))
    jsonschema.validate(report, SCHEMA)
    cached, idle = report["upstreams"]
    size = sum(cache.sizes.values())
    assert (cached["repositories"], cached["artifacts"], cached["pulls"]) == (1, 1, 3)
    assert cached["storage"] == {"used_bytes": size, "limit_bytes": 50_000}
    assert cached["last_pull_time"] == stamp(T0 + 9.1)
    assert cached["top_images"] == [{"repository": REPO, "pull_count": 3, "artifacts": 1,
                                     "last_pull_time": stamp(T0 + 9.1)}]
    assert cached["registry"]["name"] == "up" and cached["hosts"] == ["upstream.test:5000"]
    assert (idle["repositories"], idle["pulls"], idle["last_pull_time"], idle["top_images"]) == (0, 0, None, [])
    assert idle["storage"] == {"used_bytes": 0, "limit_bytes": None}
