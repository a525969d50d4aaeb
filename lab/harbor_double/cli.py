"""``python -m lab double`` (or ``python -m lab.harbor_double``): run the double until SIGTERM/SIGINT.

Once listening it prints ``{"url", "control_url"}`` on one line and, with ``--state-dir``, writes
``endpoint.json`` (``url``, ``control_url``, ``pid``) there and keeps the objects in ``state.json`` across
restarts.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from pathlib import Path
from typing import Any


def configure(parser: argparse.ArgumentParser) -> None:
    """The double's options."""
    parser.add_argument("--port", type=int, default=0, help="API port (0: any free port)")
    parser.add_argument(
        "--control-port", type=int, default=None, help="separate control port (stays up when down)"
    )
    parser.add_argument("--host", default="127.0.0.1", help="loopback address to bind")
    parser.add_argument("--admin-password-file", help="file holding the admin password (default Harbor12345)")
    parser.add_argument("--state-dir", help="directory for endpoint.json and state.json")
    parser.add_argument("--fault", action="append", default=[], metavar="NAME=VALUE",
                        help="a fault switch at start (see lab/harbor_double/faults.py); repeatable")
    parser.add_argument("--setting", action="append", default=[], metavar="NAME=VALUE",
                        help="a Harbor setting (see lab/harbor_double/settings.py; JSON values); repeatable")
    parser.set_defaults(run=run)


def add_parser(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``double``."""
    configure(subparsers.add_parser("double", help="the Harbor API double (swagger-checked, with faults)",
                                    description=(__doc__ or "").split("\n")[0]))


def run(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or SIGINT."""
    from lab.harbor_double.double import DEFAULT_PASSWORD, HarborDouble
    from lab.harbor_double.settings import Settings

    password = DEFAULT_PASSWORD
    if args.admin_password_file:
        password = Path(args.admin_password_file).read_text(encoding="utf-8").strip()
    settings = Settings()
    try:
        settings.update(**_pairs(args.setting))
        double = HarborDouble(
            password, host=args.host, port=args.port, control_port=args.control_port, state_dir=args.state_dir,
            settings=settings,
        )
        double.set_faults(**_pairs(args.fault))
    except (KeyError, TypeError, ValueError) as exc:
        raise SystemExit(f"python -m lab double: bad --fault/--setting: {exc} (see lab/harbor_double/faults.py, "
                         "settings.py)") from None
    double.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print(json.dumps({"url": double.url, "control_url": double.control_url}), flush=True)
    stop.wait()
    double.stop()
    return 0


def _pairs(items: list[str]) -> dict[str, Any]:
    """``NAME=VALUE`` options to a dict; a JSON value is parsed, anything else stays text."""
    out: dict[str, Any] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        if not sep:
            raise SystemExit(f"expected NAME=VALUE, got {item!r}")
        try:
            out[name] = json.loads(raw)
        except ValueError:
            out[name] = raw
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m lab.harbor_double [options]``."""
    parser = argparse.ArgumentParser(prog="python -m lab.harbor_double", description=(__doc__ or "").split("\n")[0])
    configure(parser)
    args = parser.parse_args(argv)
    return run(args)
