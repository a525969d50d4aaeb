"""The Kyverno stand-in: every ClusterPolicy and Policy Ready=True, with its rule counts."""

from __future__ import annotations

from lab.controllers.client import KubeClient, live, object_path, object_ref
from lab.controllers.conditions import set_ready


class Kyverno:
    """One reconcile pass over Kyverno's policies."""

    def __init__(self, client: KubeClient) -> None:
        self.client = client

    def reconcile(self) -> list[str]:
        """Mark new or changed policies Ready; the actions."""
        actions = []
        for plural in ("clusterpolicies", "policies"):
            for policy in live(self.client, f"/apis/kyverno.io/v1/{plural}"):
                status = set_ready(policy, True, "Succeeded", "Ready")
                if status is None:
                    continue
                rules = (policy.get("spec") or {}).get("rules") or []
                counts = {
                    kind.lower(): sum(1 for r in rules if kind in r)
                    for kind in ("validate", "mutate", "generate", "verifyImages")
                }
                self.client.patch_status(
                    object_path(policy, plural), {**status, "ready": True, "rulecount": counts}
                )
                actions.append(f"{policy['kind']} {object_ref(policy)}: Ready")
        return actions

