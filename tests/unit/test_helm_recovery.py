"""components/helm_recovery.py: a revision an interrupted run left pending is marked failed the way helm marks a
failed upgrade (end to end: tests/e2e/test_apiserver_restart.py)."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

from components.helm_recovery import decode_release, encode_release, failed_patch, newest_record


def record(version: int, status: str) -> dict[str, Any]:
    """A helm storage Secret as the API server returns it."""
    release = {"name": "harbor", "version": version, "info": {"status": status, "description": "Upgrade"}}
    helm = base64.b64encode(gzip.compress(json.dumps(release).encode()))
    return {"metadata": {"name": f"sh.helm.release.v1.harbor.v{version}",
                         "labels": {"owner": "helm", "name": "harbor", "status": status, "version": str(version)}},
            "data": {"release": base64.b64encode(helm).decode()}}


def test_decode_reads_what_helm_writes_and_encode_is_its_inverse() -> None:
    secret = record(2, "pending-upgrade")
    release = decode_release(secret["data"]["release"])
    assert release["info"]["status"] == "pending-upgrade" and release["version"] == 2
    assert decode_release(encode_release(release)) == release


def test_newest_record_is_the_highest_version_not_the_last_listed() -> None:
    records = [record(10, "pending-upgrade"), record(9, "deployed"), record(2, "superseded")]
    newest = newest_record(records[::-1])
    assert newest is not None and newest["metadata"]["labels"]["version"] == "10"
    assert newest_record([]) is None


def test_failed_patch_marks_label_and_stored_release() -> None:
    patch = failed_patch(record(2, "pending-upgrade"))
    assert patch["metadata"]["labels"] == {"status": "failed"}
    release = decode_release(patch["data"]["release"])
    assert release["info"]["status"] == "failed" and "pending-upgrade" in release["info"]["description"]
    assert release["version"] == 2 and release["name"] == "harbor"
