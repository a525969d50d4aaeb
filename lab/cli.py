"""The lab's one command line: ``python -m lab sandbox|kube|double|testbed|controllers ...``.

``scripts/sandbox`` and ``scripts/kube-local`` are thin wrappers over ``sandbox`` and ``kube``. Each area
registers its own subcommand (``add_parser``) and runs it (``args.run``).
"""

from __future__ import annotations

import argparse
import sys

from lab.controllers import cli as controllers_cli
from lab.harbor_double import cli as double_cli
from lab.kube import cli as kube_cli
from lab.sandbox import cli as sandbox_cli
from lab.testbed import cli as testbed_cli


def parser() -> argparse.ArgumentParser:
    """The whole command line."""
    top = argparse.ArgumentParser(prog="python -m lab", description=(__doc__ or "").split("\n")[0])
    sub = top.add_subparsers(dest="area", required=True, metavar="{sandbox,kube,double,testbed,controllers}")
    for area in (sandbox_cli, kube_cli, double_cli, testbed_cli, controllers_cli):
        area.add_parser(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    """Parse ``argv`` and run the chosen command; its exit code."""
    args = parser().parse_args(argv)
    return int(args.run(args))


if __name__ == "__main__":
    sys.exit(main())
