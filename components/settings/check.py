"""`python -m components.settings check Pulumi.<stack>.yaml ...`: validate stack files offline.

Every file is checked, and each problem is printed under its file. Encrypted secrets count as present: their
values cannot be read here, so a note says which rule `pulumi preview` applies to them. Warnings (values that
pass but that a receiver may still refuse or ignore) are printed too. Exit status 0 when every file is valid
(warnings or not), 1 when one is not, 2 on bad usage.
"""

from __future__ import annotations

import sys
from pathlib import Path

from components.settings.loading import SettingsError, check_settings
from components.settings.secrets import offline_notes
from components.settings.stackfile import StackFileError, read_stack_file
from components.settings.warnings import offline_warnings

USAGE = "usage: python -m components.settings check Pulumi.<stack>.yaml [...]"


def check_file(path: str) -> tuple[list[str], list[str]]:
    """The problems and the warnings of one stack file (no problems: the file is valid)."""
    try:
        stack = read_stack_file(path)
    except StackFileError as exc:
        return [str(exc).removeprefix(f"{path}: ")], []
    try:
        loaded = check_settings(stack.raw, stack.secrets, encrypted=stack.encrypted)
    except SettingsError as exc:
        return stack.errors + exc.errors, stack.warnings
    if stack.errors:
        return stack.errors, stack.warnings
    notes = offline_notes(stack.secrets)
    return [], [*stack.warnings, *loaded.warnings, *offline_warnings(loaded.settings, Path(path).parent), *notes]


def main(argv: list[str]) -> int:
    """Run the `check` command on `argv` (without the program name); returns the exit status."""
    if len(argv) < 2 or argv[0] != "check":
        print(USAGE, file=sys.stderr)
        return 2
    status = 0
    for path in argv[1:]:
        problems, warnings = check_file(path)
        if problems:
            status = 1
            print(f"{path}: {len(problems)} problem(s)")
        else:
            print(f"{path}: ok" + (f", {len(warnings)} warning(s)" if warnings else ""))
        for problem in problems:
            print(f"  - {problem}")
        for warning in warnings:
            print(f"  ! {warning}")
    return status
