"""``ProjectRetention``: a project's tag retention in Harbor, the one rule we own, "retain what was pulled in the
last N days". Type token ``pulumi-python:dynamic/harbor:ProjectRetention``; its id is the project's id (Harbor
keeps at most one retention policy per project), the policy's id is the ``retention_id`` output.

Harbor gives every proxy-cache project a retention policy with that rule (7 days, priority 1, no ``disabled``
field) when it creates the project; plain projects get none. We read the days from the rule with our template
and adopt it as ours (stacks written when the project owned its retention adopt the same policy): the whole policy
is written back (``PUT /retentions/{id}``) only when the days differ, with that rule's id and priority kept and only
its days changed (or the rule removed for 0 days), and every other rule kept as it is. A policy is created
(``POST /retentions``) only for a project without one, and safely: after an unconfirmed POST the project's
``retention_id`` is read before anything else, because a second POST answers 400 "project already has retention
policy". Delete removes our rule (a PUT, as 0 days does): the policy and its schedule stay, as Harbor keeps them;
a project already gone took its policy with it.

A refresh is one GET: the policy (``/retentions/{retention_id}``), or the project when the state has no policy.
"""

# No `from __future__ import annotations` here: Schema reads the specs in RetentionInputs at import time.

from collections.abc import Mapping
from typing import Annotated, Any, Required, TypedDict, Unpack

import pulumi
from pulumi.dynamic import CreateResult, ReadResult, Resource, UpdateResult

from components.dynamic import plain_props
from components.harbor_api.base import HarborProvider
from components.harbor_api.client import HarborClient
from components.harbor_api.diagnosis import jobservice_hint
from components.harbor_api.errors import HarborApiError, HarborError
from components.harbor_api.fields import Endpoint, Text, Whole
from components.harbor_api.schema import Options, Schema
from components.harbor_api.setting_names import PROJECT_RETENTION
from components.harbor_api.writes import create_once

PROXY_DEFAULT_RETENTION_DAYS = 7
"""What Harbor sets up on a new proxy-cache project."""
RETENTION_TEMPLATE = "nDaysSinceLastPull"
_DEFAULT_TRIGGER = {"kind": "Schedule", "settings": {"cron": "0 0 0 * * *"}}
_RULE_FIELDS = ("id", "priority", "disabled", "action", "template", "params", "tag_selectors", "scope_selectors")


def default_retention_days(inputs: Mapping[str, Any]) -> int:
    """Retention when the input is omitted: what Harbor does (7 days on proxy projects, none on plain ones)."""
    return PROXY_DEFAULT_RETENTION_DAYS if inputs.get("registry_id") is not None else 0


def retention_days(policy: Mapping[str, Any] | None) -> int:
    """The days of our rule in a retention policy; 0 when it has none or it is disabled."""
    for rule in (policy or {}).get("rules") or []:
        if rule.get("template") == RETENTION_TEMPLATE and not rule.get("disabled"):
            return int((rule.get("params") or {}).get(RETENTION_TEMPLATE) or 0)
    return 0


def _our_rule(days: int, existing: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Our rule with ``days``; an existing one (Harbor's automatic rule) keeps its id and priority."""
    existing = existing or {}
    rule: dict[str, Any] = {
        "priority": existing.get("priority", 1),
        "disabled": False,
        "action": "retain",
        "template": RETENTION_TEMPLATE,
        "params": {RETENTION_TEMPLATE: days},
        "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**"}],
        "scope_selectors": {
            "repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}]
        },
    }
    if existing.get("id") is not None:
        rule["id"] = existing["id"]
    return rule


