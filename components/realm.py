"""The token realm nodes are sent to: read from the node endpoint's ``/v2/`` answer and judged.

containerd asks for an anonymous token even from a public project: Harbor answers a token-less ``/v2/...``
with ``401`` and ``WWW-Authenticate: Bearer realm="<externalURL>/service/token",service="harbor-registry"``.
The realm comes from Harbor's ``externalURL``, not from the address the node used. When the node cannot
reach or trust the realm, the token fetch fails and containerd silently pulls from the upstream instead.

Where it runs: ``RealmCheck`` (``pulumi-python:dynamic/nodes:RealmCheck``) is created by NodeMirror before
any node is configured, in the provider process (the machine running ``pulumi up``). Only a live Harbor
knows its realm (``harbor.install: false``, or an externalURL set by hand), so it cannot be a settings check;
running it before the nodes means a realm nodes can never use stops the deployment before it sends nodes to
a cache they would bypass. It needs no tool on the nodes. It fails when it knows the realm is wrong (plain
HTTP while nodes use HTTPS, a cluster-internal or loopback name, an unknown scheme) and warns when it cannot
know (the endpoint is not reachable from here, or the realm is on another host or port than the endpoint:
whether nodes reach and trust that one only a pull from a node can tell, see NodePullCheck). The module path,
the class names and the property names are stack-state format (the engine pickles the provider by reference).
"""

from __future__ import annotations

import re
import ssl
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider, UpdateResult

from components.anonymous_http import anonymous_get
from components.rules import is_cluster_dns_name

Level = Literal["ok", "warn", "fail"]
_PARAM_RE = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')
DEFAULT_PORTS = {"http": 80, "https": 443}


class RealmError(Exception):
    """The token realm cannot work for the nodes; the message says why and what to change."""


@dataclass(frozen=True)
class Challenge:
    """One ``WWW-Authenticate`` challenge: the scheme (lower case) and its parameters."""

    scheme: str
    params: dict[str, str]


@dataclass(frozen=True)
class Verdict:
    """What the realm means for the nodes: ok, warn (cannot know) or fail, with a message."""

    level: Level
    message: str
    realm: str = ""


def parse_challenge(header: str) -> Challenge | None:
    """``Bearer realm="...",service="..."`` -> Challenge; None for an empty header."""
    header = header.strip()
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    params = {m.group(1).lower(): (m.group(2) if m.group(2) is not None else m.group(3)).replace('\\"', '"')
              for m in _PARAM_RE.finditer(rest)}
    return Challenge(scheme.lower(), params)


def _host_port(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme, 0)


def judge_realm(endpoint: str, status: int, header: str) -> Verdict:
    """Judge the node endpoint's ``/v2/`` answer (status and ``WWW-Authenticate``) for nodes using `endpoint`."""
    if status == 200:
        return Verdict("ok", f"{endpoint}/v2/ answers 200 without a token: no realm is needed")
    challenge = parse_challenge(header)
    if status != 401 or challenge is None:
        return Verdict("warn", f"{endpoint}/v2/ answered {status} without a Bearer challenge: is this Harbor?")
    if challenge.scheme != "bearer":
        return Verdict("fail", f"{endpoint}/v2/ asks for {challenge.scheme} authentication, not Harbor's anonymous "
                               "Bearer token: containerd cannot pull anonymously from it")
    realm = challenge.params.get("realm", "")
    scheme, host, port = _host_port(realm)
    e_scheme, e_host, e_port = _host_port(endpoint)
    fix = f"set Harbor's externalURL to {endpoint} (harbor-cache:harbor.externalUrl, or the existing Harbor's " \
          "external_url)"
    if scheme not in ("http", "https") or not host:
        return Verdict("fail", f"the token realm {realm!r} is not an http(s) URL", realm)
    if scheme == "http" and e_scheme == "https":
        return Verdict("fail", f"the token realm {realm} is plain HTTP while nodes use HTTPS ({endpoint}): the "
                               f"token fetch leaves the trusted TLS path; {fix}", realm)
    if (scheme, host, port) == (e_scheme, e_host, e_port):
        return Verdict("ok", f"the token realm {realm} is on the node endpoint", realm)
    if host in ("localhost", "::1") or host.startswith("127.") or is_cluster_dns_name(host) \
            or host.endswith((".svc", ".cluster.local")):
        return Verdict("fail", f"the token realm {realm} names {host}, which nodes cannot reach (cluster-internal "
                               f"or loopback); {fix}", realm)
    return Verdict("warn", f"the token realm {realm} is not on the node endpoint {endpoint}: nodes must reach "
                           f"{host}:{port} and trust its certificate, or every pull silently falls back to the "
                           f"upstream; {fix} unless that is intended", realm)


def fetch_v2(endpoint: str, ca_pem: str = "", timeout: float = 10.0) -> tuple[int, str]:
    """GET ``<endpoint>/v2/`` without credentials: status and ``WWW-Authenticate`` (OSError when unreachable)."""
    status, headers, _ = anonymous_get(f"{endpoint.rstrip('/')}/v2/", ca_pem, timeout)
    return status, headers.get("WWW-Authenticate", "")


def check_realm(endpoint: str, ca_pem: str = "", timeout: float = 10.0) -> Verdict:
    """Fetch and judge; an endpoint not reachable from here is a warning (the nodes may still reach it)."""
    try:
        status, header = fetch_v2(endpoint, ca_pem, timeout)
    except (OSError, ssl.SSLError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Verdict("warn", f"cannot read the token realm: {endpoint}/v2/ is not reachable from here "
                               f"({reason}); the realm is unchecked")
    return judge_realm(endpoint, status, header)


class RealmCheckProvider(ResourceProvider):
    """Reads and judges the realm on create and when the endpoint or CA changes."""

    def _check(self, props: dict[str, Any]) -> dict[str, Any]:
        verdict = check_realm(str(props["endpoint"]), str(props.get("ca_pem") or ""))
        if verdict.level == "fail":
            raise RealmError(f"harbor-cache:nodes: {verdict.message}")
        return {**props, "level": verdict.level, "realm": verdict.realm, "message": verdict.message}

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Check once."""
        return CreateResult(str(props["endpoint"]), self._check(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Check again (the endpoint or the CA changed)."""
        return UpdateResult(self._check(news))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Check again when the endpoint or the CA changed."""
        return DiffResult(changes=any(olds.get(k) != news.get(k) for k in ("endpoint", "ca_pem")))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing to undo."""


class RealmCheck(Resource, module="nodes", name="RealmCheck"):
    """The node endpoint's token realm, judged for the nodes (``level``: ok or warn; fail stops the update)."""

    level: pulumi.Output[str]
    realm: pulumi.Output[str]
    message: pulumi.Output[str]

    def __init__(self, resource_name: str, *, endpoint: str, ca_pem: pulumi.Input[str] | None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"endpoint": endpoint, "ca_pem": ca_pem or "", "level": None, "realm": None, "message": None}
        super().__init__(RealmCheckProvider(), resource_name, props, opts)
