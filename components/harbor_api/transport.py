"""How one HTTP attempt reaches Harbor: directly at the endpoint's ``url``, or through the Kubernetes API
server's service proxy, ``<apiserver>/api/v1/namespaces/<ns>/services/<scheme>:<name>:<port>/proxy/api/v2.0``.

For the service proxy the server, CA and credentials (client certificate/key or bearer token) are read from
the kubeconfig **file** at call time (components/kubeconfig.py), so nothing from the kubeconfig is kept.

**Caveat:** kube-apiserver's authentication filter (``k8s.io/apiserver`` ``WithAuthentication``) deletes the
``Authorization`` header once it has authenticated the caller, so Harbor's Basic credentials do not reach
Harbor through the service proxy, and with a bearer token there is no room to send them at all.
Unauthenticated calls (``/ping``, ``/health``) work; calls that need the admin account get ``401``, reported
with :data:`PROXY_401_HINT`. This is read from the apiserver's source and still has to be confirmed against a
real kube-apiserver.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from components.harbor_api.endpoint import HarborEndpoint
from components.harbor_api.errors import HarborConfigError
from components.kubeconfig import KubeconfigError, kube_access

API_PREFIX = "/api/v2.0"
PROXY_401_HINT = (
    "the request went through the Kubernetes API server's service proxy, which removes the Authorization "
    "header after authenticating the caller, so Harbor saw an anonymous request; reach Harbor through an "
    "explicit API URL instead (docs/harbor-api.md)"
)


@dataclass(frozen=True)
class Transport:
    """Everything one HTTP attempt needs; built per call, may point at temporary files."""

    api_base: str
    verify: bool | str
    cert: tuple[str, str] | None
    headers: dict[str, str]
    send_basic: bool
    via_proxy: bool


@contextlib.contextmanager
def service_proxy_transport(ep: HarborEndpoint) -> Iterator[Transport]:
    """Read the kubeconfig now (components/kubeconfig.py) and yield a transport to the service proxy."""
    with contextlib.ExitStack() as stack:
        try:
            access = stack.enter_context(kube_access(ep.kubeconfig or "", ep.kube_context))
        except KubeconfigError as exc:
            raise HarborConfigError(str(exc)) from None
        svc = f"{ep.service_scheme}:{ep.service_name}:{ep.service_port}"
        yield Transport(
            api_base=(
                f"{access.server}/api/v1/namespaces/{quote(ep.service_namespace, safe='')}/services/"
                f"{quote(svc, safe=':')}/proxy{API_PREFIX}"
            ),
            verify=access.verify,
            cert=access.cert,
            headers={"Authorization": f"Bearer {access.token}"} if access.token else {},
            # With a bearer token the Authorization header belongs to the API server.
            send_basic=not access.token,
            via_proxy=True,
        )


@contextlib.contextmanager
def _direct_transport(ep: HarborEndpoint) -> Iterator[Transport]:
    """A transport to ``ep.url``; a ``ca_pem`` is written to a temporary file for the call."""
    url = (ep.url or "").rstrip("/")
    if url.endswith(API_PREFIX):
        url = url[: -len(API_PREFIX)]
    if ep.ca_pem:
        with tempfile.TemporaryDirectory(prefix="harbor-ca-") as tmp:  # a CA certificate is public
            ca = Path(tmp, "ca.crt")
            ca.write_text(ep.ca_pem, encoding="utf-8")
            yield Transport(url + API_PREFIX, str(ca), None, {}, True, False)
    else:
        yield Transport(url + API_PREFIX, ep.verify_tls, None, {}, True, False)


def open_transport(ep: HarborEndpoint) -> contextlib.AbstractContextManager[Transport]:
    """The transport for one attempt; leave the ``with`` block to remove its temporary files."""
    return _direct_transport(ep) if ep.url else service_proxy_transport(ep)
