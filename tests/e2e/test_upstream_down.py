"""Fault matrix row: the upstream registry goes down while nodes pull images already in the cache, by tag and by
digest (docs/faults.md, "The upstream registry goes down").

The sandbox's pull path plays what Harbor does (lab/testbed/upstream_health.py): while the registry's stored
status is Healthy a pull by tag first asks the upstream and falls back to the cached copy after the upstream's
error or timeout; a pull by digest is served from the cache at once; once the health check (Harbor: every
300 s, here every INTERVAL s) marks the upstream unhealthy, everything is served from the cache without asking.
The way around that Harbor allows: pull by digest, or let nodes ask a replicated plain project first
(``replication.nodesPullFirst``), which Harbor serves without asking the upstream.

Each step checks the node (files, containerd), Harbor's objects and Pulumi's state; the ``up`` after the outage
has nothing to do. Figures are printed as ``FAULT upstream-down ...`` lines (``pytest -s``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from lab.project import StackFile
from lab.testbed import IMAGE_REPO, faults, upstream_health
from tests.e2e.fault_sandbox import FaultStack, changes, fault_stack, pending_operations
from tests.support.lifecycle import hosts_toml

pytestmark = pytest.mark.engine

INTERVAL = 15.0  # the stand-in health check's period here (Harbor's: 300 s)
FAST_S = 10.0  # a pull served from the cache without waiting for the upstream takes far less
RUN: dict[str, Any] = {}


@pytest.fixture(scope="module")
def fs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultStack]:
    with fault_stack(tmp_path_factory.mktemp("upstream-down"), "updown", nodes=1) as f:
        yield f


def pull(fs: FaultStack, ref: str) -> dict[str, Any]:
    """Forget ``ref`` on node1 and pull it again: ok, seconds, which Harbor projects answered 200, whether the
    node reached the upstream itself, whether the pull path served from the cache alone, containerd's error."""
    node = fs.box.bed.nodes[0]
    node.remove_image(ref)
    fs.box.bed.clear_logs()
    local = upstream_health.serving_local(fs.box.bed.base)
    began = time.monotonic()
    result = node.crictl("pull", ref, timeout=180)
    took = time.monotonic() - began
    projects = sorted({r["path"].split("/")[2] for r in fs.box.bed.harbor_requests()
                       if r["client"] == node.addr and r["status"] == "200" and r["path"].count("/") > 2})
    return {"ok": result.returncode == 0, "s": round(took, 1), "projects": projects,
            "to_upstream": bool(fs.box.bed.upstream_requests(node.addr)), "cache_only": local,
            "error": "" if result.returncode == 0 else (result.stderr.strip().splitlines() or [""])[-1][-300:]}


def by_tag(fs: FaultStack) -> str:
    return fs.box.spec.image


def by_digest(fs: FaultStack) -> str:
    return f"{fs.box.spec.host_addr}:5000/{IMAGE_REPO}@{RUN['digest']}"


def wait_status(fs: FaultStack, healthy: bool, since: float, timeout: float = 3 * INTERVAL + 60) -> float:
    """Seconds from ``since`` (unix time) until the health check logged ``healthy``/``unhealthy``."""
    want = "healthy" if healthy else "unhealthy"
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        for at, status in upstream_health.transitions(fs.box.bed.base):
            if at >= since and status == want:
                return at - since
        time.sleep(0.2)
    raise AssertionError(f"the pull path never marked the upstream {want}")


def wait_proxying(fs: FaultStack, timeout: float = 3 * INTERVAL + 60) -> None:
    """Wait until the health check has found the upstream healthy again (the pull path proxies)."""
    end = time.monotonic() + timeout
    while upstream_health.serving_local(fs.box.bed.base):
        assert time.monotonic() < end, "the upstream was never marked healthy again"
        time.sleep(0.2)


def assert_unchanged(fs: FaultStack) -> None:
    """Harbor's objects, the node and Pulumi's state as the last ``up`` left them."""
    assert fs.harbor_objects() == RUN["objects"]
    assert fs.nodes_state() == RUN["nodes"]
    assert not pending_operations(fs.deployment())


