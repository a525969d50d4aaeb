"""The live upstream check Harbor runs on every registry create, update and ping (``controller/registry``
``validate`` → ``IsHealthy``): the adapter is created (unknown type, a URL that fails the adapter's pattern or an
``aws-ecr`` registry without ``credential`` fail here, as 500s), then its health check pings ``<url>/v2/``.

The double really sends that ``GET /v2/``, to the stand-in the settings name (settings.py: ``upstream_map``,
``aws_reachable``, ...); it never resolves a host name and never leaves loopback unless a test maps it there.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from lab.harbor_double.faults import Faults
from lab.harbor_double.messages import Reply, crash, error, internal
from lab.harbor_double.settings import Settings

# Harbor v2.14's own checks, kept apart from components/rules.py on purpose: the double is what the providers are
# tested against, so it must not share the product's copy of a rule. v2.14's ECR pattern has no ecr-public
# (that arrived in v2.15.2); Harbor searches it anywhere in the URL.
ECR_URL_RE = re.compile(
    r"https://(?:api|(\d+)\.dkr)\.ecr(\-fips)?\.([\w\-]+)\.(amazonaws\.com(\.cn)?|sc2s\.sgov\.gov|c2s\.ic\.gov)"
)
# Types with an adapter factory registered in v2.14 (pkg/reg/adapter/*); helm-hub and artifact-hub have none.
ADAPTER_TYPES = {
    "harbor", "docker-hub", "docker-registry", "huawei-SWR", "google-gcr", "aws-ecr", "azure-acr", "ali-acr",
    "jfrog-artifactory", "quay", "gitlab", "dtr", "tencent-tcr", "github-ghcr", "volcengine-cr",
}  # fmt: skip
UNHEALTHY = "the registry is unhealthy"


def validate_url(raw: str) -> tuple[str, Reply | None]:
    """``lib.ValidateHTTPURL``: the URL as Harbor stores it (``scheme://host/path``), or a 400."""
    s = raw.strip(" ").rstrip("/")
    if not s:
        return "", error(400, "BAD_REQUEST", "empty string")
    if "://" not in s:
        s = "http://" + s
    try:
        url = urllib.parse.urlsplit(s)
    except ValueError as exc:
        return "", error(400, "BAD_REQUEST", f"invalid URL: {exc}")
    if url.scheme not in ("http", "https"):
        return "", error(400, "BAD_REQUEST", f"invalid HTTP scheme: {url.scheme}")
    return f"{url.scheme}://{url.netloc}{url.path}", None


def adapter_problem(reg: dict[str, Any]) -> Reply | None:
    """What creating Harbor's adapter for ``reg`` fails with (``pkg/reg/manager.go`` ``CreateAdapter``)."""
    if reg.get("type") not in ADAPTER_TYPES:
        return internal(f"adapter factory for {reg.get('type')} not found")
    if reg["type"] == "aws-ecr":
        if not ECR_URL_RE.search(reg["url"]):
            return internal("bad aws url")
        if reg.get("credential") is None:  # awsecr.newAdapter reads registry.Credential.AccessKey unchecked
            return crash()
    return None


def health_problem(settings: Settings, faults: Faults, reg: dict[str, Any]) -> Reply | None:
    """None when the adapter can be made and its health check passes; else Harbor's reply."""
    problem = adapter_problem(reg)
    if problem is not None:
        return problem
    return None if healthy(settings, faults, reg) else error(400, "BAD_REQUEST", UNHEALTHY)


def healthy(settings: Settings, faults: Faults, reg: dict[str, Any]) -> bool:
    """The adapter's health check (``native.HealthCheck``; for aws-ecr the AWS token call first)."""
    if faults.registry_unhealthy:
        return False
    if settings.health_check_delay > 0:
        time.sleep(settings.health_check_delay)
    url = reg["url"]
    stand_in = settings.upstream_map.get(url) or settings.upstream_map.get("*")
    cred = reg.get("credential") or {}
    with_keys = bool(cred.get("access_key") or cred.get("access_secret"))
    if reg["type"] == "aws-ecr":
        if not settings.aws_reachable or settings.aws_rejects_keys or not stand_in:
            return False
        return _ping(stand_in, cred if with_keys else None, settings, reg.get("insecure", False)) in range(200, 300)
    target = stand_in or (url if _is_local_literal(url) else None)
    if target is None:
        return False  # a host name the sandbox cannot resolve or reach
    status = _ping(target, cred if with_keys else None, settings, reg.get("insecure", False))
    # PingSimple (no keys): 401/403 mean the registry is there; with keys they must work (Ping).
    return status in range(200, 300) or (not with_keys and status in (401, 403))


def _is_local_literal(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _ping(base: str, cred: dict[str, Any] | None, settings: Settings, insecure: bool) -> int:
    """The status of ``GET <base>/v2/`` (0: no answer: refused, reset, timeout, TLS failure)."""
    req = urllib.request.Request(base.rstrip("/") + "/v2/")  # noqa: S310 (http(s) URL from the test's settings)
    if cred is not None:
        token = base64.b64encode(f"{cred.get('access_key', '')}:{cred.get('access_secret', '')}".encode()).decode()
        req.add_header("Authorization", f"Basic {token}")
    context = ssl.create_default_context()
    if insecure:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context))
    try:
        with opener.open(req, timeout=settings.health_check_timeout) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (OSError, ValueError):
        return 0
