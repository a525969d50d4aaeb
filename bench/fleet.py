"""Benchmark 2 (fleet fan-out) and 3 (memory): ``pulumi up`` configuring N namespace nodes over SSH.

Through the real engine (Automation API, file backend) with ``bench/fleet_program``: one
``NodeContainerdConfig`` per node (harbor-cache's paramiko provider, files from ``components/containerd.py``).
Per run and per N: ``up`` (every node: files written, config.toml changed, containerd restarted), a no-change
``up`` (SSH sessions counted from the nodes' sshd logs: there must be none), and ``destroy`` (every node
restored), so the next run starts from stock nodes again. Peak RSS of the program's and the provider's
Python processes is sampled during every ``up``.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from bench.common import ROOT, RUNS, SUBNET, WORK, Figure, median, now, save, step
from bench.memory import PeakRss
from lab.engine import copy_program, engine_env, python_project, stack
from lab.testbed import NODE_HEALTH_COMMAND, NODE_RESTART_COMMAND, PROJECT, Node, Testbed

PROGRAM = ROOT / "bench" / "fleet_program"
SIZES = tuple(int(x) for x in os.environ.get("HARBOR_CACHE_BENCH_FLEET_SIZES", "1,8,64").split(","))
# `pulumi up --parallel` for every size: as many as the largest fleet has nodes, as docs/nodes.md advises for
# fleets (the engine's default is 4 per core, 8 here); 0 = the engine's default.
PARALLEL = int(os.environ.get("HARBOR_CACHE_BENCH_PARALLEL", str(max(SIZES))))


def ssh_sessions(nodes: list[Node]) -> int:
    """SSH logins so far on these nodes (``Accepted publickey`` lines in their sshd logs)."""
    total = 0
    for node in nodes:
        log = node.path / "sshd.log"
        total += log.read_text(errors="replace").count("Accepted publickey") if log.exists() else 0
    return total


def make_stack(work: Path, backend: Path, bed: Testbed, nodes: list[Node]) -> auto.Stack:
    """A stack ``fleet<N>`` of the fleet program for these nodes."""
    st = stack(work, f"fleet{len(nodes)}", engine_env(backend, PYTHONPATH=str(ROOT)),
               python_project("harbor-cache", "benchmark: fleet fan-out"))
    values = {
        "nodes": json.dumps([{"name": n.name, "address": n.addr} for n in nodes]),
        "harborHost": bed.host_addr, "harborPort": str(bed.harbor_port),
        "upstreamHost": f"{bed.host_addr}:5000", "upstreamServer": bed.upstream_server,
        "restartCommand": NODE_RESTART_COMMAND, "healthCommand": NODE_HEALTH_COMMAND,
    }
    config = {f"harbor-cache:{k}": auto.ConfigValue(v) for k, v in values.items()}
    config["harbor-cache:sshPrivateKey"] = auto.ConfigValue(bed.client_key.read_text(), secret=True)
    st.set_all_config(config)
    return st


class Timeline:
    """When each node resource's step started and finished during one ``up`` (from the engine's events)."""

    def __init__(self) -> None:
        self.t0 = time.monotonic()
        self.spans: dict[str, list[float]] = {}

    def on_event(self, event: auto.EngineEvent) -> None:
        """Engine event callback: stamp resource pre (start) and outputs (end) of node resources."""
        t = round(time.monotonic() - self.t0, 2)
        if event.resource_pre_event and "ContainerdConfig" in event.resource_pre_event.metadata.type:
            self.spans.setdefault(event.resource_pre_event.metadata.urn.rsplit("::", 1)[-1], [t, t])
        elif event.res_outputs_event and "ContainerdConfig" in event.res_outputs_event.metadata.type:
            name = event.res_outputs_event.metadata.urn.rsplit("::", 1)[-1]
            self.spans.setdefault(name, [t, t])[1] = t

    def summary(self) -> dict[str, Any]:
        """First start, last end, mean span and the most node steps in flight at once."""
        if not self.spans:
            return {}
        spans = list(self.spans.values())
        edges = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans], key=lambda e: (e[0], e[1]))
        inflight = peak = 0
        for _, step_ in edges:
            inflight += step_
            peak = max(peak, inflight)
        return {"first_start_s": min(a for a, _ in spans), "last_end_s": max(b for _, b in spans),
                "mean_node_s": round(sum(b - a for a, b in spans) / len(spans), 2), "max_in_flight": peak}


def _kw(output: list[str], timeline: Timeline | None = None) -> dict[str, Any]:
    kw: dict[str, Any] = {"on_output": output.append}
    if timeline is not None:
        kw["on_event"] = timeline.on_event
    if PARALLEL:
        kw["parallel"] = PARALLEL
    return kw


def changes(summary: auto.UpdateSummary) -> dict[str, int]:
    """The summary's resource changes by operation name (``create``, ``same``, ...)."""
    return {str(getattr(op, "value", op)): n for op, n in (summary.resource_changes or {}).items()}


