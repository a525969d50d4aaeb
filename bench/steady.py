"""Benchmark 4 (steady state) and 3 on the full stack: the harbor-cache program on a private sandbox.

A sandbox (local API server, cert-manager's controller, the Harbor API double, three namespace nodes) on the bench
subnet; the whole program (a temp copy of the project) is brought up once (peak RSS of its Python processes
sampled), then, interleaved per run: a no-change ``pulumi preview`` and a ``pulumi refresh`` of it and of a
program declaring the same number of resources with no logic (``bench/minimal_program``). The double counts
Harbor API requests per endpoint; each refresh's delta is compared with the number of Harbor resources.

Where a preview's time goes (``breakdown``): one more no-change preview of each stack with ``PULUMI_DEBUG_GRPC``
(the engine logs every gRPC call with its time), cut into phases: the engine before the program runs, the
program from its start to its stack resource (Python start, imports, settings), the resource registrations
(providers started and configured, each resource's check and diff), the program's exit, and the engine after it;
plus the time in each provider's calls and the program's Python CPU seconds (``python -X importtime`` is in
bench/README.md).
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
import urllib.request
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from bench.common import ROOT, RUNS, SUBNET, WORK, Figure, median, now, save, step
from bench.memory import PeakRss
from lab.engine import copy_program, engine_env, python_project, stack
from lab.processes import free_port
from lab.project import StackFile, copy_project, ssh_keypair
from lab.sandbox import Sandbox, SandboxSpec

MINIMAL = ROOT / "bench" / "minimal_program"
HARBOR_TYPES = "pulumi-python:dynamic/harbor:"


def settings(box: Sandbox) -> dict[str, Any]:
    """harbor-cache values for this sandbox (as the e2e lifecycle uses them: the real chart, all nodes,
    replication on)."""
    return box.stack_values("bench")


def counts(box: Sandbox) -> dict[str, int]:
    """The double's requests per ``METHOD /template`` so far."""
    port = box.spec.control_port  # loopback only
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/_double/counts", timeout=10) as r:
        data: dict[str, int] = json.loads(r.read())
    return data


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Requests made between two ``counts`` snapshots."""
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


def harbor_stack(base: Path, box: Sandbox, private_key: str) -> auto.Stack:
    """The harbor-cache program (temp copy) as stack ``steady`` with this sandbox's settings and secrets."""
    work = copy_project(base / "program")
    st = stack(work, "steady", engine_env(base / "state"), python_project("harbor-cache", "benchmark copy"))
    StackFile(work, "steady").set(settings(box))
    for key, value in (("adminPassword", box.spec.admin_password), ("upstreamSecretKey", "bench-secret"),
                       ("sshPrivateKey", private_key)):
        st.set_config(f"harbor-cache:{key}", auto.ConfigValue(value, secret=True))
    return st


def minimal_stack(base: Path, count: int) -> auto.Stack:
    """``count`` no-logic resources as stack ``minimal``."""
    work = copy_program(MINIMAL, base / "minimal")
    st = stack(work, "minimal", engine_env(base / "state"), python_project("harbor-cache-minimal"))
    st.set_config("count", auto.ConfigValue(str(count)))
    return st


def resource_types(st: auto.Stack) -> list[str]:
    """Types of the program's resources in state (no stack, no provider resources)."""
    res = (st.export_stack().deployment or {}).get("resources", [])
    return [r["type"] for r in res
            if r["type"] != "pulumi:pulumi:Stack" and not r["type"].startswith("pulumi:providers:")]


def timed(fn: Any, **kw: Any) -> tuple[float, Any]:
    """Seconds and result of one engine operation."""
    start = time.monotonic()
    result = fn(**kw)
    return round(time.monotonic() - start, 2), result


