"""The Harbor double itself: it follows the swagger, not the client, and runs as a standalone process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import requests

from lab.harbor_double import HarborDouble
from lab.harbor_double.handlers import HANDLERS
from lab.harbor_double.swagger import load_swagger
from tests.provider.conftest import PASSWORD

AUTH = ("admin", PASSWORD)


def test_every_handler_serves_an_operation_of_the_swagger() -> None:
    """A handler registered under a misspelt operationId would never run (the operation would answer 501)."""
    operations = {op.operation_id for op in load_swagger().operations}
    assert set(HANDLERS) - operations == set()
    # getArtifact: handlers/artifacts.py (nodeVerification); getRepository, listArtifacts, getProjectSummary:
    # handlers/cache.py (the cache report)
    assert len(HANDLERS) == 39


def test_rejects_a_malformed_body_and_records_it(double: HarborDouble) -> None:
    bad = {"project_name": "mif", "metadata": {"public": True}, "storage_limit": 1.5, "unknown_field": 1}
    resp = requests.post(f"{double.url}/api/v2.0/projects", json=bad, auth=AUTH, timeout=5)
    assert resp.status_code == 422
    problems = list(double.violations)
    assert any("metadata.public" in p and "is not of type 'string'" in p for p in problems)
    assert any("storage_limit" in p for p in problems)
    assert any("unknown_field" in p for p in problems)
    assert double.state["projects"] == {}
    double.violations.clear()  # provoked on purpose


def test_rejects_oversized_pages_and_records_unknown_query_parameters(double: HarborDouble) -> None:
    """go-swagger rejects what breaks a declared parameter (422) and ignores undeclared ones; the double records
    both, so a test of the client fails either way."""
    r1 = requests.get(f"{double.url}/api/v2.0/registries", params={"page_size": 101}, auth=AUTH, timeout=5)
    r2 = requests.get(f"{double.url}/api/v2.0/registries", params={"nmae": "x"}, auth=AUTH, timeout=5)
    r3 = requests.get(f"{double.url}/api/v2.0/registries/abc", auth=AUTH, timeout=5)
    assert (r1.status_code, r2.status_code, r3.status_code) == (422, 200, 422)
    assert r1.json() == {"errors": [{"code": "UNPROCESSABLE_ENTITY", "message": (
        "validation failure list:\npage_size in query should be less than or equal to 100")}]}
    assert r3.json()["errors"][0]["message"] == 'validation failure list:\nid in path must be of type integer: "abc"'
    assert len(double.violations) == 3
    double.violations.clear()


def test_harbor_semantics(double: HarborDouble) -> None:
    s = requests.Session()
    s.auth = AUTH
    api = f"{double.url}/api/v2.0"

    def post(path: str, body: dict[str, Any]) -> requests.Response:
        s.cookies.clear()
        return s.post(api + path, json=body, timeout=5)

    assert post("/projects", {"project_name": "p", "registry_id": 0}).json()["errors"][0]["message"] == (
        "0 is invalid value of registry_id, it should be geater than 0"
    )
    created = post("/projects", {"project_name": "p", "metadata": {"public": "true"}})
    assert created.status_code == 201 and created.headers["Location"].startswith("/api/v2.0/projects/")
    assert post("/projects", {"project_name": "p"}).status_code == 409
    listing = s.get(api + "/projects", params={"name": "p", "page_size": "1"}, timeout=5)
    assert listing.headers["X-Total-Count"] == "1" and listing.headers["X-Request-Id"]
    assert s.get(api + "/ping", timeout=5).text == "Pong"
    policy = {"name": "x", "src_registry": {"id": 0}, "dest_namespace": "p"}
    assert post("/replication/policies", policy).status_code == 400
    double.cookies_seen = 0


def test_fault_switches(double: HarborDouble) -> None:
    api = f"{double.url}/api/v2.0"
    double.set_faults(unauthorized=True)
    assert requests.get(api + "/registries", auth=AUTH, timeout=5).status_code == 401
    double.set_faults(unauthorized=False, slow=0.2)
    started = time.monotonic()
    requests.get(api + "/ping", timeout=5)
    assert time.monotonic() - started >= 0.2


def test_standalone_process_with_control_api(tmp_path: Path) -> None:
    pw = tmp_path / "pw"
    pw.write_text("standalone-pw\n")
    state = tmp_path / "state"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lab",
            "double",
            "--admin-password-file",
            str(pw),
            "--state-dir",
            str(state),
            "--control-port",
            "0",
        ],
        cwd=Path(__file__).resolve().parents[2],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        info = json.loads(proc.stdout.readline())
        assert json.loads((state / "endpoint.json").read_text())["url"] == info["url"]
        api, control = info["url"] + "/api/v2.0", info["control_url"]
        body = {"project_name": "mif", "metadata": {"public": "true"}}
        assert (
            requests.post(
                api + "/projects", json=body, auth=("admin", "standalone-pw"), timeout=5
            ).status_code
            == 201
        )
        assert (
            requests.post(
                control + "/_double/repositories", json={"project": "mif", "name": "a/b"}, timeout=5
            ).status_code
            == 201
        )
        assert requests.get(control + "/_double/counts", timeout=5).json() == {"POST /projects": 1}
        assert "mif" in (state / "state.json").read_text()
        requests.post(control + "/_double/faults", json={"down": True}, timeout=5)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                requests.get(api + "/ping", timeout=1)
            except requests.ConnectionError:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("API port still answers while down")
        assert requests.get(control + "/_double/faults", timeout=5).json()["down"] is True
        requests.post(control + "/_double/faults", json={"down": False}, timeout=5)
        time.sleep(0.3)
        assert requests.get(api + "/ping", timeout=5).text == "Pong"
        assert requests.get(control + "/_double/violations", timeout=5).json() == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)
