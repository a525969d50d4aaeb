"""Stand-ins for two kube-controller-manager loops that the sandbox lacks: the namespace controller (empty a
Terminating namespace, then finalize it) and the garbage collector's part in foreground deletion."""

from __future__ import annotations

from typing import Any

from lab.controllers.client import KubeClient


class Collectors:
    """One pass of namespace finalization and foreground-deletion finishing."""

    def __init__(self, client: KubeClient) -> None:
        self.client = client

    def reconcile(self) -> list[str]:
        """Both passes; the actions."""
        return [*self._namespaces(), *self._foreground_deletions()]

    def _namespaces(self) -> list[str]:
        """Empty each Terminating namespace, then drop its "kubernetes" finalizer so it goes away."""
        actions = []
        for ns in self.client.list("/api/v1/namespaces"):
            name = ns["metadata"]["name"]
            if not ns["metadata"].get("deletionTimestamp") or "kubernetes" not in ns["spec"].get(
                "finalizers", []
            ):
                continue
            collections = [
                f"{base}/namespaces/{name}/{plural}" for base, plural in self._namespaced_collections()
            ]
            for path in collections:
                self.client.delete(path)
            if any(self.client.list(path) for path in collections):
                continue  # objects with finalizers of their own: try again next round
            ns["spec"]["finalizers"] = [f for f in ns["spec"]["finalizers"] if f != "kubernetes"]
            self.client.put(f"/api/v1/namespaces/{name}/finalize", ns)
            actions.append(f"Namespace {name}: emptied and finalized")
        return actions

    def _foreground_deletions(self) -> list[str]:
        """Stand in for the garbage collector: finish foreground deletions (pulumi-kubernetes deletes with
        propagationPolicy=Foreground, which leaves a "foregroundDeletion" finalizer that only the garbage
        collector in kube-controller-manager removes; nothing here owns dependents, so it can go at once)."""
        actions = []
        for prefix, plural, namespaced in self._listable_collections():
            for obj in self.client.list(f"{prefix}/{plural}"):
                meta = obj["metadata"]
                finalizers = meta.get("finalizers") or []
                if not meta.get("deletionTimestamp") or "foregroundDeletion" not in finalizers:
                    continue
                where = f"/namespaces/{meta['namespace']}" if namespaced else ""
                path = f"{prefix}{where}/{plural}/{meta['name']}"
                patch = {"metadata": {"finalizers": [f for f in finalizers if f != "foregroundDeletion"],
                                      "resourceVersion": meta["resourceVersion"]}}
                self.client.request("PATCH", path, json=patch,
                                    headers={"Content-Type": "application/merge-patch+json"})
                actions.append(f"{plural} {meta['name']}: foreground deletion finished")
        return actions

    def _listable_collections(self) -> list[tuple[str, str, bool]]:
        """(API prefix, plural, namespaced) of every kind that can be listed and patched."""
        return [(prefix, res["name"], bool(res.get("namespaced"))) for prefix, res in self._served_kinds()
                if {"list", "patch"} <= set(res.get("verbs", []))]

    def _namespaced_collections(self) -> list[tuple[str, str]]:
        """(API prefix, plural) of every namespaced kind that can be deleted as a collection."""
        return [(prefix, res["name"]) for prefix, res in self._served_kinds()
                if res.get("namespaced") and "deletecollection" in res.get("verbs", [])]

    def _served_kinds(self) -> list[tuple[str, dict[str, Any]]]:
        """(API prefix, discovery entry) of every top-level kind the server serves (no subresources)."""
        prefixes = ["/api/v1"]
        for group in (self.client.get("/apis") or {}).get("groups", []):
            prefixes.append(f"/apis/{group['preferredVersion']['groupVersion']}")
        return [(prefix, res) for prefix in prefixes
                for res in (self.client.get(prefix) or {}).get("resources", []) if "/" not in res["name"]]
