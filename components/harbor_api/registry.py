"""``Registry``: an upstream registry endpoint in Harbor (``/registries``), e.g. Amazon ECR.

Type token ``pulumi-python:dynamic/harbor:Registry``. The upstream secret access key is the secret input
``access_secret``; Harbor never returns it (it masks stored secrets), so every update sends it again.
"""

# No `from __future__ import annotations` here: Schema reads the specs in RegistryInputs at import time.

from collections.abc import Mapping
from typing import Annotated, Any, Required, TypedDict, Unpack
from urllib.parse import urlsplit

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult

from components import rules
from components.dynamic import plain_props
from components.harbor_api import setting_names
from components.harbor_api.base import HarborProvider, create_or_adopt_listed
from components.harbor_api.client import HarborClient
from components.harbor_api.fields import Endpoint, Flag, Text
from components.harbor_api.schema import Checker, Options, Schema

PATH = "/registries"


class RegistryInputs(TypedDict, total=False):
    """The inputs of :class:`Registry`, declared once (components/harbor_api/fields.py says what a spec does)."""

    harbor: Required[Annotated[pulumi.Input[Any], Endpoint()]]
    name: Required[Annotated[pulumi.Input[str], Text(max_len=rules.REGISTRY_NAME_MAX, harbor="name")]]
    type: Annotated[
        pulumi.Input[str], Text(default="aws-ecr", choices=rules.REGISTRY_TYPES, replaces=True, harbor="type")
    ]
    url: Required[Annotated[pulumi.Input[str], Text(harbor="url")]]
    access_key_id: Annotated[pulumi.Input[str], Text(default="", harbor="credential.access_key")]
    access_secret: Annotated[
        pulumi.Input[str] | None,
        Text(default="", secret=True, write_only=True, harbor="credential.access_secret"),
    ]
    insecure: Annotated[pulumi.Input[bool], Flag(default=False, harbor="insecure")]
    description: Annotated[pulumi.Input[str], Text(default="", harbor="description")]


SCHEMA = Schema(RegistryInputs, id_output="registry_id", outputs=("registry_id", "status", "adopted"))


def _create_body(props: Mapping[str, Any]) -> dict[str, Any]:
    """``Registry``: the inputs at their paths; the credential only when there is one."""
    body = SCHEMA.body(props)
    credential = body.pop("credential")
    if credential["access_key"] or credential["access_secret"]:
        body["credential"] = {"type": "basic", **credential}
    return body


def _update_body(props: Mapping[str, Any]) -> dict[str, Any]:
    """``RegistryUpdate`` is flat; the secret is always sent (Harbor masks it, so it cannot be compared)."""
    return {**SCHEMA.body(props, flat=True), "credential_type": "basic"}


def _outs(inputs: Mapping[str, Any], rid: int, live: Mapping[str, Any], adopted: Any) -> dict[str, Any]:
    return SCHEMA.outs(inputs, registry_id=rid, status=live.get("status", ""), adopted=bool(adopted))


def _read_live(client: HarborClient, rid: int, name: str) -> Mapping[str, Any]:
    return client.get(f"{PATH}/{rid}", f"read registry '{name}'") or {}


class RegistryProvider(HarborProvider):
    """CRUD for ``/registries`` (an upstream endpoint such as Amazon ECR)."""

    schema = SCHEMA
    path = PATH
    noun = "registry"
    in_use_hint = "a proxy-cache project or replication policy still uses it"
    settings = setting_names.REGISTRY

    def refine(self, c: Checker) -> None:
        url, key, secret = c.out["url"], c.out["access_key_id"], c.out["access_secret"]
        if isinstance(url, str) and c.known("url") and url:
            if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).hostname:
                c.fail("url", f"must be an http(s) URL, got {url!r}")
            elif c.out["type"] == "aws-ecr" and not rules.ECR_URL_RE.fullmatch(url):
                c.fail("url", f"{url!r} is not an Amazon ECR endpoint; use {rules.ECR_URL_HINT}")
        if c.known("access_key_id", "access_secret") and secret and not key:
            c.fail("access_key_id", f"is required when {c.label('access_secret')} is set")

    def create(self, props: dict[str, Any]) -> CreateResult:
        props = plain_props(props)
        client, name = self.ready_client(props), props["name"]
        rid, adopted = create_or_adopt_listed(
            client, PATH, "registry", name, (_create_body(props), _update_body(props)),
            lambda existing: None if existing.get("type") == props["type"] else (
                f"Harbor already has a registry of that name with type {existing.get('type')!r}, not "
                f"{props['type']!r}; rename one of them"
            ),
        )
        return CreateResult(str(rid), _outs(props, rid, _read_live(client, rid, name), adopted))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        props = plain_props(props)
        live = self.client(props).get(f"{PATH}/{int(id_)}", f"read registry {id_}")
        if live is None:
            return ReadResult("", {})
        inputs = SCHEMA.read(live, props)
        return ReadResult(id_, _outs(inputs, int(id_), live, props.get("adopted", False)), inputs=inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        news = plain_props(news)
        client, rid, name = self.client(news), int(id_), news["name"]
        client.put(f"{PATH}/{rid}", _update_body(news), f"update registry '{name}'")
        return UpdateResult(_outs(news, rid, _read_live(client, rid, name), olds.get("adopted", False)))



class Registry(Resource, module="harbor", name="Registry"):
    """An upstream registry endpoint in Harbor (``/registries``), e.g. Amazon ECR.

    Inputs (:class:`RegistryInputs`): ``harbor``, ``name``, ``url``, ``type``
    (``aws-ecr``|``docker-registry``|``harbor``; a change replaces), ``access_key_id``, ``access_secret``
    (secret), ``insecure``, ``description``. Outputs: those plus ``registry_id``, ``status``, ``adopted``.
    """

    registry_id: pulumi.Output[int]
    status: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(self, resource_name: str, *, opts: Options = None, **inputs: Unpack[RegistryInputs]) -> None:
        super().__init__(RegistryProvider(), resource_name, *SCHEMA.resource_args(inputs, opts))
