"""``ReplicationPolicy``: a pull replication rule from a registry into a plain project.

Type token ``pulumi-python:dynamic/harbor:ReplicationPolicy``. Harbor's update is a full replacement (PUT), so
every field is sent each time; filters and the trigger are lists and objects in Harbor, mapped by hand below.
Harbor's GET shows the local side as ``dest_registry`` with id 0 ("Local"); it is no input and never drift.

Before a write the source registry is read (Harbor answers 404 for a policy naming a missing one, and we say
which). A run is started safely: after an unconfirmed ``POST /replication/executions`` the policy's manual
executions are listed and one started since the request is adopted, so a lost answer never starts a second run.
"""

# No `from __future__ import annotations` here: Schema reads the specs in ReplicationPolicyInputs at import time.

import time
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Required, TypedDict, Unpack

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult

from components import rules
from components.dynamic import plain_props
from components.harbor_api import setting_names
from components.harbor_api.base import HarborProvider, as_int, create_or_adopt_listed
from components.harbor_api.client import HarborClient
from components.harbor_api.diagnosis import CORE_LOG, jobservice_hint
from components.harbor_api.errors import (
    HarborApiError,
    HarborError,
    HarborNotFoundError,
    HarborPreconditionFailedError,
    HarborUnconfirmedWriteError,
)
from components.harbor_api.fields import Endpoint, Flag, Number, Text, Whole
from components.harbor_api.schema import Checker, Options, Schema
from components.harbor_api.writes import create_once

PATH = "/replication/policies"
_RUNNING = frozenset({"InProgress", "Pending", "Running"})
_FINISHED = frozenset({"Succeed", "Failed", "Stopped"})
# Harbor features we do not use, sent explicitly because PUT replaces the whole policy.
_FIXED = {"deletion": False, "replicate_deletion": False, "copy_by_chunk": False, "single_active_replication": False}


class ReplicationPolicyInputs(TypedDict, total=False):
    """The inputs of :class:`ReplicationPolicy`, declared once (components/harbor_api/fields.py: the specs)."""

    harbor: Required[Annotated[pulumi.Input[Any], Endpoint()]]
    name: Required[Annotated[pulumi.Input[str], Text(max_len=256, harbor="name")]]
    description: Annotated[pulumi.Input[str], Text(default="", harbor="description")]
    registry_id: Required[Annotated[pulumi.Input[int], Whole(minimum=1, harbor="src_registry.id")]]
    dest_namespace: Required[
        Annotated[pulumi.Input[str], Text(rule=rules.project_name_problem, harbor="dest_namespace")]
    ]
    # 0 keeps the source paths; Harbor's null means -1 (flatten every level).
    dest_namespace_replace_count: Annotated[
        pulumi.Input[int], Whole(default=0, minimum=-1, harbor_null=-1, harbor="dest_namespace_replace_count")
    ]
    name_filter: Annotated[pulumi.Input[str] | None, Text(blank_as_none=True)]
    tag_filter: Annotated[pulumi.Input[str] | None, Text(blank_as_none=True)]
    trigger: Annotated[pulumi.Input[str], Text(default="manual", choices=("manual", "scheduled"))]
    cron: Annotated[pulumi.Input[str] | None, Text()]
    override: Annotated[pulumi.Input[bool], Flag(default=True, harbor="override")]
    enabled: Annotated[pulumi.Input[bool], Flag(default=True, harbor="enabled")]
    speed: Annotated[pulumi.Input[int], Whole(default=0, minimum=-1, harbor="speed")]
    run_on_change: Annotated[pulumi.Input[bool], Flag(default=False)]
    run_timeout: Annotated[pulumi.Input[float], Number(default=600.0)]


SCHEMA = Schema(
    ReplicationPolicyInputs,
    id_output="policy_id",
    outputs=("policy_id", "last_execution_id", "last_execution_status", "adopted"),
)


def _body(p: Mapping[str, Any]) -> dict[str, Any]:
    """The whole ``ReplicationPolicy``: the inputs at their paths, filters and trigger, and the fixed fields."""
    filters: list[dict[str, Any]] = []
    if p.get("name_filter"):
        filters.append({"type": "name", "value": p["name_filter"]})
    if p.get("tag_filter"):
        filters.append({"type": "tag", "value": p["tag_filter"], "decoration": "matches"})
    trigger: dict[str, Any] = {"type": p["trigger"]}
    if p["trigger"] == "scheduled":
        trigger["trigger_settings"] = {"cron": p["cron"]}
    return {**SCHEMA.body(p), "filters": filters, "trigger": trigger, **_FIXED}


