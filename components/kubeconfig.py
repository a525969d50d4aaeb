"""Reading a kubeconfig file: the API server, how to trust it, and the client's credentials.

The one kubeconfig reader of the repository: the Harbor client's service-proxy transport and the lab's
kubeconfig checks reach an API server this way. Client certificates and bearer tokens are supported
(inline ``-data`` or files, relative paths resolved against the kubeconfig's folder, ``tokenFile``); exec and
auth-provider plugins are not run. Inline data is written to a private temporary folder that exists only
inside the ``with`` block, so nothing from the kubeconfig outlives its use.
"""

from __future__ import annotations

import base64
import contextlib
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import yaml


class KubeconfigError(ValueError):
    """The kubeconfig cannot be read or does not say how to reach the API server; the message names the file."""


@dataclass(frozen=True)
class KubeAccess:
    """How to reach one API server: ``verify`` and ``cert`` are in the form ``requests`` takes them."""

    server: str  # base URL without a trailing slash
    verify: bool | str  # a CA bundle file, True (system trust) or False (insecure-skip-tls-verify)
    cert: tuple[str, str] | None  # (client certificate file, key file)
    token: str | None  # bearer token


def _named(items: Any, name: str, kind: str, path: str) -> Mapping[str, Any]:
    for item in items or []:
        if isinstance(item, Mapping) and item.get("name") == name:
            return item.get(kind) or {}
    raise KubeconfigError(f"kubeconfig {path}: no {kind} named {name!r}")


def _private_file(directory: str, name: str, data: bytes) -> str:
    path = os.path.join(directory, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return path


def _file_field(section: Mapping[str, Any], key: str, base_dir: str, tmp: str) -> str | None:
    """The file behind ``key``: its ``key-data`` written to ``tmp``, or its path (relative to ``base_dir``)."""
    data = section.get(f"{key}-data")
    if data:
        return _private_file(tmp, key, base64.b64decode(data))
    path = section.get(key)
    if path:
        return str(path) if os.path.isabs(path) else os.path.join(base_dir, path)
    return None


def _load(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            loaded = yaml.safe_load(fh) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise KubeconfigError(f"cannot read kubeconfig {path}: {exc.__class__.__name__}") from None
    if not isinstance(loaded, dict):
        raise KubeconfigError(f"kubeconfig {path}: not a kubeconfig (expected a YAML mapping)")
    return loaded


@contextlib.contextmanager
def kube_access(kubeconfig: str | os.PathLike[str], context: str | None = None) -> Iterator[KubeAccess]:
    """Read ``kubeconfig`` now and yield how to reach the API server of ``context`` (default: the current one).

    Raises :class:`KubeconfigError` for a missing file, context, cluster or user, a cluster without a server
    URL, or a user that needs an exec/auth-provider plugin.
    """
    path = os.path.expanduser(os.fspath(kubeconfig))
    cfg = _load(path)
    base_dir = os.path.dirname(os.path.abspath(path))
    ctx_name = context or cfg.get("current-context")
    if not ctx_name:
        raise KubeconfigError(f"kubeconfig {path}: no context given and no current-context")
    ctx = _named(cfg.get("contexts"), ctx_name, "context", path)
    cluster = _named(cfg.get("clusters"), str(ctx.get("cluster")), "cluster", path)
    user = _named(cfg.get("users"), str(ctx.get("user")), "user", path) if ctx.get("user") else {}
    server = str(cluster.get("server") or "").rstrip("/")
    if not server.startswith(("https://", "http://")):
        raise KubeconfigError(f"kubeconfig {path}: cluster of context {ctx_name!r} has no server URL")
    if user.get("exec") or user.get("auth-provider"):
        raise KubeconfigError(
            f"kubeconfig {path}: user of context {ctx_name!r} uses an exec/auth-provider plugin, which this "
            "client does not run; use a client certificate or a token"
        )
    with tempfile.TemporaryDirectory(prefix="harbor-cache-kube-") as tmp:
        ca_file = _file_field(cluster, "certificate-authority", base_dir, tmp)
        verify: bool | str = not cluster.get("insecure-skip-tls-verify", False)
        if verify and ca_file:
            verify = ca_file
        cert_file = _file_field(user, "client-certificate", base_dir, tmp)
        key_file = _file_field(user, "client-key", base_dir, tmp)
        token = user.get("token")
        if not token and user.get("tokenFile"):
            with open(user["tokenFile"], encoding="utf-8") as fh:
                token = fh.read().strip()
        yield KubeAccess(server=server, verify=verify,
                         cert=(cert_file, key_file) if cert_file and key_file else None, token=token or None)
