"""``python -m lab testbed up|status|down --dir DIR``: a bed of namespace nodes to play with (root)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lab.testbed import upstream_health
from lab.testbed.bed import Testbed


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``testbed``."""
    ap = subparsers.add_parser("testbed", help="namespace nodes with sshd + containerd, registries (root)",
                               description=(__doc__ or "").split("\n")[0])
    ap.add_argument("action", choices=["up", "down", "status", "upstream-health"],
                    help="upstream-health: the pull path's stand-in for Harbor's registry health check (the bed "
                         "starts it)")
    ap.add_argument("--dir", required=True, type=Path, help="bed directory (state, logs, keys)")
    ap.add_argument("--nodes", type=int, default=2, help="number of nodes (up)")
    ap.add_argument("--containerd2", action="store_true", help="every second node runs containerd 2.x")
    ap.add_argument("--subnet", default="10.251", help="first two octets of the bed's /16")
    ap.add_argument("--harbor-port", type=int, default=8080, help="HTTP port of the Harbor-shaped pull path")
    ap.add_argument("--authorized-key", action="append", default=[], help="another public key nodes accept")
    ap.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Start, show or stop the bed in ``args.dir``."""
    if args.action == "up":
        flavors = ["2" if args.containerd2 and i % 2 else "1.6" for i in range(args.nodes)]
        bed = Testbed(args.dir, flavors, args.subnet, harbor_port=args.harbor_port,
                      authorized_keys=args.authorized_key)
        try:
            bed.start()
        except BaseException:
            bed.stop()
            raise
        print(json.dumps(bed.status(), indent=2))
        return 0
    if not (args.dir / "testbed.json").exists():
        print(f"no bed in {args.dir}", file=sys.stderr)
        return 1
    bed = Testbed.load(args.dir)
    if args.action == "upstream-health":
        upstream_health.run(bed.base, bed.upstream_server)
        return 0
    if args.action == "status":
        print(json.dumps(bed.status(), indent=2))
    else:
        bed.stop()
        print(f"bed in {args.dir} is down")
    return 0
