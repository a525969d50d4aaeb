"""Provider check errors name the stack setting to fix (components/harbor_api/setting_names.py)."""

from __future__ import annotations

import typing
from typing import Any

import pytest

from components.harbor_api import setting_names
from components.harbor_api.project import SCHEMA as PROJECT
from components.harbor_api.project import ProjectProvider
from components.harbor_api.registry import SCHEMA as REGISTRY
from components.harbor_api.registry import RegistryProvider
from components.harbor_api.replication import SCHEMA as POLICY
from components.harbor_api.replication import ReplicationPolicyProvider
from components.harbor_api.retention import SCHEMA as RETENTION
from components.settings import SECRET_KEYS, Settings
from tests.provider.conftest import ECR_URL

TABLES = [
    (setting_names.REGISTRY, REGISTRY),
    (setting_names.PROXY_PROJECT, PROJECT),
    (setting_names.REPLICA_PROJECT, PROJECT),
    (setting_names.REPLICATION_POLICY, POLICY),
    (setting_names.PROJECT_RETENTION, RETENTION),
]


def _is_setting(path: str) -> bool:
    """Whether ``path`` (``proxyProject.speedKb``) is a key of the stack settings model, or a secret key."""
    if path in SECRET_KEYS:
        return True
    model: Any = Settings
    for part in path.split("."):
        fields = {(f.alias or n): f for n, f in model.model_fields.items()}
        if part not in fields:
            return False
        annotation = fields[part].annotation
        model = next((a for a in typing.get_args(annotation) if a is not type(None)), annotation)
    return True


@pytest.mark.parametrize(("table", "schema"), TABLES)
def test_every_mapping_is_a_declared_input_and_a_real_setting(table: Any, schema: Any) -> None:
    assert set(table) <= set(schema.names)
    for setting in table.values():
        for path in (setting,) if isinstance(setting, str) else setting:
            assert _is_setting(path), path


def _reasons(result: Any) -> dict[str, str]:
    return {f.property: f.reason for f in result.failures}


def test_registry_errors_name_upstream_settings(harbor: dict[str, Any]) -> None:
    result = RegistryProvider().check(
        {}, {"harbor": harbor, "name": "e", "url": "https://example.com", "access_secret": "s"}
    )
    reasons = _reasons(result)
    assert reasons["url"].startswith("harbor-cache:upstream.url: 'https://example.com' is not an Amazon ECR")
    assert reasons["access_key_id"] == (
        "harbor-cache:upstream.accessKeyId: is required when harbor-cache:upstreamSecretKey is set"
    )
    assert _reasons(RegistryProvider().check({}, {"name": "e", "url": ECR_URL}))["harbor"].startswith(
        "harbor-cache:harbor.apiUrl: is required"
    )


def test_project_errors_name_the_settings_of_their_kind(harbor: dict[str, Any]) -> None:
    proxy = _reasons(ProjectProvider().check({}, {"harbor": harbor, "name": "Mif", "registry_id": 3}))
    assert proxy["name"].startswith("harbor-cache:proxyProject.name: 'Mif' is not a valid Harbor project name")
    plain = _reasons(ProjectProvider().check({}, {"harbor": harbor, "name": "Mif", "storage_limit": 0}))
    assert plain["name"].startswith("harbor-cache:replication.project: 'Mif'")
    assert plain["storage_limit"].startswith("input storage_limit (set by the program, not a stack setting): ")


def test_replication_cron_errors_name_the_trigger_setting(harbor: dict[str, Any]) -> None:
    news = {"harbor": harbor, "name": "p", "registry_id": 1, "dest_namespace": "mif-replica",
            "trigger": "scheduled", "cron": "0 0 25 * * *"}
    reasons = _reasons(ReplicationPolicyProvider().check({}, news))
    assert reasons == {"cron": "harbor-cache:replication.trigger: field 3 ('25'): '25' is outside 0-23"}
