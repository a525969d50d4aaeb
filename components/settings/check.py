"""`python -m components.settings check Pulumi.<stack>.yaml ...`: validate stack files offline.

Encrypted secrets count as present (their values are not needed to check the settings). Exit status 0 when
every file is valid, 1 when one is not (each problem printed under its file), 2 on bad usage.
"""

from __future__ import annotations

import sys

from components.settings.loading import SettingsError, load_stack_file, validate

USAGE = "usage: python -m components.settings check Pulumi.<stack>.yaml [...]"


def main(argv: list[str]) -> int:
    """Run the `check` command on `argv` (without the program name); returns the exit status."""
    if len(argv) < 2 or argv[0] != "check":
        print(USAGE, file=sys.stderr)
        return 2
    status = 0
    for path in argv[1:]:
        try:
            raw, secrets = load_stack_file(path)
            validate(raw, secrets)
            print(f"{path}: ok")
        except SettingsError as exc:
            status = 1
            print(f"{path}: {len(exc.errors)} problem(s)")
            for error in exc.errors:
                print(f"  - {error}")
        except (OSError, ValueError) as exc:
            status = 1
            print(f"{path}: cannot read: {exc}")
    return status