def _read_inputs(live: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
    """The inputs as Harbor has them: the specs' paths, then filters and trigger."""
    filters = {f.get("type"): f.get("value") for f in live.get("filters") or []}
    trigger = live.get("trigger") or {}
    kind = trigger.get("type") or "manual"
    cron = (trigger.get("trigger_settings") or {}).get("cron") or None
    return {
        **SCHEMA.read(live, props),
        "name_filter": filters.get("name") or None,
        "tag_filter": filters.get("tag") or None,
        "trigger": kind,
        "cron": cron if kind == "scheduled" else None,
    }


def _outs(inputs: Mapping[str, Any], pid: int, run: tuple[Any, Any], *, adopted: Any) -> dict[str, Any]:
    return SCHEMA.outs(
        inputs,
        policy_id=pid,
        last_execution_id=as_int(run[0]),
        last_execution_status=run[1],
        adopted=bool(adopted),
    )


def _manual_runs(client: HarborClient, pid: int, name: str) -> set[int]:
    """Ids of the policy's manual executions (the ones a run of ours can be)."""
    runs = client.list_all(
        "/replication/executions", f"list executions of replication policy '{name}'",
        params={"policy_id": pid, "trigger": "manual"},
    )
    return {int(e["id"]) for e in runs if e.get("trigger", "manual") == "manual"}


def _start_run(client: HarborClient, pid: int, p: Mapping[str, Any]) -> int:
    """Start one execution; after an unconfirmed POST, adopt one started since the request instead of a second."""
    name = p["name"]
    before = _manual_runs(client, pid, name)

    def started_since() -> int | None:
        new = _manual_runs(client, pid, name) - before
        return max(new) if new else None

    try:
        eid, _found = create_once(
            client, "/replication/executions", {"policy_id": pid}, f"run replication policy '{name}'",
            find=started_since, explain=lambda _exc: jobservice_hint(client, "running a replication"),
        )
    except HarborPreconditionFailedError as exc:
        raise exc.with_hint(
            "Harbor does not run a disabled policy: it is disabled in Harbor (enabled: false); enable it, or "
            f"turn off {setting_names.PREFIX}replication.runOnChange"
        ) from None
    return eid


def _run_policy(
    client: HarborClient, pid: int, p: Mapping[str, Any], sleep: Callable[[float], None] = time.sleep
) -> tuple[int, str]:
    """Start one execution, wait (bounded by ``run_timeout``) for its result; raise unless it succeeded."""
    name = p["name"]
    eid = _start_run(client, pid, p)
    deadline = time.monotonic() + float(p["run_timeout"])
    delay = 0.1
    while True:
        execution = (
            client.get(f"/replication/executions/{eid}", f"read execution {eid} of policy '{name}'") or {}
        )
        status = str(execution.get("status", ""))
        if status not in _RUNNING:
            break
        if time.monotonic() >= deadline:
            raise HarborError(
                f"replication policy '{name}': execution {eid} still {status} after "
                f"{float(p['run_timeout']):g}s; it goes on in Harbor"
            )
        sleep(min(delay, max(deadline - time.monotonic(), 0.0)))
        delay = min(delay * 2, 5.0)
    if status != "Succeed":
        raise HarborError(
            f"replication policy '{name}': execution {eid} ended {status}: {execution.get('failed', 0)} of "
            f"{execution.get('total', 0)} tasks failed; {execution.get('status_text') or 'no status text'}"
        )
    return eid, status


def _run_if_asked(client: HarborClient, pid: int, p: Mapping[str, Any]) -> tuple[Any, Any] | None:
    """With ``run_on_change`` (and the policy enabled), run it now and return (execution id, status)."""
    return _run_policy(client, pid, p) if p["run_on_change"] and p["enabled"] else None


def _missing_registry(client: HarborClient, p: Mapping[str, Any]) -> str | None:
    """Why the policy cannot be written when its source registry is gone (Harbor's 404), else None."""
    rid = int(p["registry_id"])
    if client.get(f"/registries/{rid}", f"read registry {rid} of replication policy '{p['name']}'") is not None:
        return None
    return (
        f"replication policy '{p['name']}': its source registry (id {rid}, input registry_id) does not exist "
        "in Harbor: it was deleted outside Pulumi; run `pulumi refresh`, then `pulumi up` creates it again"
    )


def _explain_write(client: HarborClient, p: Mapping[str, Any]) -> str:
    """Why a policy write answered 5xx: a scheduled policy needs Harbor's job service."""
    if p["trigger"] == "scheduled":
        return jobservice_hint(client, "a scheduled replication policy")
    return CORE_LOG


def _explain_unconfirmed(client: HarborClient, p: Mapping[str, Any]) -> Callable[[HarborUnconfirmedWriteError], str]:
    return lambda _exc: _explain_write(client, p)


def _put_policy(client: HarborClient, pid: int, p: Mapping[str, Any]) -> None:
    """PUT the whole policy; a 404 because the registry is gone, and a 5xx, are explained."""
    try:
        client.put(f"{PATH}/{pid}", _body(p), f"update replication policy '{p['name']}'")
    except HarborNotFoundError as exc:
        raise exc.with_hint(_missing_registry(client, p) or "the policy itself is gone; run pulumi refresh") from None
    except HarborApiError as exc:
        if exc.status < 500:
            raise
        raise exc.with_hint(_explain_write(client, p)) from None


class ReplicationPolicyProvider(HarborProvider):
    """CRUD for a pull-based ``/replication/policies`` entry, optionally running it after each change."""

    schema = SCHEMA
    path = PATH
    noun = "replication policy"
    in_use_hint = "an execution of it is still running; stop it or wait"
    settings = setting_names.REPLICATION_POLICY

    def refine(self, c: Checker) -> None:
        trigger, cron = c.out["trigger"], c.out["cron"]
        if c.known("trigger", "cron"):
            if trigger == "scheduled":
                if not cron:
                    c.fail("cron", "is required for trigger 'scheduled'")
                elif isinstance(cron, str):
                    c.fail("cron", rules.cron_problem(cron))
            elif cron:
                c.fail("cron", "is only used with trigger 'scheduled'")
            else:
                c.out["cron"] = None
        speed = c.out["speed"]
        if c.known("speed") and isinstance(speed, int) and speed < 0:
            c.out["speed"] = 0  # Harbor stores negatives as 0 (unlimited)

    def create(self, props: dict[str, Any]) -> CreateResult:
        props = plain_props(props)
        client, name = self.client(props), props["name"]
        missing = _missing_registry(client, props)
        if missing:
            raise HarborError(missing)
        try:
            pid, adopted = create_or_adopt_listed(
                client, PATH, "replication policy", name, _body(props),
                explain=_explain_unconfirmed(client, props),
            )
        except HarborNotFoundError as exc:  # the registry went away between our read and the POST
            raise exc.with_hint(_missing_registry(client, props) or CORE_LOG) from None
        if adopted:
            _put_policy(client, pid, props)
        run = _run_if_asked(client, pid, props) or (None, None)
        return CreateResult(str(pid), _outs(props, pid, run, adopted=adopted))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        props = plain_props(props)
        client = self.client(props)
        live = client.get(f"{PATH}/{int(id_)}", f"read replication policy {id_}")
        if live is None:
            return ReadResult("", {})
        inputs = _read_inputs(live, props)
        last_id, last_status = props.get("last_execution_id"), props.get("last_execution_status")
        # A finished run never changes again: its execution is read only while it is still running (or unknown).
        if last_id and last_status not in _FINISHED:
            execution = client.get(
                f"/replication/executions/{int(last_id)}", f"read replication execution {last_id}"
            )
            last_status = (execution or {}).get("status", last_status)
        outs = _outs(inputs, int(id_), (last_id, last_status), adopted=props.get("adopted", False))
        return ReadResult(id_, outs, inputs=inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        news = plain_props(news)
        client, pid = self.client(news), int(id_)
        # PUT is a full replacement: every field is sent, or Harbor resets it (replace count → -1).
        _put_policy(client, pid, news)
        run = _run_if_asked(client, pid, news) or (olds.get("last_execution_id"), olds.get("last_execution_status"))
        return UpdateResult(_outs(news, pid, run, adopted=olds.get("adopted", False)))



class ReplicationPolicy(Resource, module="harbor", name="ReplicationPolicy"):
    """A pull replication rule from registry ``registry_id`` into the plain project ``dest_namespace``.

    Inputs (:class:`ReplicationPolicyInputs`): ``harbor``, ``name``, ``description``, ``registry_id``,
    ``dest_namespace``, ``dest_namespace_replace_count`` (0 keeps paths), ``name_filter``, ``tag_filter``,
    ``trigger`` (``manual``|``scheduled``), ``cron`` (6 fields, seconds first and ``0``), ``override``,
    ``enabled``, ``speed`` (kbps, 0 unlimited), ``run_on_change`` (start an execution after each create/update
    and wait up to ``run_timeout`` seconds; a failed run is an error). Outputs: those plus ``policy_id``,
    ``last_execution_id``, ``last_execution_status``, ``adopted``.
    """

    policy_id: pulumi.Output[int]
    last_execution_id: pulumi.Output[int | None]
    last_execution_status: pulumi.Output[str | None]

    def __init__(self, resource_name: str, *, opts: Options = None, **inputs: Unpack[ReplicationPolicyInputs]) -> None:
        super().__init__(ReplicationPolicyProvider(), resource_name, *SCHEMA.resource_args(inputs, opts))
