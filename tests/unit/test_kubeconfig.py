"""components/kubeconfig.py: the one kubeconfig reader (Harbor service proxy, the lab's kubeconfigs)."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.kubeconfig import KubeconfigError, kube_access


def write(path: Path, user: dict[str, Any], cluster: dict[str, Any] | None = None, **top: Any) -> Path:
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "c",
        "clusters": [{"name": "k", "cluster": cluster or {"server": "https://127.0.0.1:6443/"}}],
        "users": [{"name": "u", "user": user}],
        "contexts": [{"name": "c", "context": {"cluster": "k", "user": "u"}},
                     {"name": "other", "context": {"cluster": "k", "user": "u"}}],
        **top,
    }
    path.write_text(yaml.safe_dump(config))
    return path


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_inline_credentials_live_only_inside_the_block(tmp_path: Path) -> None:
    cluster = {"server": "https://127.0.0.1:6443/", "certificate-authority-data": b64("CA")}
    path = write(tmp_path / "kc", {"client-certificate-data": b64("CERT"), "client-key-data": b64("KEY")}, cluster)
    with kube_access(path) as access:
        assert access.server == "https://127.0.0.1:6443" and access.token is None
        assert isinstance(access.verify, str) and Path(access.verify).read_text() == "CA"
        assert access.cert is not None
        cert, key = access.cert
        assert (Path(cert).read_text(), Path(key).read_text()) == ("CERT", "KEY")
        assert Path(key).stat().st_mode & 0o077 == 0
    assert not Path(cert).exists() and not Path(access.verify).exists()


def test_files_relative_to_the_kubeconfig_token_file_and_insecure(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("t0ken\n")
    cluster = {"server": "https://10.0.0.1", "certificate-authority": "ca.crt", "insecure-skip-tls-verify": True}
    path = write(tmp_path / "kc", {"tokenFile": str(tmp_path / "token"), "client-certificate": "c.crt",
                                   "client-key": "/abs/c.key"}, cluster)
    with kube_access(path, context="other") as access:
        assert access.verify is False and access.token == "t0ken"
        assert access.cert == (str(tmp_path / "c.crt"), "/abs/c.key")


@pytest.mark.parametrize(("user", "cluster", "top", "context", "message"), [
    ({}, None, {}, "nope", "no context named 'nope'"),
    ({}, None, {"current-context": ""}, None, "no context given and no current-context"),
    ({}, {"server": "127.0.0.1:6443"}, {}, None, "cluster of context 'c' has no server URL"),
    ({"exec": {"command": "aws"}}, None, {}, None, "exec/auth-provider plugin"),
])
def test_what_cannot_be_used_is_named(tmp_path: Path, user: dict[str, Any], cluster: dict[str, Any] | None,
                                      top: dict[str, Any], context: str | None, message: str) -> None:
    path = write(tmp_path / "kc", user, cluster, **top)
    with pytest.raises(KubeconfigError, match=message) as err, kube_access(path, context):
        pass
    assert str(path) in str(err.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError, match="cannot read kubeconfig"), kube_access(tmp_path / "absent"):
        pass
