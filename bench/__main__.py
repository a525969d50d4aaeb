"""``python -m bench [all|cache|fleet|steady ...]``: run benchmarks (root) and write bench/results.json."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from bench.common import Figure


def _cache() -> dict[str, Figure]:
    from bench import cache
    return cache.main()


def _fleet() -> dict[str, Figure]:
    from bench import fleet
    return fleet.main()


def _steady() -> dict[str, Figure]:
    from bench import steady
    return steady.main()


BENCHMARKS: dict[str, Callable[[], dict[str, Figure]]] = {"cache": _cache, "fleet": _fleet, "steady": _steady}


def main(argv: list[str] | None = None) -> int:
    """Run the named benchmarks (default: all) and print each figure."""
    ap = argparse.ArgumentParser(prog="scripts/bench", description=__doc__)
    ap.add_argument("names", nargs="*", choices=["all", *BENCHMARKS], default=["all"])
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
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
