"""Conformance: the 207 exchanges recorded between our providers and a running Harbor v2.12.4, replayed in order
against the double; every status, error body and ``Location`` must match, except the listed differences.

The recording is read where it lies (``../shared/harbor/recorded-2.12.4.jsonl``, or ``$HARBOR_RECORDING``). It holds
requests and answers, not the world around them; each phase is derived from the recording itself (the same table
is in docs/harbor-double.md):

- upstream registry ``http://127.0.0.1:15501`` (registries with that URL were created): a FakeUpstream on a free
  port, and the double's ``upstream_map`` sends that URL there;
- no route to AWS (``aws-ecr`` creates fail): the double's default, ``aws_reachable`` False;
- wrong admin password (a 401): that request is sent with another password;
- Harbor down (``error`` instead of a status): the ``down`` fault while such exchanges last;
- jobservice down (a 500 on a proxy-project create whose registry exists, or on a scheduled policy create): the
  ``jobservice_down`` fault for that exchange;
- out-of-band deletes (a 404 for an object the double holds, a 201 for a name it holds): deleted as admin first;
- images in projects (the recorder deleted repositories ``<project>/<repo>``): added when the project is created;
- lookups by name (``/projects/<ref>``, ``<ref>`` a project name the recording creates): ``X-Is-Resource-Name``;
- ids used out of band (a 201's id beyond the double's next one): marked used; must be exactly
  ``OUT_OF_BAND_IDS``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
import requests

from lab.harbor_double import HarborDouble
from lab.harbor_double.fake_upstream import FakeUpstream
from lab.paths import ROOT

RECORDING = Path(os.environ.get("HARBOR_RECORDING", ROOT.parent / "shared" / "harbor" / "recorded-2.12.4.jsonl"))
RECORDED_UPSTREAM = "http://127.0.0.1:15501"
PASSWORD = "recorded-admin-pw"
API = "/api/v2.0"
KINDS = {"registries": "registries", "projects": "projects", "retentions": "retentions",
         "replication/policies": "policies", "replication/executions": "executions"}  # fmt: skip

# Ids the recorded Harbor used for something the recording does not show (each answer had a bigger id than the
# requests before it explain). Every other id lines up by itself: rolled-back creates (jobservice down) and
# duplicate-name inserts use ids in the double as in PostgreSQL, and execution ids count Harbor's schedules.
OUT_OF_BAND_IDS = {("registries", 2), ("projects", 3), ("policies", 3)}

# seq → why Harbor 2.14 (the double) answers differently from the recorded 2.12.4. Empty: none differ.
LISTED_DIFFERENCES: dict[int, str] = {}


def _exchanges() -> list[dict[str, Any]]:
    if not RECORDING.exists():
        pytest.skip(f"the recorded exchanges are not at {RECORDING} (set HARBOR_RECORDING)")
    return [json.loads(line) for line in RECORDING.read_text(encoding="utf-8").splitlines() if line.strip()]


def _path(e: dict[str, Any]) -> str:
    return urlsplit(e["url"]).path  # the Harbor-down exchanges were recorded with an absolute URL


@dataclass
class Scenario:
    """What the recording shows about the world around each exchange (see the module docstring)."""

    exchanges: list[dict[str, Any]]
    project_names: set[str] = field(default_factory=set)
    images: dict[str, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for e in self.exchanges:
            path = _path(e)
            if e["method"] == "POST" and path == f"{API}/projects":
                self.project_names.add(e["body"]["project_name"])
            parts = path[len(API) + 1 :].split("/")
            if e["method"] == "DELETE" and len(parts) == 4 and parts[0] == "projects" and parts[2] == "repositories":
                self.images.setdefault(parts[1], []).append(unquote(unquote(parts[3])))

    @staticmethod
    def jobservice_down(e: dict[str, Any], double: HarborDouble) -> bool:
        if e.get("status") != 500 or e["method"] != "POST":
            return False
        body, path = e.get("body") or {}, _path(e)
        if path == f"{API}/projects":
            return body.get("registry_id") in double.state["registries"]
        return path == f"{API}/replication/policies" and (body.get("trigger") or {}).get("type") == "scheduled"

    def headers(self, e: dict[str, Any]) -> dict[str, str]:
        parts = _path(e)[len(API) + 1 :].split("/")
        if len(parts) == 2 and parts[0] == "projects" and parts[1] in self.project_names:
            return {"X-Is-Resource-Name": "true"}
        return {}

    @staticmethod
    def removed_out_of_band(e: dict[str, Any], double: HarborDouble) -> list[str]:
        """Paths the recorder must have deleted before this exchange."""
        parts = _path(e)[len(API) + 1 :].split("/")
        if e["method"] == "GET" and e.get("status") == 404 and parts[0] == "projects" and len(parts) == 2:
            if parts[1].isdigit() and int(parts[1]) in double.state["projects"]:
                return [f"/projects/{parts[1]}"]
        if e["method"] == "POST" and e.get("status") == 201:
            kind = KINDS.get("/".join(parts))
            name = (e.get("body") or {}).get("name") or (e.get("body") or {}).get("project_name")
            if kind in ("registries", "policies", "projects") and name:
                holders = [o for o in double.state[kind].values() if o["name"] == name]
                return [f"/{'/'.join(parts)}/{o.get('id') or o.get('project_id')}" for o in holders]
        return []


@pytest.fixture
def world() -> Iterator[tuple[HarborDouble, FakeUpstream]]:
    with FakeUpstream() as upstream, HarborDouble(PASSWORD) as double:
        double.set_settings(upstream_map={RECORDED_UPSTREAM: upstream.url})
        yield double, upstream


def _outcome(resp: requests.Response) -> tuple[int, Any, str | None]:
    body: Any = resp.text.strip()
    if resp.status_code >= 400 and body:
        body = json.loads(body)
    return resp.status_code, body if resp.status_code >= 400 else None, resp.headers.get("Location")


def _recorded(e: dict[str, Any]) -> tuple[int, Any, str | None]:
    body: Any = (e.get("resp") or "").strip()
    if e["status"] >= 400 and body:
        body = json.loads(body)
    return e["status"], body if e["status"] >= 400 else None, e.get("location")


def _align_ids(e: dict[str, Any], double: HarborDouble) -> list[tuple[str, int]]:
    """Mark ids the recorded Harbor used out of band (its 201 names a bigger id than the double's next)."""
    location = e.get("location") or ""
    if e.get("status") != 201 or not location:
        return []
    kind = KINDS["/".join(location[len(API) + 1 :].split("/")[:-1])]
    wanted, sequence = int(location.rsplit("/", 1)[1]), double.state["next_ids"][kind]
    with double.lock:
        double.store.skip_ids(kind, wanted - 1)
    return [(kind, i) for i in range(sequence + 1, wanted)]


def _replay(e: dict[str, Any], scenario: Scenario, double: HarborDouble) -> tuple[int, Any, str | None] | str:
    for path in scenario.removed_out_of_band(e, double):
        assert requests.delete(double.url + API + path, auth=("admin", PASSWORD), timeout=10).status_code == 200
    double.set_faults(jobservice_down=scenario.jobservice_down(e, double))
    if ("error" in e) != double.faults.down:
        double.set_down("error" in e)
    password = "not-the-admin-password" if e.get("status") == 401 else PASSWORD
    try:
        resp = requests.request(
            e["method"], double.url + _path(e), params=e.get("params"), json=e.get("body"),
            headers=scenario.headers(e), auth=("admin", password), timeout=10,
        )  # fmt: skip
    except requests.ConnectionError as exc:
        return f"connection error: {type(exc).__name__}"
    outcome = _outcome(resp)
    if outcome[0] == 201 and _path(e) == f"{API}/projects":
        for image in scenario.images.get(e["body"]["project_name"], []):
            double.add_repository(e["body"]["project_name"], image)
    return outcome


def replay(double: HarborDouble) -> tuple[int, dict[int, str], list[tuple[str, int]]]:
    """Replay every exchange in order: (how many, the differences by seq, the ids marked used out of band)."""
    exchanges = _exchanges()
    scenario = Scenario(exchanges)
    differences: dict[int, str] = {}
    gaps: list[tuple[str, int]] = []
    for e in exchanges:
        gaps += _align_ids(e, double)
        got = _replay(e, scenario, double)
        want: Any = "connection error: ConnectionError" if "error" in e else _recorded(e)
        if got != want:
            differences[e["seq"]] = f"{e['method']} {_path(e)}: recorded {want}, double {got}"
    return len(exchanges), differences, gaps


def test_the_double_answers_the_recorded_exchanges_as_harbor_did(world: tuple[HarborDouble, FakeUpstream]) -> None:
    double, upstream = world
    total, differences, gaps = replay(double)
    assert total == 207
    unexplained = {seq: d for seq, d in differences.items() if seq not in LISTED_DIFFERENCES}
    stale = sorted(set(LISTED_DIFFERENCES) - set(differences))
    matched = total - len(differences)
    assert not unexplained, f"{matched}/{total} match; unexplained:\n" + "\n".join(
        f"seq {seq}: {d}" for seq, d in sorted(unexplained.items())
    )
    assert not stale, f"listed differences that now match (remove them from LISTED_DIFFERENCES): {stale}"
    assert set(gaps) == OUT_OF_BAND_IDS, f"ids used out of band: {sorted(gaps)}"
    assert double.violations == [], "the recorded requests follow the swagger"
    assert upstream.hits > 0, "registry writes pinged the stand-in upstream"


def test_the_replay_notices_a_double_that_differs(world: tuple[HarborDouble, FakeUpstream]) -> None:
    """The comparison can fail: with the upstream stopped, the recorded registry creates are answered 400."""
    double, upstream = world
    upstream.stop()
    _, differences, _ = replay(double)
    assert "recorded (201, None, '/api/v2.0/registries/1'), double (400" in differences[1]
