"""Harbor's cron parser (``utils.CronParser``: robfig/cron with six fields, seconds first, no descriptors), written
again for the double on purpose: the providers' own copy (components/rules.py) is what the double tests."""

from __future__ import annotations

import re

# (low, high, names) per field: second, minute, hour, day of month, month, day of week
FIELDS: tuple[tuple[int, int, dict[str, int]], ...] = (
    (0, 59, {}), (0, 59, {}), (0, 23, {}), (1, 31, {}),
    (1, 12, {m: i + 1 for i, m in enumerate("jan feb mar apr may jun jul aug sep oct nov dec".split())}),
    (0, 6, {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}),
)  # fmt: skip


def _number(text: str, names: dict[str, int]) -> int:
    if text.lower() in names:
        return names[text.lower()]
    if not re.fullmatch(r"\d+", text):
        raise ValueError(f"failed to parse int from {text}")
    return int(text)


def _check_field(field: str, low: int, high: int, names: dict[str, int]) -> None:
    for part in field.split(","):
        span, _, step = part.partition("/")
        if span in ("*", "?"):
            start, end = low, high
        else:
            first, dash, last = span.partition("-")
            start = _number(first, names)
            end = _number(last, names) if dash else (high if step else start)
        if step and (not step.isdigit() or int(step) == 0):
            raise ValueError(f"step of range should be a positive number: {part}")
        if start < low or end > high or start > end:
            raise ValueError(f"out of range: {part}")


def cron_problem(cron: str) -> str | None:
    """None when Harbor's parser accepts ``cron``, else its complaint."""
    fields = cron.split()
    if len(fields) != 6:
        return f"expected exactly 6 fields, found {len(fields)}: {cron}"
    try:
        for field, (low, high, names) in zip(fields, FIELDS, strict=True):
            _check_field(field, low, high, names)
    except ValueError as exc:
        return str(exc)
    return None
