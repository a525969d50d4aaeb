"""components/rules/registries.py: the adapter types a chart permits for a proxy cache, and Docker Hub's names."""

from __future__ import annotations

from pathlib import Path

import pytest

from components import rules
from components.settings import SettingsError, validate

ROOT = Path(__file__).resolve().parents[2]
CHARTS = sorted((ROOT.parent / "shared" / "charts").glob("harbor-*"))
SECRETS = {"adminPassword": True}


@pytest.mark.skipif(not CHARTS, reason="the Harbor charts are not beside the repository")
def test_permitted_types_are_the_charts() -> None:
    # The fallback (a chart from a repository, not on this machine) is what every chart we know sets.
    for chart in CHARTS:
        assert rules.chart_proxy_cache_types(chart) == rules.CHART_PROXY_CACHE_TYPES, chart.name
    assert "quay" not in rules.CHART_PROXY_CACHE_TYPES and "quay" in rules.HARBOR_ADAPTER_TYPES


def test_an_unreadable_chart_falls_back_to_the_known_list(tmp_path: Path) -> None:
    assert rules.chart_proxy_cache_types(tmp_path) is None
    assert rules.proxy_cache_types(tmp_path) == rules.CHART_PROXY_CACHE_TYPES
    assert rules.proxy_cache_types(None) == rules.CHART_PROXY_CACHE_TYPES


def test_a_local_chart_is_read_and_its_list_applies(tmp_path: Path) -> None:
    core = tmp_path / "templates" / "core"
    core.mkdir(parents=True)
    (core / "core-cm.yaml").write_text('data:\n  PERMITTED_REGISTRY_TYPES_FOR_PROXY_CACHE: "docker-hub,harbor"\n')
    assert rules.chart_proxy_cache_types(tmp_path) == {"docker-hub", "harbor"}
    raw = {"harbor": {"tlsMode": "http", "expose": {"type": "nodePort", "nodeAddress": "10.0.0.11"},
                      "chart": {"version": "1.18.4", "path": str(tmp_path)}},
           "upstreams": [{"name": "quay", "type": "docker-registry", "url": "https://quay.io", "project": "quay"},
                         {"name": "hub", "type": "docker-hub", "project": "hub"}]}
    with pytest.raises(SettingsError) as info:
        validate(raw, SECRETS)
    (error,) = info.value.errors
    assert error.startswith("harbor-cache:upstreams[0].type 'docker-registry' is a Harbor adapter, but Harbor chart "
                            "1.18.4 does not permit it for a proxy cache (PERMITTED_REGISTRY_TYPES_FOR_PROXY_CACHE)")


def test_quay_is_told_to_use_docker_registry() -> None:
    problem = rules.proxy_cache_type_problem("quay", rules.CHART_PROXY_CACHE_TYPES, "Harbor chart 1.18.4")
    assert problem is not None and "use 'docker-registry'" in problem and "quay.io" in problem
    unknown = rules.proxy_cache_type_problem("nexus", rules.CHART_PROXY_CACHE_TYPES)
    assert unknown is not None and unknown.startswith("'nexus' is not a Harbor registry type")
    assert rules.proxy_cache_type_problem("github-ghcr", rules.CHART_PROXY_CACHE_TYPES) is None


def test_docker_hub_names() -> None:
    # containerd asks for docker.io; the registry API is registry-1.docker.io; Harbor's adapter URL hub.docker.com.
    assert rules.upstream_host("docker-hub", "") == "docker.io"
    assert rules.upstream_host("docker-hub", "https://hub.docker.com") == "docker.io"
    assert rules.upstream_server("docker-hub", "https://hub.docker.com") == "https://registry-1.docker.io"
    assert rules.upstream_host("docker-registry", "https://quay.io/") == "quay.io"
    assert rules.upstream_server("docker-registry", "http://10.0.0.1:5000/") == "http://10.0.0.1:5000"
    assert rules.image_registry("nginx:1.27") == rules.DOCKER_HUB_HOST
