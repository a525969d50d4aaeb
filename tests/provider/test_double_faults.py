"""The double's controls (lab/harbor_double/faults.py, settings.py) and Harbor's transport (error body,
``X-Request-ID``, CSRF), in-process and through the control API of a double in another process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from lab.harbor_double import DoubleClient
from tests.provider import test_double_world as fixtures
from tests.provider.test_double_world import PW, UPSTREAM, World, errors

_world, world = fixtures._world, fixtures.world


def test_a_lost_response_commits_then_drops_the_connection(world: World) -> None:
    rid = world.registry("up")
    world.double.lose_response("POST /projects", times=1)
    with pytest.raises(requests.ConnectionError):
        world.call("POST", "/projects", {"project_name": "cache", "registry_id": rid})
    assert [p["name"] for p in world.double.state["projects"].values()] == ["library", "cache"]  # it was created
    assert world.double.faults.lose_response == []  # once, then gone
    assert errors(world.call("POST", "/projects", {"project_name": "cache", "registry_id": rid}))[0] == 409
    world.double.set_faults(lose_response=[{"match": "POST /replication/executions", "times": -1}])
    policy = world.created("/replication/policies", {"name": "p", "src_registry": {"id": rid}, "enabled": True})
    for _ in range(2):
        with pytest.raises(requests.ConnectionError):
            world.call("POST", "/replication/executions", {"policy_id": policy})
    assert len(world.double.state["executions"]) == 2  # a retried POST starts a second run


def test_503_for_a_while_then_recover_on_matching_requests_only(world: World) -> None:
    world.double.set_faults(fail_status=503, fail_seconds=0.3, fail_match="* /registries*")
    assert errors(world.call("GET", "/registries")) == (503, "UNKNOWN", "internal server error")
    assert world.call("GET", "/projects").status_code == 200  # not matched
    assert 0 < world.double.faults.view()["fail_seconds"] <= 0.3
    time.sleep(0.35)
    assert world.call("GET", "/registries").status_code == 200
    world.double.set_faults(fail_next=1, fail_status=429, fail_match="*")
    assert errors(world.call("GET", "/projects"))[:2] == (429, "TOO_MANY_REQUESTS")
    assert world.call("GET", "/projects").status_code == 200


def test_the_health_check_can_hang_as_a_silently_dropped_connection(world: World) -> None:
    world.double.set_settings(health_check_delay=0.6)
    body = {"name": "slow", "type": "docker-registry", "url": UPSTREAM}
    with pytest.raises(requests.Timeout):
        requests.post(f"{world.double.url}/api/v2.0/registries", json=body, auth=("admin", PW), timeout=0.2)
    assert world.call("GET", "/ping").text == "Pong"  # the check does not hold other requests up
    time.sleep(0.6)
    assert [r["name"] for r in world.double.state["registries"].values()] == ["slow"]  # created after all


def test_error_body_request_id_echo_and_csrf_only_with_a_session_cookie(world: World) -> None:
    resp = world.call("GET", "/registries/42", headers={"X-Request-Id": "trace-me"})
    assert resp.json() == {"errors": [{"code": "NOT_FOUND", "message": "registry 42 not found"}]}
    assert resp.headers["X-Request-Id"] == "trace-me"
    assert "sid=" in resp.headers["Set-Cookie"]
    with_cookie = world.call("POST", "/projects", {"project_name": "p"}, headers={"Cookie": "sid=abc"})
    assert errors(with_cookie)[0] == 403
    world.double.cookies_seen = 0
    assert world.call("POST", "/projects", {"project_name": "p"}).status_code == 201


def test_controls_of_a_double_in_another_process(tmp_path: Path) -> None:
    """The CLI's --fault/--setting and DoubleClient's faults/settings/lose_response reach a standalone double."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "lab", "double", "--control-port", "0", "--setting", "aws_reachable=true",
         "--setting", 'upstream_map={"*": "http://127.0.0.1:9"}', "--fault", "fail_next=1"],
        cwd=Path(__file__).resolve().parents[2], stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        client = DoubleClient(info["url"], info["control_url"], "Harbor12345")
        assert client.settings()["aws_reachable"] is True
        assert client.settings()["upstream_map"] == {"*": "http://127.0.0.1:9"}
        assert client.faults()["fail_next"] == 1
        assert requests.get(info["url"] + "/api/v2.0/ping", timeout=5).status_code == 503
        client.lose_response("POST /projects")
        with pytest.raises(requests.ConnectionError):
            requests.post(info["url"] + "/api/v2.0/projects", json={"project_name": "p"},
                          auth=("admin", "Harbor12345"), timeout=5)  # fmt: skip
        assert [p["name"] for p in client.state()["projects"].values()] == ["library", "p"]
        assert not client.is_empty()
        client.faults(jobservice_down=True)
        assert client.api("GET", "/health")["status"] == "unhealthy"
        bad = requests.post(info["control_url"] + "/_double/settings", json={"no_such": 1}, timeout=5)
        assert bad.status_code == 400 and "no_such" in bad.text
    finally:
        proc.terminate()
        proc.wait(timeout=10)
