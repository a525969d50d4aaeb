"""The program under Pulumi mocks with more upstreams: each adds only its own resources (Registry, proxy Project,
its ProjectRetention, HarborUpstream), its secret stays a secret, and the nodes' files are the only other inputs
that change."""

from __future__ import annotations

import json
from typing import Any

from tests.unit import test_program_mocks as program_mocks
from tests.unit.test_program_mocks import FAKE_SECRETS, SECRET_SIG, by_type, run_program  # noqa: F401

HUB = {"name": "hub", "type": "docker-hub", "project": "hub"}
GHCR = {"name": "ghcr", "type": "github-ghcr", "url": "https://ghcr.io", "project": "ghcr", "accessKeyId": "bot"}


def _names(resources: dict[str, Any]) -> dict[str, str]:
    return {urn.split("::")[-1]: urn for urn in resources}


def test_adding_an_upstream_adds_only_its_own_resources(run_program: Any) -> None:  # noqa: F811
    base = run_program("dev")
    more = run_program("dev", upstreams=[HUB])
    assert set(_names(more)) - set(_names(base)) == {"upstream-hub", "upstream-hub-registry", "upstream-hub-proxy",
                                                     "upstream-hub-proxy-retention"}
    assert set(base) <= set(more)  # every URN kept (the single upstream's names never change)
    changed = {urn.split("::")[-1] for urn in base if base[urn] != more[urn]}
    # Only the nodes' files change (docker.io/hosts.toml), and what is computed from them.
    assert changed and all(name.startswith("nodes-") for name in changed), changed
    (registry,) = [s for s in by_type(more, "harbor:Registry") if s["name"] == "hub"]
    assert (registry["type"], registry["url"]) == ("docker-hub", "https://hub.docker.com")
    (project,) = [s for s in by_type(more, "harbor:Project") if s["name"] == "hub"]
    assert project["registry_id"] == 3 and project["public"] is True


def test_removing_the_added_upstream_gives_the_original_program_back(run_program: Any) -> None:  # noqa: F811
    assert run_program("dev", upstreams=[]) == run_program("dev")


def test_each_upstream_secret_is_its_own_and_a_secret(run_program: Any, monkeypatch: Any) -> None:  # noqa: F811
    original = program_mocks.stack_config

    def with_upstream_secrets(stack: str) -> tuple[dict[str, str], list[str]]:
        config, secret_keys = original(stack)
        config["harbor-cache:upstreamSecrets"] = json.dumps({"ghcr": "ghp-token-123"})
        return config, [*secret_keys, "harbor-cache:upstreamSecrets"]

    monkeypatch.setattr(program_mocks, "stack_config", with_upstream_secrets)
    resources = run_program("dev", upstreams=[GHCR])
    registries = {s["name"]: s for s in by_type(resources, "harbor:Registry")}
    ghcr = registries["ghcr"]["access_secret"]
    assert ghcr == {SECRET_SIG[0]: SECRET_SIG[1], "value": "ghp-token-123"}
    assert registries["moreh-ecr"]["access_secret"]["value"] == FAKE_SECRETS["upstreamSecretKey"]
