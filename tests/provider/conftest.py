"""Fixtures: one Harbor double per test session, reset for every test, and configured providers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, TypeVar

import pytest
from pulumi.dynamic import Config, ConfigureRequest, ResourceProvider

from components.harbor_api.client import HarborClient
from components.harbor_api.endpoint import HarborEndpoint
from lab.harbor_double import HarborDouble
from lab.harbor_double.settings import Settings

PASSWORD = "s3cr3t-Admin-pw"
ECR_URL = "https://255250787067.dkr.ecr.ap-northeast-2.amazonaws.com"
P = TypeVar("P", bound=ResourceProvider)


@pytest.fixture(scope="session")
def _double() -> Iterator[HarborDouble]:
    # Provider tests count what they leave behind: Harbor's built-in "library" project stays out of their way.
    with HarborDouble(PASSWORD, settings=Settings(library_project=False)) as double:
        yield double


@pytest.fixture
def double(_double: HarborDouble) -> Iterator[HarborDouble]:
    """The double, clean; the test fails if any request departed from the swagger."""
    _double.reset()
    yield _double
    assert _double.violations == [], "requests that do not follow the swagger"
    assert _double.cookies_seen == 0, "a cookie was sent to Harbor"
    _double.set_down(False)


@pytest.fixture
def endpoint(double: HarborDouble) -> HarborEndpoint:
    """Short timeouts and backoffs so failure tests take well under a second."""
    return HarborEndpoint(url=double.url, timeout=2.0, retries=2, backoff=0.01, max_backoff=0.05)


@pytest.fixture
def harbor(endpoint: HarborEndpoint) -> dict[str, Any]:
    return endpoint.to_dict()


@pytest.fixture
def client(endpoint: HarborEndpoint) -> HarborClient:
    return HarborClient(endpoint, PASSWORD)


def configured(cls: type[P], password: str = PASSWORD) -> P:
    """A provider as the engine's provider process has it: unpickled, then configured from stack config."""
    provider = cls()
    provider.configure(ConfigureRequest(Config({"harbor-cache:adminPassword": password}, "harbor-cache")))
    return provider
