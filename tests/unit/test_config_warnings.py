"""Warnings: values that pass but that a receiver may still refuse or ignore, each naming its key and why."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.settings import check_settings
from components.settings.warnings import offline_warnings
from tests.unit.test_config_receivers import ALL_SECRETS, EXISTING, HA, HTTPS, base, with_changes


def warnings_of(changes: dict[str, Any]) -> list[str]:
    return check_settings(with_changes(changes), ALL_SECRETS).warnings


def test_a_plain_stack_has_no_warnings() -> None:
    assert check_settings(base(), ALL_SECRETS).warnings == []


def warned(key: str, changes: dict[str, Any], needle: str, tag: str = "") -> Any:
    return pytest.param(changes, f"harbor-cache:{key}", needle, id=key + (f"-{tag}" if tag else ""))


WARNINGS = [
    warned("harbor.expose.nodePorts.http", {"harbor.expose.nodePorts": {"http": 8080}},
           "outside Kubernetes' default NodePort range 30000-32767"),
    warned("harbor.values.externalURL", {"harbor.values": {"externalURL": "https://x"}},
           "overrides what the program sets from harbor.expose"),
    warned("harbor.values.harborAdminPassword", {"harbor.values": {"harborAdminPassword": "x"}},
           "never a Helm value", "password"),
    warned("harbor.values.trivvy", {"harbor.values": {"trivvy": {"enabled": True}}},
           "is not a value the Harbor chart reads: Helm ignores it"),
    warned("harbor.proxy.noProxy", {"harbor.proxy": {"noProxy": "localhost,https://registry.internal"}},
           "'https://registry.internal' never matches"),
    warned("harbor.ha.objectStorage.settings.bucketName", {**HA, "harbor.ha.objectStorage.settings.bucketName": "x"},
           "is not a s3 setting the Harbor chart reads"),
    warned("harbor.ha.objectStorage.settings.secretkey", {**HA, "harbor.ha.objectStorage.settings.secretkey": "x"},
           "is a credential in plain stack config and Helm values", "credential"),
    warned("harbor.caPem", {"harbor.caPem": "-----BEGIN CERTIFICATE-----"}, "is not used with tlsMode http"),
    warned("harbor.skipAwait", {"production": True, **HTTPS, "harbor.skipAwait": True},
           "is true on a production stack"),
    warned("tls.extraDnsNames", {"tls.extraDnsNames": ["harbor.example"]}, "is not used with harbor.tlsMode http"),
    warned("tls.leafDuration", {**HTTPS, "tls.leafDuration": "90000h"}, "the leaf would outlive the CA"),
    warned("tls.caDuration", {**HTTPS, "tls.clusterIssuer": "corp-ca", "tls.caDuration": "8000h"},
           "is not used with tls.clusterIssuer"),
    warned("proxyProject.public", {"proxyProject.public": False}, "nodes get 401 from a private project"),
    warned("replication.public", {"replication.enabled": True, "replication.public": False},
           "nodes pull anonymously"),
    warned("nodes.hosts", {"nodes.transport": "daemonset"}, "is not used with nodes.transport daemonset"),
    warned("nodes.containerd.restartCommand", {"nodes.containerd": {"restartCommand": "rc-service containerd restart"}},
           "is set without healthCommand"),
    warned("nodes.containerd.healthCommand", {"nodes.containerd": {"healthCommand": "ctr version"}},
           "is set without restartCommand"),
    warned("nodes.verifyImage", {"nodes.verifyImage": "docker.io/library/busybox:1.37"},
           "its pull does not go through Harbor"),
]


@pytest.mark.parametrize(("changes", "key", "needle"), WARNINGS)
def test_warned(changes: dict[str, Any], key: str, needle: str) -> None:
    if "harbor.caPem" in changes:  # a real certificate, so only the warning is left
        from tests.unit.test_rules import self_signed_pem

        changes = {**changes, "harbor.caPem": self_signed_pem()}
    found = [w for w in warnings_of(changes) if w.startswith(key)]
    assert any(needle in w for w in found), warnings_of(changes)


def test_offline_only_warnings(tmp_path: Path) -> None:
    changes = {"kubeconfig": "missing/kubeconfig", "harbor.chart": {"path": "charts/harbor"},
               "harbor.expose.nodeAddress": "node-1.cluster.example", "harbor.url": None, **{}}
    settings = check_settings(with_changes(changes), ALL_SECRETS).settings
    warnings = offline_warnings(settings, tmp_path)
    assert any(w.startswith("harbor-cache:kubeconfig: 'missing/kubeconfig' is not a file on this machine")
               for w in warnings)
    assert any(w.startswith("harbor-cache:harbor.chart.path: no Chart.yaml in 'charts/harbor'") for w in warnings)
    assert any(w.startswith("harbor-cache:harbor.expose.nodeAddress: 'node-1.cluster.example' is a DNS name, which "
                            "this check does not resolve") for w in warnings)
    (tmp_path / "charts" / "harbor").mkdir(parents=True)
    (tmp_path / "charts" / "harbor" / "Chart.yaml").write_text("name: harbor\n")
    (tmp_path / "missing").mkdir()
    (tmp_path / "missing" / "kubeconfig").write_text("apiVersion: v1\n")
    assert [w.split(":")[1] for w in offline_warnings(settings, tmp_path)] == ["harbor.expose.nodeAddress"]


def test_an_existing_harbors_name_is_not_warned_about(tmp_path: Path) -> None:
    settings = check_settings(with_changes(EXISTING), ALL_SECRETS).settings
    assert offline_warnings(settings, tmp_path) == []
