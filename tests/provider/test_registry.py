# The SDK declares CreateResult.outs / ReadResult.inputs Optional; these tests index them directly.
# mypy: disable-error-code="arg-type,index,dict-item"
"""RegistryProvider against the double."""

from __future__ import annotations

from typing import Any

import pytest

from components.dynamic import UNKNOWN
from components.harbor_api.client import HarborClient
from components.harbor_api.errors import HarborApiError, HarborPreconditionFailedError
from components.harbor_api.registry import RegistryProvider
from lab.harbor_double import HarborDouble
from tests.provider.conftest import ECR_URL, configured
from tests.provider.worlds import fake_upstream, healthy_world  # noqa: F401 (fixtures)

pytestmark = pytest.mark.usefixtures("healthy_world")


@pytest.fixture
def provider() -> RegistryProvider:
    return configured(RegistryProvider)


def _inputs(provider: RegistryProvider, harbor: dict[str, Any], **over: Any) -> dict[str, Any]:
    news = {
        "harbor": harbor,
        "name": "moreh-ecr",
        "url": ECR_URL,
        "access_key_id": "AKIA1",
        "access_secret": "aws-secret-1",
        **over,
    }
    result = provider.check({}, news)
    assert result.failures == []
    return dict(result.inputs)


def test_check_defaults_and_field_failures(provider: RegistryProvider, harbor: dict[str, Any]) -> None:
    ok = _inputs(provider, harbor)
    assert ok["type"] == "aws-ecr" and ok["insecure"] is False and ok["description"] == ""
    bad = provider.check({}, {"harbor": harbor, "name": "", "type": "quay", "url": "https://api.ecr.x"})
    fields = {f.property: f.reason for f in bad.failures}
    assert set(fields) == {"name", "type"}
    ecr = provider.check({}, {"harbor": harbor, "name": "e", "url": "https://example.com", "access_key_id": "A"})
    assert [f.property for f in ecr.failures] == ["url"] and "Amazon ECR" in ecr.failures[0].reason
    missing = provider.check({}, {"name": "e", "url": ECR_URL, "access_key_id": "A"})
    assert [f.property for f in missing.failures] == ["harbor"]


def test_check_passes_unknowns_through(provider: RegistryProvider, harbor: dict[str, Any]) -> None:
    result = provider.check(
        {},
        {
            "harbor": {**harbor, "url": UNKNOWN},
            "name": UNKNOWN,
            "url": UNKNOWN,
            "type": UNKNOWN,
            "insecure": UNKNOWN,
            "access_secret": UNKNOWN,
        },
    )
    assert result.failures == []
    assert result.inputs["name"] == UNKNOWN and result.inputs["insecure"] == UNKNOWN


def test_crud(provider: RegistryProvider, harbor: dict[str, Any], double: HarborDouble) -> None:
    props = _inputs(provider, harbor)
    created = provider.create(props)
    rid = int(created.id)
    assert created.outs["registry_id"] == rid and created.outs["adopted"] is False
    stored = double.state["registries"][rid]
    assert stored["credential"] == {"type": "basic", "access_key": "AKIA1", "access_secret": "aws-secret-1"}

    read = provider.read(created.id, created.outs)
    assert read.inputs == props  # refresh of an unchanged object shows no drift
    assert provider.diff(created.id, created.outs, props).changes is False

    news = _inputs(provider, harbor, description="ECR mirror", access_secret="aws-secret-2")
    diff = provider.diff(created.id, created.outs, news)
    assert diff.changes and diff.replaces == []
    updated = provider.update(created.id, created.outs, news)
    assert updated.outs["description"] == "ECR mirror" and updated.outs["registry_id"] == rid
    assert double.state["registries"][rid]["credential"]["access_secret"] == "aws-secret-2"
    assert double.count("PUT", "/registries/{id}") == 1

    provider.delete(created.id, updated.outs)
    assert rid not in double.state["registries"]
    provider.delete(created.id, updated.outs)  # already gone is success


