"""Reading Kyverno image-rewrite policies: which rules rewrite images, what they cover and where they point.

A rewrite rule is a mutate rule that calls `regex_replace_all` / `regex_replace_all_literal` (the Kyverno
sample and harbor-cache's own policy both do) to replace the registry part of an image reference.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any

from policy.props import UNKNOWN, dig, walk

CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
EPHEMERAL_KIND = "Pod/ephemeralcontainers"
# regex_replace_all('<regex>', '<source>', '<replacement>') and the _literal variant.
_REPLACE_CALL = re.compile(
    r"regex_replace_all(?:_literal)?\(\s*'((?:[^'\\]|\\.)*)'\s*,\s*'[^']*'\s*,\s*'((?:[^'\\]|\\.)*)'\s*\)")
_MATCH_CALL = re.compile(r"regex_match\(\s*'((?:[^'\\]|\\.)*)'")
_LIST_FIELD = re.compile(r"(?:request\.object\.)?spec\.(containers|initContainers|ephemeralContainers)\b")
_PATCH_FIELD = re.compile(r"/spec/(containers|initContainers|ephemeralContainers)/")


@dataclass(frozen=True)
class RewriteRule:
    """One image-rewrite rule, reduced to what the policies check."""

    name: str
    lists: frozenset[str]
    kinds: frozenset[str]
    patterns: tuple[str, ...]
    replacements: tuple[str, ...]
    excluded_namespaces: frozenset[str]
    matched_namespaces: frozenset[str] | None

    def excludes(self, namespace: str) -> bool:
        """True when the rule never applies in `namespace` (excluded, or outside an explicit allow-list)."""
        if any(fnmatch.fnmatchcase(namespace, pattern) for pattern in self.excluded_namespaces):
            return True
        if self.matched_namespaces is None:
            return False
        return not any(fnmatch.fnmatchcase(namespace, pattern) for pattern in self.matched_namespaces)


def _blocks(selector: Any) -> list[dict[str, Any]]:
    """The `resources` blocks of a match/exclude selector (`any`, `all` or the legacy bare form)."""
    if not isinstance(selector, dict):
        return []
    blocks = [item.get("resources") for key in ("any", "all") for item in selector.get(key) or []
              if isinstance(item, dict)]
    blocks.append(selector.get("resources"))
    return [block for block in blocks if isinstance(block, dict)]


def _strings(blocks: list[dict[str, Any]], key: str) -> list[str]:
    return [item for block in blocks for item in block.get(key) or [] if isinstance(item, str)]


def _matched_namespaces(match: Any) -> frozenset[str] | None:
    """The namespaces a rule is limited to, or None when some match block has no namespace limit."""
    blocks = _blocks(match)
    if not blocks or any(not block.get("namespaces") for block in blocks):
        return None
    return frozenset(_strings(blocks, "namespaces"))


def _rule(rule: dict[str, Any]) -> RewriteRule | None:
    texts = [value for _, value in walk(rule.get("mutate")) if isinstance(value, str)]
    calls = [call for text in texts for call in _REPLACE_CALL.findall(text)]
    if not calls:
        return None
    lists = {field for text in texts for field in (*_LIST_FIELD.findall(text), *_PATCH_FIELD.findall(text))}
    foreach = dig(rule, "mutate", "foreach")
    items = foreach if isinstance(foreach, list) else []
    merges = [dig(rule, "mutate", "patchStrategicMerge")]
    merges += [dig(item, "patchStrategicMerge") for item in items]
    for merge in merges:
        spec = dig(merge, "spec")
        if isinstance(spec, dict):
            lists |= {field for field in CONTAINER_LISTS if field in spec}
    patterns = [regex for regex, _ in calls]
    patterns += [regex for text in texts for regex in _MATCH_CALL.findall(text)]
    match = rule.get("match")
    return RewriteRule(
        name=str(rule.get("name", "")),
        lists=frozenset(lists),
        kinds=frozenset(_strings(_blocks(match), "kinds")),
        patterns=tuple(dict.fromkeys(patterns)),
        replacements=tuple(dict.fromkeys(replacement for _, replacement in calls)),
        excluded_namespaces=frozenset(_strings(_blocks(rule.get("exclude")), "namespaces")),
        matched_namespaces=_matched_namespaces(match),
    )


def rewrite_rules(policy_props: dict[str, Any]) -> list[RewriteRule] | None:
    """The image-rewrite rules of a ClusterPolicy (plain props), [] if none, None if the rules are unknown."""
    rules = dig(policy_props, "spec", "rules")
    if rules is UNKNOWN:
        return None
    found = (_rule(rule) for rule in (rules if isinstance(rules, list) else []) if isinstance(rule, dict))
    return [rule for rule in found if rule is not None]


def rewrite_targets(rules: list[RewriteRule]) -> set[tuple[str, str]]:
    """(harbor host, project) pairs that the rules rewrite images to (`<host>/<project>/...`)."""
    targets = set()
    for rule in rules:
        for replacement in rule.replacements:
            parts = replacement.split("/")
            if len(parts) >= 2 and parts[0] and parts[1] and "$" not in parts[1] and "{" not in parts[1]:
                targets.add((parts[0], parts[1]))
    return targets
