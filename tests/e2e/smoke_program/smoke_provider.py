"""A minimal dynamic provider kept in an importable module, as harbor-cache's own are."""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult


class EchoProvider(ResourceProvider):
    """Returns its input and a digest of it; the id is the digest, so reads are stable."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        digest = hashlib.sha256(props["value"].encode()).hexdigest()[:16]
        return CreateResult(digest, {"value": props["value"], "digest": digest})

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return DiffResult(changes=olds.get("value") != news.get("value"))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult({"value": news["value"], "digest": hashlib.sha256(news["value"].encode()).hexdigest()[:16]})

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_, {"value": props["value"], "digest": props["digest"]})


class Echo(Resource, module="smoke", name="Echo"):
    """A dynamic resource of type pulumi-python:dynamic/smoke:Echo."""

    value: pulumi.Output[str]
    digest: pulumi.Output[str]

    def __init__(self, name: str, value: str) -> None:
        super().__init__(EchoProvider(), name, {"value": value, "digest": None})
