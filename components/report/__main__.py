"""``python -m components.report <stack> [--json] [--top N] [--cwd DIR] [--api-url URL]``: the cache report.

Reads the stack's outputs and Harbor's admin password with the ``pulumi`` CLI (run it where ``Pulumi.yaml`` is,
or pass ``--cwd``; a passphrase stack needs ``PULUMI_CONFIG_PASSPHRASE``), then Harbor's API directly
(``--api-url`` when ``apiUrl`` is not reachable from here, e.g. with ``harbor.apiAccess: kubeProxy``).
Exit status: 0 with the report on stdout, 2 with a one-line reason on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from components.harbor_api.client import HarborClient
from components.harbor_api.endpoint import HarborEndpoint
from components.harbor_api.errors import HarborError
from components.report.collect import collect
from components.report.render import render_text
from components.report.stack import PASSWORD_KEY, ReportError, read_stack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m components.report", description=__doc__.splitlines()[0])
    parser.add_argument("stack", help="the Pulumi stack (as for pulumi -s)")
    parser.add_argument("--json", action="store_true", help="JSON for other programs (docs/report.schema.json)")
    parser.add_argument("--top", type=int, default=5, help="how many most-pulled images per upstream (5)")
    parser.add_argument("--cwd", type=Path, default=Path.cwd(), help="the Pulumi project directory")
    parser.add_argument("--api-url", help="Harbor's URL, instead of the stack's apiUrl output")
    args = parser.parse_args(argv)
    try:
        view, password = read_stack(args.stack, args.cwd, args.api_url)
        endpoint = HarborEndpoint(url=view.api_url, username=view.admin_user, ca_pem=view.ca_pem, retries=2)
        client = HarborClient(endpoint, password,
                              unauthorized_hint=f"the password is the stack's {PASSWORD_KEY}")
        report = collect(view, client, max(args.top, 0))
    except (ReportError, HarborError) as exc:
        print(f"harbor-cache report: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(json.dumps(report, indent=2) + "\n" if args.json else render_text(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
