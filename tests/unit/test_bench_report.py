"""The parts of ``make bench`` that can fail without a bed: the matrix plan, its figures and met flags, the
upstream log parser, the README section and the PNG charts (no root, no nodes)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench.common import Figure
from bench.matrix import plan_from_env
from bench.matrix_figures import figures, headline, summary, table
from bench.report import BEGIN, END, replace_section, section, write_readme
from bench.slowlink import parse_line

MB = 1_000_000


def _run(seconds: float, sent: float = 0.0) -> dict[str, Any]:
    return {"seconds": seconds, "upstream_bytes": int(sent), "each": [seconds], "gets": {}}


def _case(size: int, layers: int, nodes: int, runs: int, warm: float, floor: float | None = None,
          kind: str = "pull") -> dict[str, Any]:
    """A case whose direct pull takes 10x warm and moves size MB, cold 2x direct (both time and bytes)."""
    return {
        "case": f"{size}MB-{layers}L-{nodes}N" if kind == "pull" else f"update-{size}MB-{layers}L-{nodes}N",
        "kind": kind, "size_mb": size, "layers": layers, "nodes": nodes,
        "modes": {"direct": [_run(10 * warm, size * MB)] * runs, "cold": [_run(20 * warm, 2 * size * MB)] * runs,
                  "warm": [_run(warm)] * runs, "prewarmed": [_run(1.1 * warm, 1000)] * runs},
        "floor_s": [floor] * runs if floor is not None and nodes == 1 else [],
        "prewarm": [{"seconds": 20 * warm, "upstream_bytes": 2 * size * MB}] * runs,
    }


RECORDS = [
    _case(10, 1, 1, 2, 0.5, 0.4), _case(100, 4, 1, 2, 2.0, 1.6), _case(100, 4, 8, 2, 8.0),
    _case(1024, 4, 1, 1, 20.0, 10.0), _case(100, 4, 8, 2, 4.0, kind="update"),
]


def test_headline_is_the_largest_single_node_case_with_the_most_runs() -> None:
    assert headline(RECORDS)["case"] == "100MB-4L-1N"  # not the 1 GB case: it ran once


def test_headline_needs_a_single_node_case() -> None:
    with pytest.raises(ValueError, match="1-node case"):
        headline([_case(100, 4, 8, 2, 8.0)])


def test_figures_carry_targets_and_met_flags() -> None:
    figs = figures(RECORDS)
    assert figs["warm_vs_floor"].value == pytest.approx(1.25)
    assert figs["warm_vs_floor"].met is True
    assert figs["prewarmed_vs_warm"].value == pytest.approx(1.1)
    assert figs["prewarmed_vs_warm"].met is True
    assert figs["speedup_warm_vs_direct"].met is True  # 10x >= 5
    assert figs["cold_vs_direct"].met is False  # 2x > 1.3: the double fetch
    assert figs["upstream_bytes_cold_vs_direct"].value == pytest.approx(2.0)
    assert figs["upstream_bytes_cold_vs_direct"].met is None
    assert figs["fleet8_warm_vs_direct_speedup"].value == pytest.approx(10.0)
    assert "update_prewarmed_vs_direct" in figs
    assert figs["warm_vs_floor"].to_dict()["target"] == "<= 1.5"


def test_a_slow_warm_pull_misses_the_floor_target() -> None:
    slow = [_case(100, 4, 1, 2, 3.0, 1.0)]
    assert figures(slow)["warm_vs_floor"].met is False


def test_summary_and_table_give_medians_per_mode() -> None:
    s = summary(RECORDS[1])
    assert s["direct_s"] == 20.0 and s["direct_mb"] == 100.0 and s["cold_mb"] == 200.0 and s["warm_mb"] == 0.0
    assert s["floor_s"] == 1.6 and s["prewarm_mb"] == 200.0
    assert summary(RECORDS[2])["floor_s"] is None
    rows = table(RECORDS).splitlines()
    assert len(rows) == 2 + len(RECORDS)
    assert rows[3].startswith("| 100MB-4L-1N | 2 | 20 | 40 | 2 | 2.2 | 1.6 | 100 | 200 | 0 | 0 | 40 / 200 |")


def test_plan_full_quick_and_bad_input() -> None:
    full = plan_from_env({"HARBOR_CACHE_BENCH_QUICK": ""})
    assert len(full.cases) == 2 * 2 * 2 + 2 and full.bed_nodes == 8
    assert [c.key for c in full.cases if c.size_mb == 1024] == ["1024MB-1L-1N", "1024MB-4L-1N"]
    assert all(c.runs == 1 for c in full.cases if c.size_mb == 1024 or c.nodes > 1)
    assert all(c.runs == 2 for c in full.cases if c.size_mb < 1024 and c.nodes == 1)
    quick = plan_from_env({"HARBOR_CACHE_BENCH_QUICK": "1"})
    assert max(c.size_mb for c in quick.cases) <= 8 and quick.bed_nodes == 2
    with pytest.raises(ValueError, match="HARBOR_CACHE_BENCH_MATRIX_NODES"):
        plan_from_env({"HARBOR_CACHE_BENCH_MATRIX_NODES": "one"})
    with pytest.raises(ValueError, match="at least 2 layers"):
        plan_from_env({"HARBOR_CACHE_BENCH_MATRIX_UPDATE": "100,1,8"})


def test_upstream_log_line_parses_bytes() -> None:
    line = '10.246.0.1 "GET /v2/bench/m10-l1/blobs/sha256:ab HTTP/1.1" 200 10485760'
    assert parse_line(line) == {"client": "10.246.0.1", "method": "GET", "path": "/v2/bench/m10-l1/blobs/sha256:ab",
                                "status": "200", "bytes": "10485760"}
    assert parse_line("garbage")["bytes"] == ""


def test_readme_section_is_replaced_between_markers_only() -> None:
    readme = f"# Bench\n\nintro\n\n{BEGIN}\nold table\n{END}\n\n## Preview\n\nkept\n"
    out = replace_section(readme, "new table")
    assert "old table" not in out and "new table" in out
    assert out.startswith("# Bench\n\nintro\n") and out.endswith("## Preview\n\nkept\n")
    assert replace_section("# Bench\n", "x").endswith(f"{BEGIN}\nx\n{END}\n")


def _results() -> dict[str, Any]:
    figs = figures(RECORDS)
    return {"machine": {"nproc": 2, "memory_mb": 1, "kernel": "k", "load_avg_at_write": [5.1, 4.0, 3.2],
                        "tools": {}},
            "benchmarks": {"matrix": {"figures": {k: f.to_dict() for k, f in figs.items()},
                                      "details": {"cases": RECORDS}},
                           "fleet": {"figures": {"up_ratio_64_vs_1": Figure(4.5, "x", 4.0).to_dict()},
                                     "details": {}}}}


def test_section_lists_targets_with_met_flags_and_load() -> None:
    text = section(_results(), [Path("charts/pull-time.png")])
    assert "load average (1, 5, 15 min) when written: 5.1, 4, 3.2" in text
    assert "| fleet.up_ratio_64_vs_1 <= 4.0 | 4.5 x | **no** |" in text
    assert "| matrix.warm_vs_floor <= 1.5 | 1.25 x | yes |" in text
    assert "![pull-time](charts/pull-time.png)" in text


def test_write_readme_renders_png_charts(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# Bench\n")
    charts = write_readme(json.loads(json.dumps(_results())), readme, tmp_path / "charts")
    assert [p.name for p in charts] == ["pull-time.png", "upstream-bytes.png"]
    for p in charts:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 10_000
    text = readme.read_text()
    assert "![upstream-bytes](charts/upstream-bytes.png)" in text and "| 1024MB-4L-1N | 1 |" in text
