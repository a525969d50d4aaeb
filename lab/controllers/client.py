"""A minimal JSON client for the API server of a kubeconfig (read with components/kubeconfig.py)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests

from components.kubeconfig import kube_access

FIELD_MANAGER = "harbor-cache-fake-controllers"
MANAGER = {"fieldManager": FIELD_MANAGER}
RETRIES = 50


class KubeClient:
    """Minimal JSON client for the API server of a kubeconfig (client-certificate or token users)."""

    def __init__(self, kubeconfig: str | Path) -> None:
        self._credentials = contextlib.ExitStack()  # the private copies of inline credentials, until close()
        access = self._credentials.enter_context(kube_access(kubeconfig))
        self.server = access.server
        self.session = requests.Session()
        # Not the environment's CA bundle or proxies (REQUESTS_CA_BUNDLE would override verify below).
        self.session.trust_env = False
        self.session.verify = access.verify
        if access.cert:
            self.session.cert = access.cert
        if access.token:
            self.session.headers["Authorization"] = f"Bearer {access.token}"

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send a request, retrying while the server answers 429/503 (e.g. a new CRD's cache warming up)."""
        for _ in range(RETRIES):
            resp = self.session.request(method, self.server + path, timeout=30, **kwargs)
            if resp.status_code not in (429, 503):
                break
            time.sleep(min(float(resp.headers.get("Retry-After") or 0.2), 1.0))
        if resp.status_code != 404:
            resp.raise_for_status()
        return resp

    def get(self, path: str) -> dict[str, Any] | None:
        """The object at path, or None when it does not exist."""
        resp = self.request("GET", path)
        return None if resp.status_code == 404 else dict(resp.json())

    def list(self, path: str) -> list[dict[str, Any]]:
        """Items of a collection; [] when the kind is not served (CRD absent)."""
        found = self.get(path)
        return list(found.get("items") or []) if found else []

    def patch_status(self, path: str, status: dict[str, Any]) -> None:
        """Merge-patch the status subresource."""
        headers = {"Content-Type": "application/merge-patch+json"}
        self.request("PATCH", f"{path}/status", json={"status": status}, params=MANAGER, headers=headers)

    def apply(self, path: str, obj: dict[str, Any]) -> None:
        """Server-side apply obj at path (forcing ownership of the fields it sets)."""
        headers = {"Content-Type": "application/apply-patch+yaml"}
        self.request("PATCH", path, json=obj, params={**MANAGER, "force": "true"}, headers=headers)

    def close(self) -> None:
        """Drop the session and the private copies of the credentials."""
        self.session.close()
        self._credentials.close()


def object_path(obj: dict[str, Any], plural: str) -> str:
    """API path of a custom object from its apiVersion, namespace and name."""
    meta = obj["metadata"]
    ns = f"/namespaces/{meta['namespace']}" if meta.get("namespace") else ""
    return f"/apis/{obj['apiVersion']}{ns}/{plural}/{meta['name']}"


def secret_path(namespace: str, name: str) -> str:
    """API path of a Secret."""
    return f"/api/v1/namespaces/{namespace}/secrets/{name}"


def object_ref(obj: dict[str, Any]) -> str:
    """``namespace/name`` (or ``name`` for a cluster-scoped object), for log lines."""
    meta = obj["metadata"]
    return f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else str(meta["name"])


def live(client: KubeClient, path: str) -> Iterator[dict[str, Any]]:
    """The objects of a collection that are not being deleted."""
    for obj in client.list(path):
        if not obj["metadata"].get("deletionTimestamp"):
            yield obj
