"""``Registry``: an upstream registry endpoint in Harbor (``/registries``), e.g. Amazon ECR.

Type token ``pulumi-python:dynamic/harbor:Registry``. The upstream secret access key is the secret input
``access_secret``; Harbor never returns it (it masks stored secrets), so every update sends it again.
``ambient_credentials`` (IRSA) sends an empty basic credential, on which Harbor's ECR adapter falls back to the
AWS SDK's default chain (without a credential object at all, the adapter crashes: 500).

Harbor checks the upstream live on every registry create and update (components/harbor_api/diagnosis.py says
which failure it probably was), so a write waits up to :data:`REGISTRY_WRITE_TIMEOUT`, and an update writes
only when Harbor's registry differs from the inputs or the secret changed.
"""

# No `from __future__ import annotations` here: Schema reads the specs in RegistryInputs at import time.

import contextlib
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Required, TypedDict, Unpack
from urllib.parse import urlsplit

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult

from components import rules
from components.dynamic import plain_props
from components.harbor_api import setting_names
from components.harbor_api.base import HarborProvider, create_or_adopt_listed
from components.harbor_api.client import HarborClient
from components.harbor_api.diagnosis import CORE_LOG, unhealthy_registry_hint
from components.harbor_api.errors import (
    HarborApiError,
    HarborError,
    HarborTimeoutError,
    HarborUnconfirmedWriteError,
)
from components.harbor_api.fields import Endpoint, Flag, Text
from components.harbor_api.schema import Checker, Options, Schema
from components.harbor_api.setting_names import EGRESS_PROXY
from components.harbor_api.writes import Explain

PATH = "/registries"
REGISTRY_WRITE_TIMEOUT = 180.0
"""Seconds a registry create or update may take: Harbor core checks the upstream live first, with its own dial
timeouts of about 30 s and the AWS SDK's retries, so a silently dropped connection takes minutes."""
UNHEALTHY = "the registry is unhealthy"

# Registry types Harbor v2.14 has an adapter for, and which of them may back a proxy-cache project (the chart's
# PERMITTED_REGISTRY_TYPES_FOR_PROXY_CACHE): one home, components/rules/registries.py.
HARBOR_ADAPTER_TYPES = rules.HARBOR_ADAPTER_TYPES
PROXY_CACHE_TYPES = rules.CHART_PROXY_CACHE_TYPES


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
    # Harbor core's own AWS identity (IRSA) instead of keys: an empty basic credential is sent.
    ambient_credentials: Annotated[pulumi.Input[bool], Flag(default=False)]
    insecure: Annotated[pulumi.Input[bool], Flag(default=False, harbor="insecure")]
    description: Annotated[pulumi.Input[str], Text(default="", harbor="description")]


SCHEMA = Schema(RegistryInputs, id_output="registry_id", outputs=("registry_id", "status", "adopted"))


def _create_body(props: Mapping[str, Any]) -> dict[str, Any]:
    """``Registry``: the inputs at their paths; the credential when there are keys or ambient credentials
    (then empty: Harbor's ECR adapter dereferences the credential object, so it must be there)."""
    body = SCHEMA.body(props)
    credential = body.pop("credential")
    if credential["access_key"] or credential["access_secret"] or props.get("ambient_credentials"):
        body["credential"] = {"type": "basic", **credential}
    return body


def _update_body(props: Mapping[str, Any]) -> dict[str, Any]:
    """``RegistryUpdate`` is flat; the secret is always sent (Harbor masks it, so it cannot be compared)."""
    return {**SCHEMA.body(props, flat=True), "credential_type": "basic"}


def _outs(inputs: Mapping[str, Any], rid: int, live: Mapping[str, Any], adopted: Any) -> dict[str, Any]:
    return SCHEMA.outs(inputs, registry_id=rid, status=live.get("status", ""), adopted=bool(adopted))


def _read_live(client: HarborClient, rid: int, name: str) -> Mapping[str, Any]:
    live = client.get(f"{PATH}/{rid}", f"read registry '{name}'")
    if live is None:
        raise HarborError(f"registry '{name}': id {rid} no longer exists in Harbor; run pulumi refresh")
    return live


def _needs_write(olds: Mapping[str, Any] | None, news: Mapping[str, Any], live: Mapping[str, Any]) -> bool:
    """Whether Harbor's registry must be written: a field differs, or the secret (which Harbor masks) changed.

    ``olds`` None: an adopted registry, whose secret cannot be known, so one we have is always sent.
    """
    if any(value != news.get(name) for name, value in SCHEMA.read(live, news).items() if SCHEMA.sent(name)):
        return True
    if news.get("ambient_credentials") and not live.get("credential"):
        return True
    secret = news.get("access_secret") or ""
    return bool(secret) if olds is None else secret != (olds.get("access_secret") or "")


def _timeout_hint(props: Mapping[str, Any]) -> str:
    return (
        f"Harbor core checks the upstream live on every registry write; with its connection to {props['url']} "
        f"silently dropped that check outlasts {REGISTRY_WRITE_TIMEOUT:g}s (Harbor's dial timeouts are about "
        f"30 s and the AWS SDK retries): check egress from the harbor-core pod and {EGRESS_PROXY}; the next "
        "pulumi up finds the registry if Harbor created it after all"
    )


