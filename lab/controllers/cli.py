"""``python -m lab controllers --kubeconfig F --state-dir D``: cert-manager's controller in the foreground until
interrupted (Ctrl-C or SIGTERM), its log in ``D/cert-manager.log``."""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from lab.controllers.cert_manager import cert_manager
from lab.controllers.runner import ControllerExited, Controllers
from lab.kube.tools import KubeError


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``controllers``."""
    parser = subparsers.add_parser("controllers", help="cert-manager's controller against a kubeconfig",
                                   description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--kubeconfig", required=True, type=Path)
    parser.add_argument("--state-dir", required=True, type=Path, help="logs and process records")
    parser.set_defaults(run=run)


def _interrupted(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(args: argparse.Namespace) -> int:
    """Start the controller, then watch it until interrupted; 1 when it exits on its own."""
    signal.signal(signal.SIGTERM, _interrupted)
    controllers = Controllers(args.state_dir)
    try:
        controllers.start([cert_manager(args.kubeconfig, args.state_dir)])
        print(f"cert-manager's controller ready; log: {controllers.log_path('cert-manager')}", flush=True)
        while True:
            controllers.check()
            time.sleep(1)
    except KeyboardInterrupt:
        return 0
    except (ControllerExited, KubeError) as err:
        print(err, file=sys.stderr)
        return 1
    finally:
        controllers.stop()
