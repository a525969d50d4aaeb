"""A Helm release that an interrupted run left pending, made updatable again (docs/faults.md, API server restart).

helm stores each revision as a Secret (``sh.helm.release.v1.<release>.v<N>``, labels ``owner=helm``, ``name``,
``status``, ``version``; ``data.release`` = base64 of gzipped JSON). It writes a new revision as
``pending-upgrade`` (or ``pending-rollback``) before it applies the chart and marks it ``deployed`` or ``failed``
after. A run that dies in between (the API server restarted, the process killed) leaves it pending, and every
later upgrade fails with "another operation (install/upgrade/rollback) is in progress": the Kubernetes provider
does not recover it (pulumi-kubernetes#2054).

The stack's lock means no other run of this stack is upgrading the release, so a pending revision found when an
``up`` starts is one a dead run left. It is marked ``failed`` the way helm marks a failed upgrade, and the update
goes on from the last deployed revision (helm's own rule). A pending *install* (no deployed revision) is only
named: it needs ``helm uninstall``. Nothing is changed during a preview, and a cluster that cannot be reached is
left to the Release, which then fails naming it.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
from typing import Any

from components.kubeconfig import KubeconfigError, kube_access

PENDING = ("pending-upgrade", "pending-rollback", "pending-install")


def decode_release(data: str) -> dict[str, Any]:
    """helm's release JSON from a storage Secret's ``data.release`` (base64 of helm's base64 of gzipped JSON)."""
    raw = base64.b64decode(base64.b64decode(data))
    release: dict[str, Any] = json.loads(gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw)
    return release


def encode_release(release: dict[str, Any]) -> str:
    """The inverse of :func:`decode_release`."""
    helm = base64.b64encode(gzip.compress(json.dumps(release).encode()))
    return base64.b64encode(helm).decode()


def newest_record(secrets: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The storage Secret of the release's newest revision."""
    return max(secrets, key=lambda s: int(s["metadata"]["labels"].get("version", 0)), default=None)


def failed_patch(secret: dict[str, Any]) -> dict[str, Any]:
    """A merge patch that marks the revision in ``secret`` failed, as helm does when an upgrade fails."""
    release = decode_release(secret["data"]["release"])
    was = release["info"]["status"]
    release["info"]["status"] = "failed"
    release["info"]["description"] = f"{was} left by an interrupted run; marked failed by harbor-cache"
    return {"metadata": {"labels": {"status": "failed"}}, "data": {"release": encode_release(release)}}


def recover_pending_release(kubeconfig: str | None, namespace: str, release: str, timeout: float = 20.0,
                            ) -> str | None:
    """Mark a pending upgrade/rollback of ``namespace/release`` failed; the warning to show, or None."""
    import requests  # here: most runs never need it, and importing requests slows every program start

    path = kubeconfig or os.environ.get("KUBECONFIG", "").split(os.pathsep)[0] or "~/.kube/config"
    try:
        with kube_access(path) as kube:
            # verify/cert on each request: a Session's would lose to REQUESTS_CA_BUNDLE from the environment
            headers = {"Authorization": f"Bearer {kube.token}"} if kube.token else {}
            url = f"{kube.server}/api/v1/namespaces/{namespace}/secrets"
            got = requests.get(url, params={"labelSelector": f"owner=helm,name={release}"}, headers=headers,
                               verify=kube.verify, cert=kube.cert, timeout=timeout)
            if got.status_code != 200:
                return None
            newest = newest_record(got.json().get("items") or [])
            status = newest["metadata"]["labels"].get("status") if newest else None
            if newest is None or status not in PENDING:
                return None
            name, version = newest["metadata"]["name"], newest["metadata"]["labels"].get("version")
            where = f"the Helm release {namespace}/{release} (revision {version}, Secret {name})"
            if status == "pending-install":
                return (f"{where} is {status}, left by an interrupted install; run `helm uninstall {release} -n "
                        f"{namespace}` (or delete that Secret), then pulumi up")
            patched = requests.patch(f"{url}/{name}", data=json.dumps(failed_patch(newest)), verify=kube.verify,
                                     cert=kube.cert, timeout=timeout,
                                     headers={**headers, "Content-Type": "application/merge-patch+json"})
            if patched.status_code != 200:
                return f"{where} is {status} and could not be marked failed: HTTP {patched.status_code}"
            return (f"{where} was {status}, left by an interrupted run (the API server or the process went "
                    "away mid-upgrade); marked failed so this update goes on from the last deployed revision")
    except (KubeconfigError, OSError, requests.RequestException, KeyError, ValueError):
        return None