def measure(box: Sandbox, harbor: auto.Stack, minimal: auto.Stack, runs: int) -> dict[str, Any]:
    """Interleaved no-change previews and refreshes of both stacks; the double's request deltas per refresh."""
    out: dict[str, Any] = {"preview": [], "preview_minimal": [], "refresh": [], "refresh_minimal": [],
                           "refresh_requests": [], "preview_requests": [], "preview_changes": []}
    sink: list[str] = []
    for i in range(runs):
        with step(f"steady run {i + 1}/{runs}"):
            before = counts(box)
            took, prev = timed(harbor.preview, on_output=sink.append)
            out["preview_requests"].append(delta(before, counts(box)))
            out["preview"].append(took)
            out["preview_changes"].append(prev.change_summary)
            out["preview_minimal"].append(timed(minimal.preview, on_output=sink.append)[0])
            before = counts(box)
            out["refresh"].append(timed(harbor.refresh, on_output=sink.append)[0])
            out["refresh_requests"].append(delta(before, counts(box)))
            out["refresh_minimal"].append(timed(minimal.refresh, on_output=sink.append)[0])
        print(f"[bench]   preview {out['preview'][-1]}s vs {out['preview_minimal'][-1]}s, refresh "
              f"{out['refresh'][-1]}s vs {out['refresh_minimal'][-1]}s, refresh requests "
              f"{out['refresh_requests'][-1]}", flush=True)
    return out


def _stamp(text: str) -> float:
    """Seconds of an RFC 3339 timestamp with nanoseconds (the gRPC log's)."""
    head, _, frac = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(head + "+00:00").timestamp() + float("0." + (frac or "0"))


def phases(grpc_log: Path) -> dict[str, float]:
    """A preview cut into phases (seconds) from the engine's gRPC log (``PULUMI_DEBUG_GRPC``), and the time in
    each provider's calls (``calls:<provider>``) and configure (``configure:<provider>``)."""
    rows = [json.loads(line) for line in grpc_log.read_text().splitlines() if line.strip()]
    timed = [r for r in rows if not r.get("timestamp", "").startswith("0001")]
    first, last = _stamp(timed[0]["timestamp"]), _stamp(timed[-1]["timestamp"])
    marks: dict[str, float] = {}
    out: dict[str, float] = defaultdict(float)
    for r in timed:
        method, when = r["method"].rsplit("/", 1)[-1], _stamp(r["timestamp"])
        done = r["progress"] == "response_completed"
        if method == "Run":
            marks["run_start" if not done else "run_end"] = when
        elif method == "RegisterResource" and done and "stack" not in marks:
            marks["stack"] = when
        elif method == "SignalAndWaitForShutdown" and done:
            marks["shutdown"] = when
        elif method in ("Check", "Diff", "Configure") and done and "duration" in r:
            provider = r.get("metadata", {}).get("name", "?")
            out[f"{'configure' if method == 'Configure' else 'calls'}:{provider}"] += r["duration"] / 1e9
    ends = [first, marks.get("run_start", first), marks.get("stack", first), marks.get("shutdown", first),
            marks.get("run_end", last), last]
    for name, a, b in zip(("engine_before_program", "program_to_stack", "registrations", "program_exit",
                           "engine_after_program"), ends, ends[1:], strict=False):
        out[name] = max(b - a, 0.0)
    out["traced_total"] = last - first
    return {k: round(v, 3) for k, v in out.items()}


def breakdown(st: auto.Stack, base: Path, label: str) -> dict[str, float]:
    """One more no-change preview of ``st`` with the engine's gRPC log: its phases, wall time and the
    program's CPU seconds (user + system of the language host's children, from the preview's rusage)."""
    import resource

    log = base / f"grpc-{label}.json"
    log.unlink(missing_ok=True)
    env: dict[str, str] = st.workspace.env_vars  # type: ignore[assignment]  # a dict, typed Mapping
    env["PULUMI_DEBUG_GRPC"] = str(log)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        took, _ = timed(st.preview, on_output=lambda _line: None)
    finally:
        del env["PULUMI_DEBUG_GRPC"]
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": took, "cpu_all_processes": round(cpu, 2), **phases(log)}


