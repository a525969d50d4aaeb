"""A project's tag retention in Harbor: the one rule we own, "retain what was pulled in the last N days".

Harbor gives every proxy-cache project a retention policy with that rule (7 days, priority 1, no ``disabled``
field) when it creates the project; plain projects get none. We read the days from the rule with our template
and adopt it as ours: the whole policy is written back (``PUT /retentions/{id}``) only when the days differ,
with that rule's id and priority kept and only its days changed (or the rule removed for 0 days), and every
other rule kept as it is. A policy is created (``POST /retentions``) only for a project without one, and safely:
after an unconfirmed POST the project's ``retention_id`` is read before anything else, because a second POST
answers 400 "project already has retention policy".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.harbor_api.client import HarborClient
from components.harbor_api.diagnosis import jobservice_hint
from components.harbor_api.errors import HarborApiError
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
) -> None:
    """Give project ``pid`` our rule with ``days`` (0: none), from its current ``policy`` (None: it has none).

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
        elif policy is not None:
            client.put(f"/retentions/{int(policy['id'])}", retention_body(policy, days, pid), op)
    except HarborApiError as exc:
        if exc.status < 500:
            raise
        raise exc.with_hint(jobservice_hint(client, "a retention policy (it has a schedule)")) from None
