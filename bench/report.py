"""``python -m bench.report [--readme]``: the tables of bench/results.json, and with ``--readme`` the charts
(bench/charts/*.png) and the results section of bench/README.md (between the ``results`` markers) rewritten."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.common import RESULTS, ROOT

README = ROOT / "bench" / "README.md"
CHARTS = ROOT / "bench" / "charts"
BEGIN, END = "<!-- results:begin (written by python -m bench.report --readme) -->", "<!-- results:end -->"


def table(data: dict[str, Any]) -> str:
    """One row per figure: benchmark, figure, median, runs, target, met."""
    rows = ["| benchmark | figure | value | runs | target | met |", "|---|---|---|---|---|---|"]
    for bench, entry in data.get("benchmarks", {}).items():
        for name, fig in entry["figures"].items():
            runs = ", ".join(f"{round(r, 2):g}" for r in fig.get("runs") or [])
            met = {True: "yes", False: "**no**", None: ""}[fig.get("met")]
            rows.append(f"| {bench} | {name} | {fig['value']:g} {fig['unit']} | {runs} | {fig.get('target') or ''} "
                        f"| {met} |")
    return "\n".join(rows)


def targets(data: dict[str, Any]) -> str:
    """Only the figures with a target: the at-a-glance list."""
    rows = ["| target | value | met | measured as |", "|---|---|---|---|"]
    for bench, entry in data.get("benchmarks", {}).items():
        for name, fig in entry["figures"].items():
            if fig.get("target") is None:
                continue
            met = "yes" if fig.get("met") else "**no**"
            rows.append(f"| {bench}.{name} {fig['target']} | {fig['value']:g} {fig['unit']} | {met} "
                        f"| {fig.get('note') or ''} |")
    return "\n".join(rows)


def machine_line(data: dict[str, Any]) -> str:
    """Machine, tools and the load average when the results were written."""
    m = data.get("machine", {})
    tools = m.get("tools", {})
    load = ", ".join(f"{x:g}" for x in m.get("load_avg_at_write") or [])
    return (f"Machine: {m.get('nproc')} cores, {m.get('memory_mb')} MiB, kernel {m.get('kernel')}; "
            f"pulumi {tools.get('pulumi')}, {tools.get('containerd')}, Python {tools.get('python')}; "
            f"load average (1, 5, 15 min) when written: {load}")


def section(data: dict[str, Any], charts: list[Path]) -> str:
    """The README's results section: machine, targets, the pull matrix (charts and table), every figure."""
    when = ", ".join(f"{name} {entry.get('started', '?')} to {entry.get('finished', '?')}"
                     for name, entry in data.get("benchmarks", {}).items())
    parts = [machine_line(data), "", f"Measured (UTC): {when}.", "", "### Targets", "", targets(data)]
    matrix = data.get("benchmarks", {}).get("matrix")
    if matrix:
        from bench.matrix_figures import table as matrix_table
        parts += ["", "### Pull matrix", ""]
        parts += [f"![{p.stem}](charts/{p.name})" for p in charts]
        parts += ["", matrix_table(matrix["details"]["cases"])]
    parts += ["", "### Every figure", "", table(data)]
    return "\n".join(parts)


def replace_section(readme: str, body: str) -> str:
    """``readme`` with the text between the markers replaced by ``body`` (markers appended when missing)."""
    if BEGIN in readme and END in readme:
        head, _, rest = readme.partition(BEGIN)
        _, _, tail = rest.partition(END)
        return f"{head}{BEGIN}\n{body}\n{END}{tail}"
    return f"{readme.rstrip()}\n\n{BEGIN}\n{body}\n{END}\n"


def write_readme(data: dict[str, Any], readme: Path = README, charts_dir: Path = CHARTS) -> list[Path]:
    """Render the charts (when the matrix ran) and rewrite the README's results section; returns the charts."""
    charts: list[Path] = []
    matrix = data.get("benchmarks", {}).get("matrix")
    if matrix:
        from bench.charts import render
        charts = render(matrix["details"]["cases"], charts_dir)
    readme.write_text(replace_section(readme.read_text(), section(data, charts)))
    return charts


def main(argv: list[str] | None = None) -> int:
    """Print the tables; ``--readme``: also write the charts and the README section."""
    ap = argparse.ArgumentParser(prog="python -m bench.report", description=__doc__)
    ap.add_argument("--readme", action="store_true", help="write bench/charts/*.png and bench/README.md's results")
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    data = json.loads(args.results.read_text())
    print(machine_line(data) + "\n")
    print(table(data))
    if args.readme:
        for p in write_readme(data):
            print(f"wrote {p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
