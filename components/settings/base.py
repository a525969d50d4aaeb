"""What every settings section shares: camelCase keys, unknown keys refused, problems that name their key."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Base for every settings section: camelCase keys as in the stack file, unknown keys rejected."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def camel_case(name: str) -> str:
    """The stack-file spelling of a field name: release_name -> releaseName."""
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


class Section(StrictModel):
    """A section of the stack file: snake_case fields, camelCase keys."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True, alias_generator=camel_case)


def at(key: str, problem: str) -> str:
    """One problem of a section's cross-key check, about its key `key` (camelCase, e.g. `nodeAddress` or
    `hosts[1]`): loading.py turns it into `harbor-cache:<section>.<key>: <problem>`."""
    return f".{key}: {problem}" if not key.startswith("[") else f"{key}: {problem}"


def report(problems: list[str]) -> None:
    """Raise the problems of a cross-key check (each made by `at`), one per line; nothing when there are none."""
    if problems:
        raise ValueError("\n".join(problems))