def main(runs: int = RUNS) -> dict[str, Figure]:
    """Run benchmark 4 (and 3 on the full stack) and save them under ``steady`` in results.json."""
    started = now()
    base = WORK / "steady"
    shutil.rmtree(base, ignore_errors=True)
    (base / "state").mkdir(parents=True)
    private_key, public_key = ssh_keypair(base)
    spec = SandboxSpec(dir=str(base / "sandbox"), admin_password="Bench-1" + secrets.token_urlsafe(12),
                       subnet=SUBNET, double_port=free_port(), control_port=free_port(),
                       authorized_keys=[public_key])
    box = Sandbox(spec)
    stacks: list[auto.Stack] = []
    sink: list[str] = []
    try:
        with step("sandbox up"):
            box.up()
        harbor = harbor_stack(base, box, private_key)
        stacks.append(harbor)
        with step("up: the harbor-cache stack"), PeakRss() as peak:
            up_s, _ = timed(harbor.up, on_output=sink.append)
        types = resource_types(harbor)
        minimal = minimal_stack(base, len(types))
        stacks.append(minimal)
        with step(f"up: the minimal stack ({len(types)} resources)"):
            timed(minimal.up, on_output=sink.append)
        data = measure(box, harbor, minimal, runs)
        with step("preview breakdown"):
            data["breakdown"] = {"harbor-cache": breakdown(harbor, base, "harbor"),
                                 "minimal": breakdown(minimal, base, "minimal")}
    except auto.CommandError:
        print("\n".join(sink[-60:]), flush=True)
        raise
    finally:
        for st in reversed(stacks):
            try:  # the sandbox (cluster, double, nodes) goes away below: no destroy needed, and none can hang
                st.workspace.remove_stack(st.name, force=True)
            except auto.CommandError as exc:
                print(f"[bench] cleanup of {st.name}: {str(exc)[-500:]}", flush=True)
        box.down()
    return _report(data, types, up_s, peak, started, runs)


def _report(data: dict[str, Any], types: list[str], up_s: float, peak: PeakRss, started: str,
            runs: int) -> dict[str, Figure]:
    ratios = [a / b for a, b in zip(data["preview"], data["preview_minimal"], strict=True)]
    rratios = [a / b for a, b in zip(data["refresh"], data["refresh_minimal"], strict=True)]
    harbor_resources = sum(t.startswith(HARBOR_TYPES) for t in types)
    gets = [sum(v for k, v in d.items() if k.startswith("GET ")) for d in data["refresh_requests"]]
    writes = [sum(v for k, v in d.items() if not k.startswith("GET ")) for d in data["refresh_requests"]]
    figures = {
        "preview_s": Figure(median(data["preview"]), "s", runs=data["preview"]),
        "preview_minimal_s": Figure(median(data["preview_minimal"]), "s", runs=data["preview_minimal"]),
        "preview_ratio": Figure(median(ratios), "x", 1.5, "<=", [round(r, 2) for r in ratios],
                                "median of per-run harbor-cache/minimal"),
        "refresh_s": Figure(median(data["refresh"]), "s", runs=data["refresh"]),
        "refresh_minimal_s": Figure(median(data["refresh_minimal"]), "s", runs=data["refresh_minimal"]),
        "refresh_ratio": Figure(median(rratios), "x", runs=[round(r, 2) for r in rratios],
                                note="no target; the harbor-cache refresh reads Kubernetes, Harbor and SSH nodes"),
        "harbor_gets_per_refresh": Figure(float(max(gets)), "requests", float(harbor_resources), "<=",
                                          [float(g) for g in gets],
                                          f"max over runs; target = one GET per Harbor resource ({harbor_resources})"),
        "harbor_writes_per_refresh": Figure(float(max(writes)), "requests", 0, "<=", [float(w) for w in writes]),
        "peak_rss_program_up_full_stack_mb": Figure(peak.mb.get("program", 0.0), "MiB", 400, "<=",
                                                    note="VmHWM of the program's Python during the first up"),
        "peak_rss_provider_up_full_stack_mb": Figure(peak.mb.get("provider", 0.0), "MiB",
                                                     note="the dynamic provider's Python (no target)"),
        "up_full_stack_s": Figure(up_s, "s", note="first up of the sandbox stack (one run)"),
    }
    details = {"runs": runs, "resources": len(types), "resource_types": sorted(set(types)),
               "harbor_resources": harbor_resources, "rss_commands": peak.commands, **data}
    save("steady", figures, details, started)
    return figures
