"""Reading resource properties the way the policies need them: plain values, unknowns made explicit.

pulumi-policy hands policies its own proxies, which raise `UnknownValueError` on the first unknown value
they meet; in a stack policy that abandons the whole check. `plain` converts them (and secrets, which reach
policies already unwrapped) into dicts and lists, with every value not known during preview replaced by
`UNKNOWN`, so each check can skip exactly what it cannot know.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Final

from pulumi_policy.proxy import (
    UNKNOWN_ARCHIVE_VALUE,
    UNKNOWN_ARRAY_VALUE,
    UNKNOWN_ASSET_VALUE,
    UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE,
    UNKNOWN_OBJECT_VALUE,
    UNKNOWN_STRING_VALUE,
)
from pulumi_policy.secret import Secret

_SENTINELS: Final = frozenset({
    UNKNOWN_ARCHIVE_VALUE, UNKNOWN_ARRAY_VALUE, UNKNOWN_ASSET_VALUE, UNKNOWN_BOOLEAN_VALUE,
    UNKNOWN_NUMBER_VALUE, UNKNOWN_OBJECT_VALUE, UNKNOWN_STRING_VALUE,
})


class Unknown:
    """A value the engine cannot know yet (an output of a resource not created during preview)."""

    _instance: Unknown | None = None

    def __new__(cls) -> Unknown:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = Unknown()


def is_unknown(value: Any) -> bool:
    """True for `UNKNOWN` (after `plain`) and for the engine's raw unknown sentinels."""
    return value is UNKNOWN or (isinstance(value, str) and value in _SENTINELS)


def _target(value: Any) -> Any:
    """The raw container behind a pulumi-policy proxy (their `__target` item), else the value itself."""
    if type(value).__module__.startswith("pulumi_policy.") and isinstance(value, Mapping | Sequence):
        proxy: Any = value
        return proxy["__target"]
    return value


def plain(value: Any) -> Any:
    """`value` as plain dicts, lists and scalars, with unknowns as `UNKNOWN` and secrets unwrapped."""
    value = _target(value)
    if isinstance(value, Secret):
        return plain(value.value)
    if is_unknown(value):
        return UNKNOWN
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return [plain(item) for item in value]
    return value


def dig(value: Any, *path: str | int, default: Any = None) -> Any:
    """The value at `path` inside nested dicts/lists; `UNKNOWN` if an unknown is met, else `default`."""
    for key in path:
        if value is UNKNOWN:
            return UNKNOWN
        if isinstance(key, int) and isinstance(value, list) and -len(value) <= key < len(value):
            value = value[key]
        elif isinstance(key, str) and isinstance(value, dict) and key in value:
            value = value[key]
        else:
            return default
    return value


def walk(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every (path, leaf) pair in nested dicts and lists, depth first."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from walk(item, (*path, index))
    else:
        yield path, value


def dotted(path: Sequence[str | int]) -> str:
    """A property path for messages: `values.persistence.size`, `files[2]`."""
    text = ""
    for key in path:
        text += f"[{key}]" if isinstance(key, int) else (f".{key}" if text else str(key))
    return text


def stack_of(urn: str) -> str:
    """The stack name in `urn:pulumi:<stack>::<project>::<type>::<name>`."""
    head = urn.split("::", 1)[0]
    return head.split(":", 2)[2] if head.count(":") >= 2 else ""


_QUANTITY = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([KMGTPE]i?|[km]|)\s*$")
_QUANTITY_FACTORS = {
    "": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60, "m": 1,
}


def parse_quantity(text: Any) -> float | None:
    """A Kubernetes storage quantity (`50Gi`, `500G`, `1Ti`) in bytes, or None if it is not one."""
    match = _QUANTITY.match(str(text)) if isinstance(text, str | int | float) else None
    if match is None:
        return None
    number, suffix = float(match.group(1)), match.group(2)
    return number / 1000 if suffix == "m" else number * _QUANTITY_FACTORS[suffix]


_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ns|us|µs|ms|s|m|h)")
_DURATION_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_duration(text: Any) -> float | None:
    """A Go duration (`8760h`, `2160h0m0s`, `90m`) in seconds, or None if it is not one."""
    if not isinstance(text, str) or not text:
        return None
    parts = _DURATION_PART.findall(text)
    if "".join(number + unit for number, unit in parts) != text:
        return None
    return sum(float(number) * _DURATION_SECONDS[unit] for number, unit in parts)
