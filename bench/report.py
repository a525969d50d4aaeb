"""``python -m bench.report``: the markdown table of bench/results.json (pasted into bench/README.md)."""

from __future__ import annotations

import json
import sys
from typing import Any

from bench.common import RESULTS


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


def main() -> int:
    """Print the table and the machine line."""
    data = json.loads(RESULTS.read_text())
    m = data.get("machine", {})
    print(f"Machine: {m.get('nproc')} cores, {m.get('memory_mb')} MiB, kernel {m.get('kernel')}; "
          f"{m.get('tools', {}).get('pulumi')}, {m.get('tools', {}).get('containerd')}, "
          f"Python {m.get('tools', {}).get('python')}\n")
    print(table(data))
    return 0


if __name__ == "__main__":
    sys.exit(main())
