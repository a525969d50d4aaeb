"""The pull matrix's figures and per-case summary, computed from its records (no bed needed: unit-tested).

A record is one case: ``{"case", "kind" ("pull" or "update"), "size_mb", "layers", "nodes", "modes": {mode: [run,
...]}, "floor_s": [...], "prewarm": [...]}``, a run being ``{"seconds", "upstream_bytes", ...}``.
"""

from __future__ import annotations

import statistics
from typing import Any

from bench.common import Figure, median

MODES = ("direct", "cold", "warm", "prewarmed")
MB = 1_000_000


def _runs(record: dict[str, Any], mode: str, field: str = "seconds") -> list[float]:
    return [float(r[field]) for r in record["modes"].get(mode, [])]


def summary(record: dict[str, Any]) -> dict[str, float | None]:
    """Medians of one case: ``<mode>_s``, ``<mode>_mb`` (MB over the upstream link), ``floor_s``, ``prewarm_s``,
    ``prewarm_mb`` (None where the case has no such runs)."""
    out: dict[str, float | None] = {}
    for mode in MODES:
        secs, sent = _runs(record, mode), _runs(record, mode, "upstream_bytes")
        out[f"{mode}_s"] = median(secs) if secs else None
        out[f"{mode}_mb"] = round(statistics.median(sent) / MB, 1) if sent else None
    out["floor_s"] = median(record["floor_s"]) if record.get("floor_s") else None
    warm = record.get("prewarm") or []
    out["prewarm_s"] = median([w["seconds"] for w in warm]) if warm else None
    out["prewarm_mb"] = round(statistics.median([w["upstream_bytes"] for w in warm]) / MB, 1) if warm else None
    return out


def headline(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The case the targets are judged on: 1 node, the most runs, then the largest size, then the most layers
    (100 MB in 4 layers in the full matrix: the 1 GB cases run once)."""
    single = [r for r in records if r["kind"] == "pull" and r["nodes"] == 1 and r["modes"]["warm"]]
    if not single:
        raise ValueError("the matrix has no 1-node case with a warm pull to judge the targets on")
    return max(single, key=lambda r: (len(r["modes"]["warm"]), r["size_mb"], r["layers"]))


def _ratio(num: list[float], den: list[float]) -> list[float]:
    return [round(a / b, 3) for a, b in zip(num, den, strict=True) if b > 0]


def _ratio_figure(num: list[float], den: list[float], target: float | None, op: str, note: str) -> Figure:
    ratios = _ratio(num, den)
    if not ratios:
        raise ValueError(f"no runs for {note}")
    return Figure(median(ratios), "x", target, op, ratios, note)


def figures(records: list[dict[str, Any]]) -> dict[str, Figure]:
    """The matrix's figures: the issue-20 targets on the headline case, round one's two cache targets, the fleet
    and the rolling update (medians of per-run ratios)."""
    h = headline(records)
    name = h["case"]
    warm, direct = _runs(h, "warm"), _runs(h, "direct")
    out = {
        "warm_vs_floor": _ratio_figure(warm, h["floor_s"], 1.5, "<=",
                                       f"{name}: warm pull / (raw GET of its blobs from the cache + tar -xzf)"),
        "prewarmed_vs_warm": _ratio_figure(_runs(h, "prewarmed"), warm, 1.2, "<=",
                                           f"{name}: first node pull after pre-warm / warm pull"),
        "speedup_warm_vs_direct": _ratio_figure(direct, warm, 5.0, ">=", f"{name}: direct / warm"),
        "cold_vs_direct": _ratio_figure(_runs(h, "cold"), direct, 1.3, "<=",
                                        f"{name}: cold / direct (the cache fetches each blob twice: Harbor's "
                                        "design, see README)"),
        "prewarmed_vs_direct": _ratio_figure(_runs(h, "prewarmed"), direct, None, "<=", f"{name}: prewarmed / direct"),
        "upstream_bytes_cold_vs_direct": _ratio_figure(_runs(h, "cold", "upstream_bytes"),
                                                       _runs(h, "direct", "upstream_bytes"), None, "<=",
                                                       f"{name}: bytes over the upstream link, cold / direct"),
    }
    prewarmed_mb = [b / MB for b in _runs(h, "prewarmed", "upstream_bytes")]
    out["upstream_mb_prewarmed_pull"] = Figure(median(prewarmed_mb), "MB", runs=prewarmed_mb,
                                               note=f"{name}: bytes over the upstream link during the node pull "
                                               "after pre-warm (manifest checks only)")
    fleet = [r for r in records if r["kind"] == "pull" and r["nodes"] > 1 and r["size_mb"] == h["size_mb"]
             and r["layers"] == h["layers"]]
    if fleet:
        f = max(fleet, key=lambda r: r["nodes"])
        out[f"fleet{f['nodes']}_warm_vs_direct_speedup"] = _ratio_figure(
            _runs(f, "direct"), _runs(f, "warm"), None, ">=", f"{f['case']}: direct / warm")
    for u in (r for r in records if r["kind"] == "update"):
        out["update_prewarmed_vs_direct"] = _ratio_figure(_runs(u, "prewarmed"), _runs(u, "direct"), None, "<=",
                                                          f"{u['case']}: v1 -> v2 rollout, prewarmed / direct")
        out["update_cold_vs_direct"] = _ratio_figure(_runs(u, "cold"), _runs(u, "direct"), None, "<=",
                                                     f"{u['case']}: v1 -> v2 rollout, cold / direct")
    return out


def table(records: list[dict[str, Any]]) -> str:
    """Markdown: one row per case with median seconds and MB over the upstream link per mode."""
    head = ("| case | runs | direct s | cold s | warm s | pre-warmed s | floor s | direct MB | cold MB | warm MB "
            "| pre-warmed MB | pre-warm s / MB |")
    rows = [head, "|" + "---|" * (head.count("|") - 1)]

    def cell(v: float | None) -> str:
        return "" if v is None else f"{v:g}"

    for r in records:
        s = summary(r)
        pre = "" if s["prewarm_s"] is None else f"{s['prewarm_s']:g} / {s['prewarm_mb']:g}"
        rows.append(f"| {r['case']} | {len(r['modes']['warm'])} | " + " | ".join(
            cell(s[f"{m}_s"]) for m in MODES) + f" | {cell(s['floor_s'])} | " + " | ".join(
            cell(s[f"{m}_mb"]) for m in MODES) + f" | {pre} |")
    return "\n".join(rows)
