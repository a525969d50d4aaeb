"""Fixtures for the double's behaviour tests (test_double_*.py): a double with Harbor's defaults (library project,
AWS unreachable) whose registries at ``UPSTREAM`` reach a loopback FakeUpstream, and a small API caller."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from lab.harbor_double import HarborDouble
from lab.harbor_double.fake_upstream import FakeUpstream
from lab.harbor_double.settings import Settings

PW = "behaviour-pw"
UPSTREAM = "http://upstream.test:5000"  # a host name: only the double's upstream_map makes it reachable
ECR = "https://255250787067.dkr.ecr.ap-northeast-2.amazonaws.com"
KEYS = {"type": "basic", "access_key": "AKIA1", "access_secret": "s1"}


@dataclass
class World:
    """The double, its upstream, and ``call(method, path, body)`` as admin (``auth=None``: anonymous)."""

    double: HarborDouble
    upstream: FakeUpstream

    def call(
        self, method: str, path: str, body: Any = None, *, params: dict[str, Any] | None = None,
        auth: tuple[str, str] | None = ("admin", PW), headers: dict[str, str] | None = None,
    ) -> requests.Response:
        return requests.request(
            method, f"{self.double.url}/api/v2.0{path}", json=body, params=params, auth=auth, headers=headers,
            timeout=10,
        )  # fmt: skip

    def created(self, path: str, body: Any) -> int:
        """POST, expect 201, return the new id."""
        resp = self.call("POST", path, body)
        assert resp.status_code == 201, resp.text
        return int(resp.headers["Location"].rsplit("/", 1)[1])

    def registry(self, name: str = "up", **over: Any) -> int:
        return self.created("/registries", {"name": name, "type": "docker-registry", "url": UPSTREAM, **over})

    def proxy_project(self, name: str = "cache", registry_id: int | None = None, **over: Any) -> int:
        rid = registry_id if registry_id is not None else self.registry(f"{name}-up")
        return self.created("/projects", {"project_name": name, "registry_id": rid, **over})


def errors(resp: requests.Response) -> tuple[int, str, str]:
    """(status, code, message) of Harbor's error body."""
    body = resp.json()
    return resp.status_code, body["errors"][0]["code"], body["errors"][0]["message"]


@pytest.fixture(scope="module")
def _world() -> Iterator[World]:
    with FakeUpstream() as upstream, HarborDouble(PW, settings=Settings(upstream_map={UPSTREAM: upstream.url})) as d:
        yield World(d, upstream)


@pytest.fixture
def world(_world: World) -> Iterator[World]:
    """A fresh double (Harbor's defaults plus the mapped upstream); fails a test whose requests break the swagger."""
    _world.double.reset()
    _world.upstream.start()
    _world.upstream.status, _world.upstream.credentials, _world.upstream.hits = 200, None, 0
    yield _world
    assert _world.double.violations == [], "requests that do not follow the swagger"