def retention_body(policy: Mapping[str, Any], days: int, pid: int) -> dict[str, Any]:
    """The whole policy for PUT /retentions/{id}: our rule set to ``days`` or removed when 0, others kept."""
    others = [
        {k: r[k] for k in _RULE_FIELDS if k in r}
        for r in policy.get("rules") or []
        if r.get("template") != RETENTION_TEMPLATE
    ]
    ours = [r for r in policy.get("rules") or [] if r.get("template") == RETENTION_TEMPLATE]
    rules = others + ([_our_rule(days, ours[0] if ours else None)] if days else [])
    trigger = policy.get("trigger") or _DEFAULT_TRIGGER
    return {
        "id": policy.get("id"),
        "algorithm": policy.get("algorithm") or "or",
        "rules": rules,
        "trigger": {k: trigger[k] for k in ("kind", "settings", "references") if k in trigger},
        "scope": {"level": "project", "ref": pid},
    }


def _retention_id(client: HarborClient, pid: int) -> int | None:
    """The project's ``retention_id`` as Harbor has it now."""
    project = client.get(f"/projects/{pid}", f"read retention id of project {pid}") or {}
    rid = (project.get("metadata") or {}).get("retention_id")
    return int(rid) if rid else None


def write_retention(
    client: HarborClient, pid: int, name: str, policy: Mapping[str, Any] | None, days: int
) -> int | None:
    """Give project ``pid`` our rule with ``days`` (0: none), from its current ``policy`` (None: it has none);
    the policy's id afterwards (None: the project has none).

    A 5xx names Harbor's job service when /health says it is down (a retention policy has a schedule).
    """
    op = f"set retention of project '{name}' to {days} days" if days else f"turn off retention of project '{name}'"
    try:
        if policy is None and days:
            body = retention_body({}, days, pid)
            body.pop("id")
            try:
                rid, found = create_once(
                    client, "/retentions", body, op, find=lambda: _retention_id(client, pid),
                    explain=lambda _exc: jobservice_hint(client, "a retention policy (it has a schedule)"),
                )
            except HarborApiError as exc:  # one was created meanwhile (by us, with an answer we lost earlier)
                rid_now = _retention_id(client, pid) if exc.status == 400 else None
                if rid_now is None:
                    raise
                rid, found = rid_now, True
            if found:  # a policy we did not see created: make it ours too
                policy = client.get(f"/retentions/{rid}", f"read retention of project '{name}'") or {}
                if retention_days(policy) != days:
                    client.put(f"/retentions/{rid}", {**retention_body(policy, days, pid), "id": rid}, op)
            return rid
        if policy is not None:
            client.put(f"/retentions/{int(policy['id'])}", retention_body(policy, days, pid), op)
            return int(policy["id"])
        return None
    except HarborApiError as exc:
        if exc.status < 500:
            raise
        raise exc.with_hint(jobservice_hint(client, "a retention policy (it has a schedule)")) from None


class RetentionInputs(TypedDict, total=False):
    """The inputs of :class:`ProjectRetention` (components/harbor_api/fields.py says what a spec does)."""

    harbor: Required[Annotated[pulumi.Input[Any], Endpoint()]]
    project_id: Required[Annotated[pulumi.Input[int], Whole(minimum=1, replaces=True)]]
    project_name: Required[Annotated[pulumi.Input[str], Text()]]
    """For messages only (a new name is a new project, so a new project_id)."""
    days: Annotated[pulumi.Input[int] | None, Whole(default=0, minimum=0)]
    """None or 0: our rule removed."""


SCHEMA = Schema(RetentionInputs, id_output="project_id", outputs=("retention_id", "adopted"))
"""``project_id`` is also the resource's id; ``retention_id`` changes when the policy is created again."""


def _project_retention_id(client: HarborClient, pid: int) -> tuple[bool, int | None]:
    """Whether project ``pid`` exists, and its ``retention_id``."""
    project = client.get(f"/projects/{pid}", f"read retention id of project {pid}")
    if project is None:
        return False, None
    rid = (project.get("metadata") or {}).get("retention_id")
    return True, int(rid) if rid else None


def _policy(client: HarborClient, rid: int, pid: int) -> Mapping[str, Any] | None:
    """Policy ``rid`` when it is still project ``pid``'s (Harbor answers a deleted one with a 500)."""
    try:
        policy = client.get(f"/retentions/{rid}", f"read retention {rid} of project {pid}")
    except HarborApiError as exc:
        if exc.status < 500:
            raise
        policy = None
    if policy is None or int((policy.get("scope") or {}).get("ref") or 0) != pid:
        return None
    return policy


