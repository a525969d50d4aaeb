"""``python -m lab controllers --kubeconfig F [--once] [--interval S]``: the stand-in controllers as a process."""

from __future__ import annotations

import argparse
import logging
import threading

from lab.controllers.runner import FakeControllers


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``controllers``."""
    parser = subparsers.add_parser("controllers", help="stand-in cert-manager and Kyverno controllers",
                                   description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--once", action="store_true", help="reconcile once and exit")
    parser.add_argument("--interval", type=float, default=0.5)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Reconcile once, or loop until interrupted."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    controllers = FakeControllers(args.kubeconfig)
    if args.once:
        for action in controllers.reconcile_once():
            print(action)
        controllers.stop()
        return 0
    controllers.start(args.interval)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controllers.stop()
    return 0