def one_run(st: auto.Stack, nodes: list[Node]) -> dict[str, Any]:
    """up, no-change up, destroy; seconds of each, SSH sessions of the no-change up, peak RSS of the up."""
    output: list[str] = []
    try:
        logins = ssh_sessions(nodes)
        timeline = Timeline()
        load = [round(x, 1) for x in os.getloadavg()]  # the machine is shared: how busy it was
        with PeakRss() as peak:
            start = time.monotonic()
            res = st.up(**_kw(output, timeline))
            up_s = time.monotonic() - start
        logins = ssh_sessions(nodes) - logins
        created = changes(res.summary).get("create", 0)
        if created != len(nodes) + 1:  # the nodes and the stack
            raise RuntimeError(f"up created {created} resources, expected {len(nodes) + 1}")
        before = ssh_sessions(nodes)
        start = time.monotonic()
        again = st.up(**_kw(output))
        noop_s = time.monotonic() - start
        sessions = ssh_sessions(nodes) - before
        start = time.monotonic()
        st.destroy(**_kw(output))
        destroy_s = time.monotonic() - start
    except auto.CommandError:
        print("\n".join(output[-40:]), flush=True)
        raise
    return {"up": round(up_s, 2), "noop_up": round(noop_s, 2), "destroy": round(destroy_s, 2), "load_avg": load,
            "up_ssh_sessions": logins, "noop_ssh_sessions": sessions, "noop_changes": changes(again.summary),
            "peak_rss_mb": peak.mb, "rss_commands": peak.commands, "node_steps": timeline.summary()}


def main(runs: int = RUNS) -> dict[str, Figure]:
    """Run benchmarks 2 and 3 and save them under ``fleet`` in results.json."""
    started = now()
    base = WORK / "fleet"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    (base / "state").mkdir()
    work = copy_program(PROGRAM, base / "program")
    per: dict[int, list[dict[str, Any]]] = {n: [] for n in SIZES}
    with step(f"start {max(SIZES)} nodes"):
        bed = Testbed(base / "bed", ["1.6"] * max(SIZES), SUBNET)
        bed.__enter__()
    stacks: list[auto.Stack] = []
    try:
        stacks = [make_stack(work, base / "state", bed, bed.nodes[:n]) for n in SIZES]
        for i in range(runs):
            for n, st in zip(SIZES, stacks, strict=True):
                with step(f"fleet run {i + 1}/{runs}: N={n}"):
                    per[n].append(one_run(st, bed.nodes[:n]))
                print(f"[bench]   {per[n][-1]}", flush=True)
    finally:
        for st in stacks:
            try:
                st.destroy()
                st.workspace.remove_stack(st.name, force=True)
            except auto.CommandError as exc:
                print(f"[bench] cleanup of {st.name}: {exc}", flush=True)
        bed.stop()
    return _report(per, started, runs)


def _report(per: dict[int, list[dict[str, Any]]], started: str, runs: int) -> dict[str, Figure]:
    lo, hi = min(SIZES), max(SIZES)
    figures: dict[str, Figure] = {}
    for n in SIZES:
        ups = [r["up"] for r in per[n]]
        figures[f"up_{n}_nodes_s"] = Figure(median(ups), "s", runs=ups)
    ratios = [b["up"] / a["up"] for a, b in zip(per[lo], per[hi], strict=True)]
    figures[f"up_ratio_{hi}_vs_{lo}"] = Figure(median(ratios), "x", 4.0, "<=", [round(r, 2) for r in ratios],
                                               "median of per-run time(N=max)/time(N=1)")
    sessions = [r["noop_ssh_sessions"] for r in per[hi]]
    figures[f"noop_up_{hi}_nodes_ssh_sessions"] = Figure(max(sessions), "sessions", 0, "<=",
                                                         [float(s) for s in sessions], "max over runs")
    noop = [r["noop_up"] for r in per[hi]]
    figures[f"noop_up_{hi}_nodes_s"] = Figure(median(noop), "s", runs=noop)
    rss = [r["peak_rss_mb"].get("program", 0.0) for r in per[hi]]
    figures[f"peak_rss_program_up_{hi}_nodes_mb"] = Figure(max(rss), "MiB", 400, "<=", rss,
                                                           "max over runs of the program's VmHWM")
    prov = [r["peak_rss_mb"].get("provider", 0.0) for r in per[hi]]
    figures[f"peak_rss_provider_up_{hi}_nodes_mb"] = Figure(max(prov), "MiB", runs=prov,
                                                            note="the dynamic provider's Python (no target)")
    details = {"sizes": list(SIZES), "runs": runs, "parallel": PARALLEL or "engine default (8)",
               "per_size": {str(n): per[n] for n in SIZES}, "project": PROJECT}
    save("fleet", figures, details, started)
    return figures
