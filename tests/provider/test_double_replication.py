"""The double's replication policies and executions, jobservice and transactions behave as Harbor v2.14.2's
(``controller/replication``, ``pkg/scheduler``, ``server/middleware/transaction``): one test per row of
docs/harbor-double.md."""

from __future__ import annotations

from typing import Any

from tests.provider import test_double_world as fixtures
from tests.provider.test_double_world import World, errors

_world, world = fixtures._world, fixtures.world


def _policy(rid: int, **over: Any) -> dict[str, Any]:
    return {"name": "pull", "src_registry": {"id": rid}, "dest_namespace": "mirror", "enabled": True, **over}


def _scheduled(cron: str) -> dict[str, Any]:
    return {"type": "scheduled", "trigger_settings": {"cron": cron}}


def test_policy_checks_and_a_missing_registry_is_404(world: World) -> None:
    rid = world.registry("up")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"dest_registry": {"id": rid}}, "either src_registry or dest_registry should be empty and the other one "
                                         "shouldn't be empty"),
        ({"filters": [{"type": "name", "value": "a", "decoration": "matches"}]},
         "only tag and label filter support decoration"),
        ({"dest_namespace": "Bad/NS"}, "invalid destination namespace: Bad/NS"),
        ({"trigger": _scheduled("0 0 25 * * *")}, "invalid cron string for scheduled trigger: 0 0 25 * * *"),
        ({"trigger": _scheduled("5 0 3 * * *")}, "the 1st field (indicating Seconds of time) of the cron setting "
                                                 "must be 0"),
        ({"trigger": _scheduled("0 * 3 * * *")}, "* is not allowed for the Minutes field of the cron setting of "
                                                 "replication policy"),
        ({"trigger": {"type": "sometimes"}}, "invalid trigger type"),
    ]  # fmt: skip
    for over, message in cases:
        resp = world.call("POST", "/replication/policies", _policy(rid, **over))
        assert errors(resp) == (400, "BAD_REQUEST", message)
    assert errors(world.call("POST", "/replication/policies", _policy(rid + 100))) == (
        404, "NOT_FOUND", f"registry {rid + 100} not found"
    )
    assert world.created("/replication/policies", _policy(rid, trigger=_scheduled("0 30 2 * * MON-FRI"))) > 0


def test_get_shows_the_local_side_as_registry_0(world: World) -> None:
    rid = world.registry("up")
    pid = world.created("/replication/policies", _policy(rid))
    got = world.call("GET", f"/replication/policies/{pid}").json()
    assert (got["dest_registry"]["id"], got["dest_registry"]["name"]) == (0, "Local")
    assert got["src_registry"]["id"] == rid


def test_duplicate_policy_name_is_409_and_uses_an_id(world: World) -> None:
    rid = world.registry("up")
    assert world.created("/replication/policies", _policy(rid)) == 1
    assert errors(world.call("POST", "/replication/policies", _policy(rid))) == (
        409, "CONFLICT", "replication policy pull already exists"
    )
    assert world.created("/replication/policies", _policy(rid, name="other")) == 3


def test_execution_of_a_disabled_policy_is_412_and_each_post_is_a_new_run(world: World) -> None:
    rid = world.registry("up")
    off = world.created("/replication/policies", _policy(rid, name="off", enabled=False))
    assert errors(world.call("POST", "/replication/executions", {"policy_id": off})) == (
        412, "PRECONDITION", f"the policy {off} is disabled"
    )
    on = world.created("/replication/policies", _policy(rid))
    first = world.created("/replication/executions", {"policy_id": on})
    second = world.created("/replication/executions", {"policy_id": on})
    assert second == first + 1 == 4  # execution ids 1-2 are Harbor's system schedules
    statuses = {world.call("GET", f"/replication/executions/{e}").json()["status"] for e in (first, second)}
    assert statuses == {"InProgress"}
    assert world.call("GET", f"/replication/executions/{first}").json()["status"] == "Succeed"


def test_jobservice_down_fails_and_rolls_back_what_needs_a_schedule(world: World) -> None:
    rid = world.registry("up")
    world.double.set_faults(jobservice_down=True)
    assert world.call("GET", "/health").json()["status"] == "unhealthy"
    proxy = {"project_name": "cache", "registry_id": rid}
    assert errors(world.call("POST", "/projects", proxy)) == (500, "UNKNOWN", "internal server error")
    nightly = _policy(rid, trigger=_scheduled("0 0 3 * * *"))
    assert errors(world.call("POST", "/replication/policies", nightly))[0] == 500
    manual = world.created("/replication/policies", _policy(rid, name="manual"))  # no schedule: fine
    plain = world.created("/projects", {"project_name": "plain"})
    assert [p["name"] for p in world.double.state["projects"].values()] == ["library", "plain"]
    assert list(world.double.state["policies"]) == [manual]
    assert plain == 3 and manual == 2  # the rolled-back inserts used project 2 and policy 1
    world.double.set_faults(jobservice_down=False)
    cache = world.proxy_project("cache", rid)
    world.double.set_faults(jobservice_down=True)
    assert world.call("DELETE", f"/projects/{cache}").status_code == 200  # the retention cleanup runs later
    assert [r["scope"]["ref"] for r in world.double.state["retentions"].values()] == [cache]  # and fails: left


def test_a_failed_write_rolls_back_but_keeps_the_ids_it_used(world: World) -> None:
    rid = world.registry("up")
    world.double.set_faults(jobservice_down=True)
    assert world.call("POST", "/projects", {"project_name": "cache", "registry_id": rid}).status_code == 500
    ids = world.double.state["next_ids"]
    assert (ids["projects"], ids["quotas"], ids["retentions"]) == (2, 2, 1)
    assert world.double.state["quotas"].keys() == {1} and world.double.state["retentions"] == {}