def up(fs: FaultStack) -> dict[str, int]:
    result = fs.stack.up(on_output=fs.output.append)
    assert result.summary.result == "succeeded"
    RUN.update(objects=fs.harbor_objects(), nodes=fs.nodes_state(),
               digest=result.outputs["nodeVerification"].value["digest"])
    return changes(result.summary)


def test_warm_cache(fs: FaultStack) -> None:
    up(fs)
    fs.box.bed.check_upstream_every(INTERVAL)
    warm = pull(fs, by_tag(fs))
    assert warm["ok"] and warm["projects"] == ["mif"] and not warm["to_upstream"], warm
    assert RUN["digest"].startswith("sha256:")


def test_upstream_refusing_connections(fs: FaultStack) -> None:
    with faults.upstream_down(fs.box.spec.host_addr, mode="refused"):
        tag, digest = pull(fs, by_tag(fs)), pull(fs, by_digest(fs))
        assert_unchanged(fs)
    for got in (tag, digest):
        assert got["ok"] and got["s"] < FAST_S and got["projects"] == ["mif"], got
    RUN["refused"] = {"tag": tag, "digest": digest}
    wait_proxying(fs)


def test_upstream_unreachable_by_tag_and_by_digest(fs: FaultStack) -> None:
    pulls: list[dict[str, Any]] = []
    with faults.upstream_down(fs.box.spec.host_addr, mode="blackhole"):
        began = time.time()
        digest = pull(fs, by_digest(fs))
        while not upstream_health.serving_local(fs.box.bed.base):
            got = pull(fs, by_tag(fs))
            pulls.append({**got, "at_s": round(time.time() - began - got["s"], 1)})
            assert time.time() - began < 3 * INTERVAL + 120, pulls
        flipped = wait_status(fs, healthy=False, since=began)
        after = pull(fs, by_tag(fs))
        assert_unchanged(fs)
    assert digest["ok"] and digest["s"] < FAST_S and digest["projects"] == ["mif"], digest
    assert after["ok"] and after["s"] < FAST_S and after["cache_only"], after
    before = [p for p in pulls if not p["cache_only"]]
    assert before, "no pull by tag happened while the upstream was still marked healthy"
    # While the status is Healthy, a pull by tag waits for the upstream's connect timeout first.
    assert all(p["s"] >= 20 or not p["ok"] for p in before), before
    RUN["blackhole"] = {"digest": digest, "tag_before_flip": before, "flip_s": round(flipped, 1),
                        "tag_after_flip": after}
    print(f"FAULT upstream-down refused={RUN['refused']} blackhole={RUN['blackhole']}")


def test_replica_first_serves_tags_while_the_upstream_is_down(fs: FaultStack) -> None:
    wait_proxying(fs)
    fs.box.bed.serve_plain_projects(["mif-replica"])

    def pull_first(values: dict[str, Any]) -> None:
        values["replication"]["nodesPullFirst"] = True
    StackFile(fs.work, fs.name).edit(pull_first)
    changed = up(fs)
    assert set(changed) == {"same", "update"}, changed  # the node's hosts.toml (and what reports on it)
    text = hosts_toml(fs.box.bed.nodes[0], f"{fs.box.spec.host_addr}:5000").read_text()
    assert text.index("/v2/mif-replica\"]") < text.index("/v2/mif\"]"), text
    with faults.upstream_down(fs.box.spec.host_addr, mode="blackhole"):
        tag = pull(fs, by_tag(fs))
        assert_unchanged(fs)
    assert tag["ok"] and tag["s"] < FAST_S and tag["projects"] == ["mif-replica"] and not tag["cache_only"], tag
    RUN["replica_first"] = tag
    print(f"FAULT upstream-down replica_first_tag={tag}")


def test_up_after_the_outage_has_nothing_to_do(fs: FaultStack) -> None:
    wait_proxying(fs)
    began = time.monotonic()
    assert set(up(fs)) == {"same"}
    took = time.monotonic() - began
    assert_unchanged(fs)
    assert all(n["containerd"] for n in fs.nodes_state().values())
    again = pull(fs, by_tag(fs))
    assert again["ok"] and again["projects"] == ["mif-replica"], again
    print(f"FAULT upstream-down recovery_up_s={took:.1f}")