def _live(client: HarborClient, pid: int, known_rid: int | None = None) -> tuple[bool, Mapping[str, Any] | None]:
    """Whether project ``pid`` exists and its policy. With ``known_rid`` (refresh) that policy is read first:
    one GET when it is still the project's; the project is read only when it is not."""
    if known_rid is not None:
        policy = _policy(client, known_rid, pid)
        if policy is not None:
            return True, policy
    exists, rid = _project_retention_id(client, pid)
    return exists, (_policy(client, rid, pid) if exists and rid is not None else None)


def _converge(client: HarborClient, pid: int, name: str, days: int) -> tuple[int | None, bool]:
    """Our rule on project ``pid`` with ``days`` (0: removed), written only when it differs: the policy's id,
    and whether the project had a policy before (adopted)."""
    exists, policy = _live(client, pid)
    if not exists:
        raise HarborError(
            f"set retention of project '{name}': project id {pid} does not exist in Harbor; run pulumi refresh"
        )
    if retention_days(policy) == days:
        return (None if policy is None else int(policy["id"])), policy is not None
    return write_retention(client, pid, name, policy, days), policy is not None


class ProjectRetentionProvider(HarborProvider):
    """Create-or-adopt, read, update and delete of our rule in a project's retention policy (``/retentions``)."""

    schema = SCHEMA
    settings = PROJECT_RETENTION
    path = "/retentions"
    noun = "retention"
    in_use_hint = ""

    def create(self, props: dict[str, Any]) -> CreateResult:
        props = plain_props(props)
        client, pid = self.client(props), int(props["project_id"])
        rid, adopted = _converge(client, pid, props["project_name"], int(props.get("days") or 0))
        return CreateResult(str(pid), SCHEMA.outs(props, retention_id=rid, adopted=adopted))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        props = plain_props(props)
        pid, rid = int(id_), props.get("retention_id")
        exists, policy = _live(self.client(props), pid, None if rid is None else int(rid))
        if not exists:  # the project is gone, and its policy with it
            return ReadResult("", {})
        inputs = {**SCHEMA.read({}, props), "days": retention_days(policy)}
        rid_now = None if policy is None else int(policy["id"])
        return ReadResult(id_, SCHEMA.outs(inputs, retention_id=rid_now, adopted=props.get("adopted")), inputs)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        news = plain_props(news)
        rid, _ = _converge(self.client(news), int(id_), news["project_name"], int(news.get("days") or 0))
        return UpdateResult(SCHEMA.outs(news, retention_id=rid, adopted=olds.get("adopted", False)))

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        props = plain_props(props)
        client, pid = self.client(props), int(id_)
        exists, policy = _live(client, pid)
        if exists and retention_days(policy):  # a project already gone took its policy with it
            write_retention(client, pid, props.get("project_name") or str(pid), policy, 0)


class ProjectRetention(Resource, module="harbor", name="ProjectRetention"):
    """Our "retain what was pulled in the last ``days`` days" rule in project ``project_id``'s retention policy.

    Inputs (:class:`RetentionInputs`): ``harbor``, ``project_id`` (a change replaces), ``project_name`` (for
    messages), ``days`` (None or 0: the rule removed, the policy kept). Outputs: those plus ``retention_id``
    (the policy's id in Harbor; None when the project has none) and ``adopted`` (the project already had a policy:
    Harbor's automatic one on a proxy cache, or the one an earlier version of this program wrote).
    """

    retention_id: pulumi.Output[int | None]
    days: pulumi.Output[int]

    def __init__(self, resource_name: str, *, opts: Options = None, **inputs: Unpack[RetentionInputs]) -> None:
        super().__init__(ProjectRetentionProvider(), resource_name, *SCHEMA.resource_args(inputs, opts))
