"""The double's projects, quotas, retentions and callers behave as Harbor v2.14.2's
(``server/v2.0/handler/project.go``, ``retention.go``, ``pkg/project``): one test per row of docs/harbor-double.md."""

from __future__ import annotations

from typing import Any

from tests.provider import test_double_world as fixtures
from tests.provider.test_double_world import PW, World, errors

_world, world = fixtures._world, fixtures.world


def test_a_fresh_double_holds_harbors_library_project(world: World) -> None:
    library = world.call("GET", "/projects/1").json()
    assert (library["name"], library["metadata"]["public"]) == ("library", "true")
    assert world.call("GET", "/quotas", params={"reference_id": "1"}).json()[0]["id"] == 1
    assert errors(world.call("POST", "/projects", {"project_name": "library"}))[0] == 409
    assert world.created("/projects", {"project_name": "mine"}) == 3  # the 409's insert used id 2


def test_request_checks_come_before_the_name_check(world: World) -> None:
    bad_name_and_limit = {"project_name": "Bad Name", "storage_limit": -5}
    assert errors(world.call("POST", "/projects", bad_name_and_limit)) == (
        400, "BAD_REQUEST", "invalid non-positive value for quota limit, value=-5"
    )
    assert errors(world.call("POST", "/projects", {"project_name": "Bad Name"})) == (
        400, "BAD_REQUEST", "project name is not in lower case or contains illegal characters"
    )
    bad_registry = {"project_name": "library", "registry_id": 0}
    assert errors(world.call("POST", "/projects", bad_registry)) == (
        400, "BAD_REQUEST", "0 is invalid value of registry_id, it should be geater than 0"
    )


def test_a_proxy_project_on_a_missing_registry_is_500(world: World) -> None:
    resp = world.call("POST", "/projects", {"project_name": "cache", "registry_id": 9999})
    assert errors(resp) == (500, "UNKNOWN", "internal server error")
    assert world.double.state["next_ids"]["projects"] == 1  # refused before the insert


def test_proxy_cache_types_come_from_the_setting_with_the_charts_default(world: World) -> None:
    assert "docker-registry" in world.double.settings.permitted_proxy_types
    rid = world.registry("up")
    world.double.set_settings(permitted_proxy_types="docker-hub,harbor")
    assert errors(world.call("POST", "/projects", {"project_name": "cache", "registry_id": rid})) == (
        400, "BAD_REQUEST", "unsupported registry type docker-registry"
    )


def test_a_storage_limit_above_1024_tb_is_400(world: World) -> None:
    too_big = {"project_name": "big", "storage_limit": 1125899906842625}
    assert errors(world.call("POST", "/projects", too_big)) == (
        400, "BAD_REQUEST", "exceeded 1024TB, which is 1125899906842624 Bytes, value=1125899906842625"
    )
    assert world.created("/projects", {**too_big, "storage_limit": 1125899906842624}) > 0


def test_no_quota_when_quota_per_project_is_disabled(world: World) -> None:
    assert world.call("PUT", "/configurations", {"quota_per_project_enable": False}).status_code == 200
    assert world.call("GET", "/configurations").json()["quota_per_project_enable"]["value"] is False
    pid = world.created("/projects", {"project_name": "free", "storage_limit": 1125899906842625})  # limit dropped
    assert world.call("GET", "/quotas", params={"reference_id": str(pid)}).json() == []


def test_a_new_proxy_project_gets_the_7_day_retention_with_priority_1(world: World) -> None:
    pid = world.proxy_project("cache")
    rid = world.call("GET", f"/projects/{pid}").json()["metadata"]["retention_id"]
    policy = world.call("GET", f"/retentions/{rid}").json()
    rule = policy["rules"][0]
    assert len(policy["rules"]) == 1 and "disabled" not in rule
    assert (rule["template"], rule["params"], rule["priority"]) == ("nDaysSinceLastPull", {"nDaysSinceLastPull": 7}, 1)
    assert policy["trigger"]["kind"] == "Schedule" and policy["trigger"]["settings"]["cron"] == "0 0 0 * * *"


