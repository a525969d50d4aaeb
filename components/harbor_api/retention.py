"""A project's tag retention in Harbor: the one rule we own, "retain what was pulled in the last N days".

Harbor gives every proxy-cache project a retention policy with that rule (7 days) when it creates the project;
plain projects get none. We read the days from the rule with our template, and write the whole policy back
(``PUT /retentions/{id}``) with our rule set, or removed for 0 days, and every other rule kept as it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


def _our_rule(days: int, rule_id: Any = None) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "priority": 1,
        "disabled": False,
        "action": "retain",
        "template": RETENTION_TEMPLATE,
        "params": {RETENTION_TEMPLATE: days},
        "tag_selectors": [{"kind": "doublestar", "decoration": "matches", "pattern": "**"}],
        "scope_selectors": {
            "repository": [{"kind": "doublestar", "decoration": "repoMatches", "pattern": "**"}]
        },
    }
    if rule_id is not None:
        rule["id"] = rule_id
    return rule


def retention_body(policy: Mapping[str, Any], days: int, pid: int) -> dict[str, Any]:
    """The whole policy for PUT /retentions/{id}: our rule set to ``days`` or removed when 0, others kept."""
    others = [
        {k: r[k] for k in _RULE_FIELDS if k in r}
        for r in policy.get("rules") or []
        if r.get("template") != RETENTION_TEMPLATE
    ]
    ours = [r for r in policy.get("rules") or [] if r.get("template") == RETENTION_TEMPLATE]
    rules = others + ([_our_rule(days, ours[0].get("id") if ours else None)] if days else [])
    trigger = policy.get("trigger") or _DEFAULT_TRIGGER
    return {
        "id": policy.get("id"),
        "algorithm": policy.get("algorithm") or "or",
        "rules": rules,
        "trigger": {k: trigger[k] for k in ("kind", "settings", "references") if k in trigger},
        "scope": {"level": "project", "ref": pid},
    }