def test_update_always_resends_the_secret_in_the_flat_shape(
    provider: RegistryProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    created = provider.create(_inputs(provider, harbor))
    double.state["registries"][int(created.id)]["credential"]["access_secret"] = "changed-in-ui"
    provider.update(created.id, created.outs, _inputs(provider, harbor, description="d"))
    assert double.state["registries"][int(created.id)]["credential"]["access_secret"] == "aws-secret-1"


def test_masked_secret_is_not_drift(
    provider: RegistryProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    created = provider.create(_inputs(provider, harbor))
    live = double.snapshot()["registries"][created.id]
    assert live["credential"]["access_secret"] == "*****"
    read = provider.read(created.id, created.outs)
    assert read.outs["access_secret"] == "aws-secret-1"
    assert provider.diff(created.id, read.outs, _inputs(provider, harbor)).changes is False


def test_removed_secret_is_drift(
    provider: RegistryProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    created = provider.create(_inputs(provider, harbor))
    double.state["registries"][int(created.id)]["credential"]["access_secret"] = ""
    read = provider.read(created.id, created.outs)
    assert read.inputs is not None and read.inputs["access_secret"] == ""
    assert provider.diff(created.id, read.outs, _inputs(provider, harbor)).changes is True


def test_refresh_after_out_of_band_change(
    provider: RegistryProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    props = _inputs(provider, harbor)
    created = provider.create(props)
    double.state["registries"][int(created.id)].update(description="edited in UI", insecure=True)
    read = provider.read(created.id, created.outs)
    assert read.id == created.id
    assert (
        read.inputs is not None and read.inputs["description"] == "edited in UI" and read.inputs["insecure"]
    )
    diff = provider.diff(created.id, read.outs, props)
    assert diff.changes and diff.replaces == []
    provider.update(created.id, read.outs, props)
    assert double.state["registries"][int(created.id)]["description"] == ""


def test_refresh_after_out_of_band_delete(
    provider: RegistryProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    created = provider.create(_inputs(provider, harbor))
    del double.state["registries"][int(created.id)]
    read = provider.read(created.id, created.outs)
    assert read.id == "" and read.outs == {}


def test_create_adopts_existing_by_name(
    provider: RegistryProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    first = provider.create(_inputs(provider, harbor))
    again = provider.create(_inputs(provider, harbor, description="adopted"))
    assert again.id == first.id and again.outs["adopted"] is True
    assert double.count("POST", "/registries") == 1
    assert double.state["registries"][int(first.id)]["description"] == "adopted"


def test_create_adopts_on_409(
    provider: RegistryProvider, harbor: dict[str, Any], double: HarborDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone creates it between our lookup and our POST: Harbor's 409 turns into adoption."""
    first = provider.create(_inputs(provider, harbor))
    real = HarborClient.find_by_name
    calls = {"n": 0}

    def stale_first_lookup(self: HarborClient, path: str, name: str, operation: str) -> Any:
        calls["n"] += 1
        return None if calls["n"] == 1 else real(self, path, name, operation)

    monkeypatch.setattr(HarborClient, "find_by_name", stale_first_lookup)
    adopted = provider.create(_inputs(provider, harbor))
    assert adopted.id == first.id and adopted.outs["adopted"] is True
    assert double.count("POST", "/registries") == 2  # the first create and the one answered 409


def test_adopting_a_registry_of_another_type_fails(
    provider: RegistryProvider, harbor: dict[str, Any]
) -> None:
    provider.create(_inputs(provider, harbor))
    props = _inputs(provider, harbor, type="docker-registry", url="https://registry.example.com")
    with pytest.raises(Exception, match="already has a registry of that name with type 'aws-ecr'"):
        provider.create(props)


def test_type_change_replaces_delete_first(provider: RegistryProvider, harbor: dict[str, Any]) -> None:
    created = provider.create(_inputs(provider, harbor))
    news = _inputs(provider, harbor, type="docker-registry", url="https://registry.example.com")
    diff = provider.diff(created.id, created.outs, news)
    assert diff.replaces == ["type"] and diff.delete_before_replace is True


def test_diff_ignores_provider_key(provider: RegistryProvider, harbor: dict[str, Any]) -> None:
    props = _inputs(provider, harbor)
    created = provider.create(props)
    diff = provider.diff(created.id, {**created.outs, "__provider": "old"}, {**props, "__provider": "new"})
    assert diff.changes is False


def test_unhealthy_upstream_is_a_clear_error(
    provider: RegistryProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    double.set_faults(registry_unhealthy=True)
    with pytest.raises(
        HarborApiError,
        match=r"create registry 'moreh-ecr' failed: HTTP 400 BAD_REQUEST: the registry is unhealthy",
    ):
        provider.create(_inputs(provider, harbor))


def test_delete_of_a_used_registry_explains_412(
    provider: RegistryProvider, harbor: dict[str, Any], double: HarborDouble
) -> None:
    created = provider.create(_inputs(provider, harbor))
    double.state["projects"][99] = {
        "project_id": 99,
        "name": "mif",
        "registry_id": int(created.id),
        "metadata": {},
    }
    with pytest.raises(HarborPreconditionFailedError, match=r"412 PRECONDITION.*still uses it"):
        provider.delete(created.id, created.outs)
