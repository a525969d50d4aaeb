"""PNG charts of the pull matrix (time per case, bytes over the upstream link per case), from its records.

matplotlib is a bench-only dependency (requirements-dev.txt); the program never imports it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bench.matrix_figures import MODES, summary

COLORS = {"direct": "#d62728", "cold": "#ff7f0e", "warm": "#2ca02c", "prewarmed": "#1f77b4", "prewarm": "#9ecae1"}
LABELS = {"direct": "direct (no cache)", "cold": "cold cache", "warm": "warm cache",
          "prewarmed": "pre-warmed (first pull)", "prewarm": "the pre-warm itself (before the rollout)"}
FLOOR = 0.01  # log axes cannot show 0: zero bars are drawn at this height and labelled 0


def _bars(records: list[dict[str, Any]], unit: str, title: str, ylabel: str, out: Path) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = [*MODES, "prewarm"]
    sums = [summary(r) for r in records]
    width = 0.8 / len(series)
    fig, ax = plt.subplots(figsize=(max(8.0, 1.3 * len(records) + 2), 5.5))
    for i, mode in enumerate(series):
        xs, ys, zero = [], [], []
        for j, s in enumerate(sums):
            v = s.get(f"{mode}_{unit}")
            if v is None:
                continue
            xs.append(j - 0.4 + width * (i + 0.5))
            ys.append(max(v, FLOOR))
            zero.append(v == 0)
        bars = ax.bar(xs, ys, width, color=COLORS[mode], label=LABELS[mode],
                      hatch="//" if mode == "prewarm" else None, edgecolor="white")
        for bar, is_zero in zip(bars, zero, strict=True):
            if is_zero:
                ax.annotate("0", (bar.get_x() + bar.get_width() / 2, FLOOR), ha="center", va="bottom", fontsize=7)
    if unit == "s":
        fx = [j - 0.4 + width * (MODES.index("warm") + 0.5) for j, s in enumerate(sums) if s["floor_s"]]
        fy = [s["floor_s"] for s in sums if s["floor_s"]]
        ax.scatter(fx, fy, marker="_", s=250, color="black", zorder=3, label="physical floor (GET + unpack)")
    ax.set_yscale("log")
    ax.set_xticks(range(len(records)))
    ax.set_xticklabels([r["case"].replace("update-", "v1→v2 ") for r in records], rotation=30, ha="right",
                       fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(axis="y", which="both", alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110, metadata={"Software": None})
    plt.close(fig)


def render(records: list[dict[str, Any]], outdir: Path) -> list[Path]:
    """Write ``pull-time.png`` and ``upstream-bytes.png`` into ``outdir``; returns their paths."""
    if not records:
        raise ValueError("no matrix records to chart")
    time_png, bytes_png = outdir / "pull-time.png", outdir / "upstream-bytes.png"
    _bars(records, "s", "Pull time per case (all the case's nodes at once; median of runs)",
          "seconds (log scale)", time_png)
    _bars(records, "mb", "Bytes over the upstream link per case (median of runs; 0 = under 0.05 MB, no blob)",
          "MB (log scale)", bytes_png)
    return [time_png, bytes_png]
