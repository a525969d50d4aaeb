"""``python -m bench [all|matrix|fleet|steady ...]``: run benchmarks (root), write bench/results.json, then the
charts and the results section of bench/README.md (``--no-report`` skips that, and so does a trial whose
results go elsewhere: ``HARBOR_CACHE_BENCH_RESULTS``)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

from bench.common import DEFAULT_RESULTS, RESULTS, Figure


def _matrix() -> dict[str, Figure]:
    from bench import matrix
    return matrix.main()


def _fleet() -> dict[str, Figure]:
    from bench import fleet
    return fleet.main()


def _steady() -> dict[str, Figure]:
    from bench import steady
    return steady.main()


BENCHMARKS: dict[str, Callable[[], dict[str, Figure]]] = {"matrix": _matrix, "fleet": _fleet, "steady": _steady}


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmarks (default: all), print each figure, then write the report."""
    ap = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    ap.add_argument("names", nargs="*", choices=["all", *BENCHMARKS], default=["all"])
    ap.add_argument("--no-report", action="store_true", help="leave bench/README.md and bench/charts alone")
    args = ap.parse_args(argv)
    names = list(BENCHMARKS) if "all" in args.names else args.names
    failed = []
    for name in names:
        try:
            figures = BENCHMARKS[name]()
        except Exception as exc:  # noqa: BLE001 - keep going: one broken benchmark must not hide the others
            print(f"[bench] {name} FAILED: {type(exc).__name__}: {exc}", flush=True)
            failed.append(name)
            continue
        for key, fig in figures.items():
            verdict = "met" if fig.met else "MISSED"
            target = f" (target {fig.op} {fig.target}: {verdict})" if fig.target is not None else ""
            print(f"{name}.{key} = {fig.value} {fig.unit}{target}", flush=True)
    if not args.no_report and RESULTS == DEFAULT_RESULTS and RESULTS.exists():  # a trial's results stay apart
        from bench.report import write_readme
        for path in write_readme(json.loads(RESULTS.read_text())):
            print(f"[bench] wrote {path}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
