"""Schema: one declared input reaches the check, the diff, the read, the bodies and the resource props."""

# No `from __future__ import annotations` here: Schema reads the specs in _Inputs at import time.

import asyncio
from typing import Annotated, Any, Required, TypedDict

import pulumi
import pytest

from components.dynamic import UNKNOWN
from components.harbor_api.fields import Endpoint, Flag, Text, Whole
from components.harbor_api.schema import Schema
from components.harbor_api.setting_names import Settings

HARBOR = {"url": "http://127.0.0.1:1"}


class _Inputs(TypedDict, total=False):
    harbor: Required[Annotated[pulumi.Input[Any], Endpoint()]]
    name: Required[Annotated[pulumi.Input[str], Text(max_len=5, harbor="name", replaces=True)]]
    token: Annotated[pulumi.Input[str], Text(default="", secret=True, write_only=True, harbor="auth.token")]
    size: Annotated[pulumi.Input[int], Whole(default=1, minimum=0, harbor="spec.size", harbor_null=-1)]
    fast: Annotated[pulumi.Input[bool], Flag(default=False, harbor="fast")]
    days: Annotated[pulumi.Input[int] | None, Whole(default=0, absent=lambda i: 9 if i.get("fast") else 0)]


SCHEMA = Schema(_Inputs, id_output="thing_id", outputs=("thing_id", "adopted"))
SETTINGS: Settings = {"name": "thing.name", "size": ("thing.size", "thing.unit")}


def test_fields_follow_the_declaration() -> None:
    assert SCHEMA.names == ("harbor", "name", "token", "size", "fast", "days")
    assert [f.name for f in SCHEMA.fields if f.required] == ["harbor", "name"]


def test_check_applies_defaults_coerces_and_names_settings() -> None:
    ok = SCHEMA.check({"harbor": HARBOR, "name": "a", "size": 3.0, "fast": True}, SETTINGS).result()
    assert ok.failures == []
    assert ok.inputs["size"] == 3 and isinstance(ok.inputs["size"], int)
    assert ok.inputs["token"] == "" and ok.inputs["days"] == 9  # absent: from the other inputs
    assert SCHEMA.check({"harbor": HARBOR, "name": "a", "days": None}, SETTINGS).result().inputs["days"] == 0
    bad = SCHEMA.check({"name": "toolong", "size": -1, "fast": "yes"}, SETTINGS).result()
    assert {f.property: f.reason for f in bad.failures} == {
        "harbor": "input harbor (set by the program, not a stack setting): is required (how to reach Harbor: "
        "url, or kubeconfig for the service proxy)",
        "name": "harbor-cache:thing.name: must be at most 5 characters",
        "size": "harbor-cache:thing.size and harbor-cache:thing.unit: must be >= 0, got -1",
        "fast": "input fast (set by the program, not a stack setting): must be true or false, got 'yes'",
    }
    unknown = SCHEMA.check({"harbor": HARBOR, "name": UNKNOWN, "size": UNKNOWN}, SETTINGS).result()
    assert unknown.failures == [] and unknown.inputs["name"] == UNKNOWN


def test_diff_replaces_only_on_replacing_inputs() -> None:
    olds = {"harbor": HARBOR, "name": "a", "size": 1, "__provider": "old"}
    assert SCHEMA.diff(olds, {**olds, "__provider": "new"}).changes is False
    resized = SCHEMA.diff(olds, {**olds, "size": 2})
    assert resized.changes and resized.replaces == [] and "thing_id" in (resized.stables or [])
    renamed = SCHEMA.diff(olds, {**olds, "name": "b"})
    assert renamed.replaces == ["name"] and renamed.delete_before_replace


def test_read_takes_harbor_paths_and_keeps_the_rest() -> None:
    props = {"harbor": HARBOR, "name": "a", "token": "t", "size": 1, "fast": False, "days": 4}
    live = {"name": "b", "auth": {"token": "*****"}, "spec": {}, "fast": 1}
    assert SCHEMA.read(live, props) == {
        "harbor": HARBOR, "name": "b", "token": "t", "size": -1, "fast": True, "days": 4,
    }
    assert SCHEMA.read({"auth": {"token": ""}}, props)["token"] == ""  # removed in Harbor: drift


def test_bodies_nested_and_flat() -> None:
    props = {"harbor": HARBOR, "name": "a", "token": "t", "size": 2.0, "fast": 0, "days": 4}
    assert SCHEMA.body(props) == {"name": "a", "auth": {"token": "t"}, "spec": {"size": 2}, "fast": False}
    assert SCHEMA.body(props, flat=True) == {"token": "t", "size": 2, "fast": False}  # no replacing input


def test_resource_args_fill_defaults_and_keep_secrets_secret() -> None:
    async def run() -> None:
        props, opts = SCHEMA.resource_args({"harbor": HARBOR, "name": "a", "size": None}, None)
        assert list(props) == [*SCHEMA.names, "thing_id", "adopted"]
        assert props["size"] == 1 and props["days"] == 0 and props["thing_id"] is None
        assert isinstance(props["token"], pulumi.Output) and await props["token"].is_secret()
        assert opts is not None and opts.additional_secret_outputs == ["token"]

    loop = asyncio.new_event_loop()  # not asyncio.run: it would leave no current loop for later mocked tests
    try:
        loop.run_until_complete(run())
    finally:
        loop.close()


class _Loose(TypedDict):
    name: str


def test_an_input_without_a_spec_is_refused() -> None:
    with pytest.raises(TypeError, match="Annotated"):
        Schema(_Loose, id_output="x", outputs=())
