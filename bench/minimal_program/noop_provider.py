"""A dynamic provider with no logic: create returns its input, diff compares it, read returns the state."""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider


class NoopProvider(ResourceProvider):
    """Stores ``value``; nothing outside the engine is touched."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        """The id is the value."""
        return CreateResult(str(props["value"]), {"value": props["value"]})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Changed when the value changed."""
        return DiffResult(changes=olds.get("value") != news.get("value"))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """The recorded state, unchanged."""
        return ReadResult(id_, {"value": props["value"]})


class Noop(Resource, module="bench", name="Noop"):
    """One resource of type ``pulumi-python:dynamic/bench:Noop``."""

    def __init__(self, name: str, value: str) -> None:
        super().__init__(NoopProvider(), name, {"value": value})
