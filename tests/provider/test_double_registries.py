"""The double's registries behave as Harbor v2.14.2's (``controller/registry``, ``pkg/reg/adapter``): one test per
row of the behaviour table in docs/harbor-double.md."""

from __future__ import annotations

from tests.provider import test_double_world as fixtures
from tests.provider.test_double_world import ECR, KEYS, UPSTREAM, World, errors

_world, world = fixtures._world, fixtures.world

UNHEALTHY = (400, "BAD_REQUEST", "the registry is unhealthy")
INTERNAL = (500, "UNKNOWN", "internal server error")


def test_registry_create_pings_the_upstream_live(world: World) -> None:
    world.registry("up")
    assert world.upstream.hits == 1
    world.upstream.stop()
    assert errors(world.call("POST", "/registries", {"name": "down", "type": "docker-registry", "url": UPSTREAM})) == (
        UNHEALTHY
    )
    unmapped = {"name": "far", "type": "docker-registry", "url": "https://registry.example.com"}
    assert errors(world.call("POST", "/registries", unmapped)) == UNHEALTHY  # no DNS, no egress in the sandbox
    assert sorted(r["name"] for r in world.double.state["registries"].values()) == ["up"]


def test_registry_update_checks_the_upstream_even_for_a_description(world: World) -> None:
    rid = world.registry("up")
    world.upstream.stop()
    assert errors(world.call("PUT", f"/registries/{rid}", {"description": "only this"})) == UNHEALTHY
    assert world.double.state["registries"][rid]["description"] == ""
    world.upstream.start()
    assert world.call("PUT", f"/registries/{rid}", {"description": "only this"}).status_code == 200


def test_a_401_from_v2_is_healthy_without_keys_only(world: World) -> None:
    world.upstream.credentials = ("user", "right")
    world.registry("anonymous")  # PingSimple: 401 means a registry is there
    wrong = {"type": "basic", "access_key": "user", "access_secret": "wrong"}
    body = {"name": "keyed", "type": "docker-registry", "url": UPSTREAM, "credential": wrong}
    assert errors(world.call("POST", "/registries", body)) == UNHEALTHY
    world.registry("keyed", credential={**wrong, "access_secret": "right"})


def test_ecr_needs_aws_then_answers_from_its_stand_in(world: World) -> None:
    body = {"name": "ecr", "type": "aws-ecr", "url": ECR, "credential": KEYS}
    assert errors(world.call("POST", "/registries", body)) == UNHEALTHY  # default: no route to AWS
    world.double.set_settings(aws_reachable=True)
    assert errors(world.call("POST", "/registries", body)) == UNHEALTHY  # no stand-in for the ECR host
    world.double.set_settings(upstream_map={ECR: world.upstream.url}, aws_rejects_keys=True)
    assert errors(world.call("POST", "/registries", body)) == UNHEALTHY
    world.double.set_settings(aws_rejects_keys=False)
    assert world.call("POST", "/registries", body).status_code == 201
    assert world.upstream.hits == 1


def test_ecr_without_credential_crashes_with_an_empty_500(world: World) -> None:
    world.double.set_settings(aws_reachable=True, upstream_map={ECR: world.upstream.url})
    bare = {"name": "irsa", "type": "aws-ecr", "url": ECR}
    resp = world.call("POST", "/registries", bare)
    assert (resp.status_code, resp.content) == (500, b"")
    ambient = {**bare, "credential": {"type": "basic", "access_key": "", "access_secret": ""}}
    assert world.call("POST", "/registries", ambient).status_code == 201  # AWS's default chain, once reachable
    world.double.set_settings(aws_reachable=False)
    assert errors(world.call("POST", "/registries", {**ambient, "name": "irsa2"})) == UNHEALTHY


def test_unknown_type_and_a_url_outside_the_adapter_pattern_are_500(world: World) -> None:
    for body in (
        {"name": "h", "type": "helm-hub", "url": UPSTREAM},  # no adapter factory in v2.14
        {"name": "p", "type": "aws-ecr", "url": "https://public.ecr.aws", "credential": KEYS},
        {"name": "q", "type": "aws-ecr", "url": "https://1.dkr.ecr-public.us-east-1.amazonaws.com", "credential": KEYS},
    ):
        assert errors(world.call("POST", "/registries", body)) == INTERNAL
    assert world.double.state["registries"] == {}


def test_duplicate_name_is_409_only_after_the_check_and_uses_an_id(world: World) -> None:
    assert world.registry("dup") == 1
    world.upstream.stop()
    assert errors(world.call("POST", "/registries", {"name": "dup", "type": "docker-registry", "url": UPSTREAM})) == (
        UNHEALTHY
    )
    world.upstream.start()
    resp = world.call("POST", "/registries", {"name": "dup", "type": "docker-registry", "url": UPSTREAM})
    assert errors(resp) == (409, "CONFLICT", "registry dup already exists")
    assert world.registry("next") == 3  # the failed insert took id 2


def test_registry_delete_412_by_policies_then_by_live_proxy_projects_only(world: World) -> None:
    rid = world.registry("up")
    pid = world.proxy_project("cache", rid)
    policy = {"name": "pull", "src_registry": {"id": rid}, "dest_namespace": "cache", "enabled": True}
    policy_id = world.created("/replication/policies", policy)
    assert errors(world.call("DELETE", f"/registries/{rid}")) == (
        412, "PRECONDITION", f"the registry {rid} is referenced by replication policies, cannot delete it"
    )
    assert world.call("DELETE", f"/replication/policies/{policy_id}").status_code == 200
    assert errors(world.call("DELETE", f"/registries/{rid}")) == (
        412, "PRECONDITION", f"the registry {rid} is referenced by proxy cache project, cannot delete it"
    )
    assert world.call("DELETE", f"/projects/{pid}").status_code == 200  # soft delete: it no longer blocks
    assert world.call("DELETE", f"/registries/{rid}").status_code == 200
    assert errors(world.call("GET", f"/registries/{rid}")) == (404, "NOT_FOUND", f"registry {rid} not found")


def test_q_name_is_compared_as_sent_and_unknown_keys_are_ignored(world: World) -> None:
    world.registry("123")

    def names(q: str) -> list[str]:
        resp = world.call("GET", "/registries", params={"q": q})
        assert resp.status_code == 200, resp.text
        return [r["name"] for r in resp.json()]

    assert names("name='123'") == []
    assert names("name=123") == ["123"]
    assert names("name=~12") == ["123"]
    assert names("name=123,colour=blue") == ["123"]
    assert errors(world.call("GET", "/registries", params={"q": "name="})) == (
        400, "BAD_REQUEST", 'the query string must contain "=" and the key/value cannot be empty'
    )


def test_every_5xx_message_is_internal_server_error(world: World) -> None:
    world.double.set_faults(fail_next=1, fail_status=502)
    assert errors(world.call("GET", "/registries")) == (502, "UNKNOWN", "internal server error")
    resp = world.call("POST", "/projects", {"project_name": "p", "registry_id": 9999})
    assert errors(resp) == INTERNAL  # Harbor logs "registry 9999 not found"; the caller never sees it