def test_project_put_merges_metadata_and_ignores_registry_and_limit(world: World) -> None:
    pid = world.proxy_project("cache")
    before = world.call("GET", f"/projects/{pid}").json()
    put = {"registry_id": 9999, "storage_limit": 5, "metadata": {"proxy_speed_kb": "2048"}}
    assert world.call("PUT", f"/projects/{pid}", put).status_code == 200
    after = world.call("GET", f"/projects/{pid}").json()
    assert after["registry_id"] == before["registry_id"]
    assert after["metadata"] == {**before["metadata"], "proxy_speed_kb": "2048"}
    assert errors(world.call("PUT", f"/projects/{pid}", {"metadata": {"retention_id": "77"}}))[0:2] == (
        400, "BAD_REQUEST"
    )


def test_project_delete_is_412_with_repositories_else_a_soft_delete(world: World) -> None:
    pid = world.created("/projects", {"project_name": "busy"})
    world.double.add_repository("busy", "lib/hello")
    assert errors(world.call("DELETE", "/projects/busy", headers={"X-Is-Resource-Name": "true"})) == (
        412, "PRECONDITION", "precondition failed: the project contains repositories, can not be deleted"
    )
    assert world.call("DELETE", "/projects/busy/repositories/lib%252Fhello").status_code == 200  # decoded twice
    assert world.call("DELETE", f"/projects/{pid}").status_code == 200
    assert errors(world.call("GET", f"/projects/{pid}")) == (404, "NOT_FOUND", f"project {pid} not found")
    assert world.double.state["deleted_projects"][pid]["name"] == f"busy#{pid}"
    assert world.created("/projects", {"project_name": "busy"}) == pid + 1  # the name is free again


def test_a_wrong_password_is_an_anonymous_caller(world: World) -> None:
    world.created("/projects", {"project_name": "shh", "metadata": {"public": "false"}})
    wrong = ("admin", f"not-{PW}")
    for auth in (wrong, None):
        assert errors(world.call("GET", "/registries", auth=auth)) == (401, "UNAUTHORIZED", "unauthorized")
        assert errors(world.call("POST", "/projects", {"project_name": "x"}, auth=auth))[0] == 401
        assert world.call("GET", "/projects/library", auth=auth, headers={"X-Is-Resource-Name": "true"}).ok
        assert errors(world.call("GET", "/projects/shh", auth=auth, headers={"X-Is-Resource-Name": "true"}))[0] == 401
        assert [p["name"] for p in world.call("GET", "/projects", auth=auth).json()] == ["library"]
        assert world.call("GET", "/ping", auth=auth).text == "Pong"
        assert world.call("GET", "/health", auth=auth).json()["status"] == "healthy"
        assert "harbor_version" not in world.call("GET", "/systeminfo", auth=auth).json()
    assert "harbor_version" in world.call("GET", "/systeminfo").json()


def _rule(days: int) -> dict[str, Any]:
    return {
        "action": "retain", "template": "nDaysSinceLastPull", "params": {"nDaysSinceLastPull": days}, "priority": 1,
        "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**"}],
        "scope_selectors": {"repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}]},
    }  # fmt: skip


def test_retention_put_post_and_rule_limits(world: World) -> None:
    pid = world.created("/projects", {"project_name": "plain"})
    policy: dict[str, Any] = {"algorithm": "or", "rules": [_rule(3)], "scope": {"level": "project", "ref": pid},
              "trigger": {"kind": "Schedule", "settings": {"cron": "0 0 0 * * *"}}}  # fmt: skip
    rid = world.created("/retentions", policy)
    assert errors(world.call("POST", "/retentions", policy)) == (
        400, "BAD_REQUEST", f"project {pid} already has retention policy {rid}"
    )
    assert errors(world.call("PUT", f"/retentions/{rid + 1}", policy)) == (
        404, "NOT_FOUND", f"the retention policy id {rid + 1} does not match"
    )
    assert errors(world.call("PUT", f"/retentions/{rid}", {**policy, "rules": [_rule(3), _rule(3)]})) == (
        409, "CONFLICT", "rule 1 is conflict with rule 0"
    )
    rules = [_rule(d) for d in range(1, 17)]
    assert errors(world.call("PUT", f"/retentions/{rid}", {**policy, "rules": rules})) == (
        400, "BAD_REQUEST", "only 15 rules are allowed at most"
    )
    assert world.call("PUT", f"/retentions/{rid}", {**policy, "rules": rules[:15]}).status_code == 200
