"""Pure parts of the local control plane helpers: no kube-apiserver needed."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509

from lab import kube
from lab.controllers.certs import NotReady, build_certificate, key_pem, new_private_key, parse_duration
from lab.controllers.client import KubeClient
from lab.controllers.conditions import is_ready_for_generation, set_ready
from lab.paths import read_versions
from lab.processes import free_port


def test_missing_binaries_name_scripts_setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HARBOR_CACHE_TOOLS", str(tmp_path))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(kube.KubeToolsMissing, match=r"scripts/setup") as err:
        kube.find_binaries()
    assert f"{tmp_path}/kube-{read_versions()['KUBE_VERSION']}/bin" in str(err.value)


def test_pki_and_kubeconfig(tmp_path: Path) -> None:
    kube.make_pki(tmp_path)
    verify = ["openssl", "verify", "-CAfile", str(tmp_path / "ca.crt")]
    for name in ("apiserver", "admin"):
        subprocess.run([*verify, str(tmp_path / f"{name}.crt")], check=True, capture_output=True)
    server = x509.load_pem_x509_certificate((tmp_path / "apiserver.crt").read_bytes())
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert "127.0.0.1" in {str(ip) for ip in names.get_values_for_type(x509.IPAddress)}
    admin = x509.load_pem_x509_certificate((tmp_path / "admin.crt").read_bytes())
    assert "O=system:masters" in admin.subject.rfc4514_string()

    text = kube.kubeconfig_text("https://127.0.0.1:1234", tmp_path)
    config = yaml.safe_load(text)
    assert config["current-context"] == config["contexts"][0]["name"]
    assert {"client-certificate-data", "client-key-data"} <= set(config["users"][0]["user"])
    (tmp_path / "kubeconfig").write_text(text)
    client = KubeClient(tmp_path / "kubeconfig")
    try:
        assert client.server == "https://127.0.0.1:1234"
        assert Path(str(client.session.verify)).read_bytes() == (tmp_path / "ca.crt").read_bytes()
        cert, key = client.session.cert  # type: ignore[misc]
        assert Path(cert).read_bytes() == (tmp_path / "admin.crt").read_bytes()
        assert Path(key).read_bytes() == (tmp_path / "admin.key").read_bytes()
    finally:
        client.close()
    assert not Path(cert).exists()


def test_not_started_instance(tmp_path: Path) -> None:
    local = kube.LocalKube(tmp_path)
    assert not local.is_running() and not local.is_ready() and local.pids == {}
    with pytest.raises(kube.KubeError, match="start"):
        _ = local.server_url
    local.stop()  # harmless when nothing runs
    assert free_port() > 0


def fake_binaries(folder: Path, apiserver: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Put shell-script stand-ins for kube-apiserver and etcd first on PATH, with no tool cache."""
    folder.mkdir()
    for name, body in (("kube-apiserver", apiserver), ("etcd", "exec sleep 60")):
        (folder / name).write_text(f"#!/bin/sh\n{body}\n")
        (folder / name).chmod(0o755)
    monkeypatch.setenv("HARBOR_CACHE_TOOLS", str(folder / "no-cache"))
    monkeypatch.setenv("PATH", f"{folder}:{os.environ['PATH']}")


def test_apiserver_that_exits_is_reported_with_its_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_binaries(tmp_path / "bin", "echo 'E0101 flag provided but not defined: --boom'; exit 1", monkeypatch)
    local = kube.LocalKube(tmp_path / "state")
    with pytest.raises(kube.KubeError, match=r"(?s)apiserver exited during start.*--boom"):
        local.start()
    assert local.pids == {} and not (tmp_path / "state" / "state.json").exists()


def test_readyz_timeout_names_the_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_binaries(tmp_path / "bin", "echo 'I0101 waiting for etcd'; exec sleep 60", monkeypatch)
    local = kube.LocalKube(tmp_path / "state", ready_timeout=1)
    started = time.monotonic()
    with pytest.raises(kube.KubeError, match=r"(?s)not ready after 1s.*apiserver.log.*waiting for etcd"):
        local.start()
    assert time.monotonic() - started < 20
    assert local.pids == {} and not (tmp_path / "state" / "kubeconfig").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2160h", dt.timedelta(hours=2160)),
        ("8760h0m0s", dt.timedelta(hours=8760)),
        ("1h30m", dt.timedelta(minutes=90)),
    ],
)
def test_parse_duration(text: str, expected: dt.timedelta) -> None:
    assert parse_duration(text, dt.timedelta(0)) == expected


def test_parse_duration_rejects_garbage() -> None:
    with pytest.raises(NotReady, match="duration"):
        parse_duration("10 days", dt.timedelta(0))


def test_ca_issues_leaf_with_requested_names() -> None:
    ca_key = new_private_key({"algorithm": "ECDSA"})
    ca = build_certificate({"commonName": "ca", "isCA": True}, ca_key, None)
    key = new_private_key({"algorithm": "Ed25519"})
    spec = {
        "dnsNames": ["a.example"],
        "ipAddresses": ["10.1.2.3"],
        "usages": ["server auth", "digital signature"],
    }
    leaf = build_certificate(spec, key, (ca_key, ca))
    leaf.verify_directly_issued_by(ca)
    names = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    assert names.critical  # no subject: SANs must be critical
    assert names.value.get_values_for_type(x509.DNSName) == ["a.example"]
    assert leaf.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    assert key_pem(key, None).startswith(b"-----BEGIN PRIVATE KEY-----")
    assert ca.extensions.get_extension_for_class(x509.KeyUsage).value.key_cert_sign


def test_certificate_without_names_is_not_ready() -> None:
    with pytest.raises(NotReady, match="no commonName"):
        build_certificate({}, new_private_key({"algorithm": "ECDSA"}), None)


def test_set_ready_keeps_transition_time_and_is_idempotent() -> None:
    obj: dict[str, Any] = {
        "metadata": {"generation": 2},
        "status": {"conditions": [{"type": "Issuing", "status": "True"}]},
    }
    status = set_ready(obj, True, "Ready", "ok")
    assert status is not None
    types = [c["type"] for c in status["conditions"]]
    assert types == ["Issuing", "Ready"] and status["conditions"][1]["observedGeneration"] == 2
    obj["status"] = status
    assert set_ready(obj, True, "Ready", "ok") is None
    assert is_ready_for_generation(obj)
    obj["metadata"]["generation"] = 3
    assert not is_ready_for_generation(obj)
