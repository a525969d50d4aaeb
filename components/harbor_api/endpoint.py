"""``HarborEndpoint``: how to reach Harbor's API, as plain data (the ``harbor`` input of every Harbor resource).

Two modes (docs/harbor-api.md, "Two ways to reach Harbor"): an explicit ``url`` of Harbor
(``https://harbor.example.com``; the API is ``<url>/api/v2.0``), or ``kubeconfig``: the Kubernetes API
server's service proxy to Harbor's Service (components/harbor_api/transport.py). No secret is ever part of it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from components.harbor_api.errors import HarborConfigError


@dataclass(frozen=True)
class HarborEndpoint:
    """How to reach Harbor's API: plain data, picklable, no secrets.

    Set ``url`` for direct access, or ``kubeconfig`` (a file path, optionally ``kube_context``) for the
    Kubernetes service proxy to ``service_scheme:service_name:service_port`` in ``service_namespace``.
    ``verify_tls``/``ca_pem`` apply to a direct ``url`` only; in proxy mode TLS to the API server follows
    the kubeconfig. ``timeout`` (seconds per attempt), ``retries`` (extra attempts) and ``backoff`` (first
    delay, doubling up to ``max_backoff``) bound every call.
    """

    url: str | None = None
    username: str = "admin"
    verify_tls: bool = True
    ca_pem: str | None = None
    kubeconfig: str | None = None
    kube_context: str | None = None
    service_namespace: str = "harbor"
    service_name: str = "harbor"
    service_scheme: str = "http"
    service_port: str = "80"
    timeout: float = 30.0
    retries: int = 4
    backoff: float = 0.5
    max_backoff: float = 8.0
    ready_timeout: float = 0.0

    def __post_init__(self) -> None:
        problems = self.problems()
        if problems:
            raise HarborConfigError("invalid Harbor endpoint: " + "; ".join(problems))

    def problems(self) -> list[str]:
        """Return what is wrong with this endpoint (empty when usable)."""
        out: list[str] = []
        if bool(self.url) == bool(self.kubeconfig):
            out.append("set exactly one of url (direct) and kubeconfig (service proxy)")
        if self.url:
            parts = urlsplit(self.url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                out.append(f"url must be http(s)://host[:port], got {self.url!r}")
            if parts.username or parts.password:
                out.append("url must not carry credentials")
        if self.service_scheme not in ("http", "https"):
            out.append("service_scheme must be http or https")
        if not self.username:
            out.append("username must not be empty")
        if self.timeout <= 0 or self.retries < 0 or self.backoff < 0 or self.max_backoff < 0:
            out.append("timeout must be > 0 and retries/backoff >= 0")
        return out

    @property
    def mode(self) -> str:
        """``"url"`` or ``"service-proxy"``."""
        return "url" if self.url else "service-proxy"

    def to_dict(self) -> dict[str, Any]:
        """Plain dict form (the ``harbor`` input of the dynamic resources)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> HarborEndpoint:
        """Build from :meth:`to_dict` output; numbers may arrive as floats, unknown keys are rejected."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise HarborConfigError(f"invalid Harbor endpoint: unknown keys {unknown}")
        values: dict[str, Any] = {}
        for key, value in data.items():
            if value is None and known[key].default is not None:
                continue
            if key == "retries" and isinstance(value, float) and value.is_integer():
                values[key] = int(value)
            elif key == "service_port" and isinstance(value, (int, float)):
                values[key] = str(int(value))
            else:
                values[key] = value
        return cls(**values)
