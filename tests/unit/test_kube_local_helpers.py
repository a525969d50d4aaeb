"""Pure parts of the local control plane helpers: no kube-apiserver needed."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from cryptography import x509

from components.kubeconfig import kube_access
from lab import kube
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
    with kube_access(tmp_path / "kubeconfig") as access:
        assert access.server == "https://127.0.0.1:1234"
        assert Path(str(access.verify)).read_bytes() == (tmp_path / "ca.crt").read_bytes()
        assert access.cert is not None
        cert, key = access.cert
        assert Path(cert).read_bytes() == (tmp_path / "admin.crt").read_bytes()
        assert Path(key).read_bytes() == (tmp_path / "admin.key").read_bytes()
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


def test_free_port_is_outside_the_ephemeral_range() -> None:
    # The kernel gives outgoing connections ports from ip_local_port_range; a server port from there could be
    # taken by one before the server binds it.
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = {free_port() for _ in range(50)}
    assert all(1024 < p < low for p in ports) and len(ports) > 1
    with socket.socket() as held:
        held.bind(("127.0.0.1", ports.pop()))
        assert free_port() != held.getsockname()[1]