@contextlib.contextmanager
def _explained(client: HarborClient, props: Mapping[str, Any]) -> Iterator[None]:
    """Add the likely cause to a failed registry write: the upstream check (400) or its timeout."""
    try:
        yield
    except HarborApiError as exc:
        if exc.status == 400 and UNHEALTHY in exc.message:
            raise exc.with_hint(unhealthy_registry_hint(client, props, REGISTRY_WRITE_TIMEOUT)) from None
        raise
    except HarborTimeoutError as exc:
        raise HarborTimeoutError(f"{exc}; {_timeout_hint(props)}") from None


def _explain_unconfirmed(props: Mapping[str, Any]) -> Explain:
    def explain(exc: HarborUnconfirmedWriteError) -> str:
        if exc.timed_out:
            return _timeout_hint(props)
        return (
            f"{CORE_LOG}; on a registry write Harbor also answers 500 for a body its adapter cannot use "
            "(an aws-ecr registry without a credential object, or a URL outside the adapter's pattern)"
        )

    return explain


def _write(client: HarborClient, rid: int, props: Mapping[str, Any]) -> None:
    """PUT the flat update, waiting for Harbor's upstream check; a timeout is not repeated."""
    with _explained(client, props):
        client.put(
            f"{PATH}/{rid}", _update_body(props), f"update registry '{props['name']}'",
            timeout=REGISTRY_WRITE_TIMEOUT, retry_timeouts=False,
        )


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
        kind, ambient = c.out["type"], c.out["ambient_credentials"]
        if not c.known("type", "ambient_credentials", "access_key_id", "access_secret"):
            return
        if secret and not key and not ambient:
            c.fail("access_key_id", f"is required when {c.label('access_secret')} is set")
        elif ambient and kind != "aws-ecr":
            c.fail("ambient_credentials", f"applies only to type aws-ecr (IRSA), not {kind!r}")
        elif ambient and (key or secret):
            with_ambient = f"with {c.label('ambient_credentials')}: true (IRSA)"
            c.fail("access_key_id", f"must be empty {with_ambient}" if key else None)
            c.fail("access_secret", f"must not be set {with_ambient}" if secret else None)
        elif kind == "aws-ecr" and not ambient and not key:
            c.fail(
                "access_key_id",
                f"is required for aws-ecr (Harbor's ECR adapter needs credentials), or set "
                f"{c.label('ambient_credentials')}: true to use Harbor core's AWS identity (IRSA)",
            )

    def create(self, props: dict[str, Any]) -> CreateResult:
        props = plain_props(props)
        client, name = self.ready_client(props), props["name"]
        with _explained(client, props):
            rid, adopted = create_or_adopt_listed(
                client, PATH, "registry", name, _create_body(props),
                adoptable=lambda existing: None if existing.get("type") == props["type"] else (
                    f"Harbor already has a registry of that name with type {existing.get('type')!r}, not "
                    f"{props['type']!r}; rename one of them"
                ),
                explain=_explain_unconfirmed(props), timeout=REGISTRY_WRITE_TIMEOUT,
            )
        live = _read_live(client, rid, name)
        if adopted and _needs_write(None, props, live):
            _write(client, rid, props)
            live = _read_live(client, rid, name)
        return CreateResult(str(rid), _outs(props, rid, live, adopted))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        props = plain_props(props)
        live = self.client(props).get(f"{PATH}/{int(id_)}", f"read registry {id_}")
        if live is None:
            return ReadResult("", {})
        inputs = SCHEMA.read(live, props)
        return ReadResult(id_, _outs(inputs, int(id_), live, props.get("adopted", False)), inputs=inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        olds, news = plain_props(olds), plain_props(news)
        client, rid, name = self.client(news), int(id_), news["name"]
        live = _read_live(client, rid, name)
        if _needs_write(olds, news, live):  # every write makes Harbor check the upstream again
            _write(client, rid, news)
            live = _read_live(client, rid, name)
        return UpdateResult(_outs(news, rid, live, olds.get("adopted", False)))


class Registry(Resource, module="harbor", name="Registry"):
    """An upstream registry endpoint in Harbor (``/registries``), e.g. Amazon ECR.

    Inputs (:class:`RegistryInputs`): ``harbor``, ``name``, ``url``, ``type``
    (``aws-ecr``|``docker-registry``|``harbor``; a change replaces), ``access_key_id``, ``access_secret``
    (secret), ``ambient_credentials`` (aws-ecr with Harbor core's IRSA identity), ``insecure``,
    ``description``. Outputs: those plus ``registry_id``, ``status``, ``adopted``.
    """

    registry_id: pulumi.Output[int]
    status: pulumi.Output[str]
    name: pulumi.Output[str]

    def __init__(self, resource_name: str, *, opts: Options = None, **inputs: Unpack[RegistryInputs]) -> None:
        super().__init__(RegistryProvider(), resource_name, *SCHEMA.resource_args(inputs, opts))
