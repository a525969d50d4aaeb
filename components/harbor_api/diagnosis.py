"""What a Harbor failure probably means, found out by asking Harbor more, and what to check.

Harbor replaces the text of every 5xx with "internal server error" and answers a failed upstream check with a
bare 400 "the registry is unhealthy". These helpers turn such answers into a likely cause and the setting or
pod to look at, with one or two read-only calls:

- :func:`jobservice_hint`: ``GET /health`` says whether the job service is down (Harbor rolls back proxy-cache
  project creates and scheduled policy creates with a 500 when it is);
- :func:`unhealthy_registry_hint`: ``POST /registries/ping`` of the upstream URL as a plain registry without
  credentials, which Harbor's own check treats as healthy when ``/v2/`` answers at all (401 included): it
  tells "Harbor core cannot reach the upstream" from "the upstream refused the credentials".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components import rules
from components.harbor_api.client import HarborClient
from components.harbor_api.errors import HarborApiError, HarborError
from components.harbor_api.setting_names import (
    EGRESS_PROXY,
    HARBOR_NAMESPACE,
    UPSTREAM_KEY_ID,
    UPSTREAM_SECRET,
)

CORE_LOG = "Harbor hides the cause of a 5xx; harbor-core's log has it (search for the request id)"


def jobservice_down(client: HarborClient) -> str | None:
    """The job service's error when ``GET /health`` reports it unhealthy; None when healthy or unknown."""
    try:
        health = client.health()
    except HarborError:
        return None
    for component in health.get("components") or []:
        if component.get("name") == "jobservice" and component.get("status") != "healthy":
            return str(component.get("error") or component.get("status") or "unhealthy")
    return None


def jobservice_hint(client: HarborClient, what: str) -> str:
    """Why ``what`` (which needs the job service) failed with a 5xx: the job service, if /health says so."""
    check = (
        f"check the harbor-jobservice pod in {HARBOR_NAMESPACE} (kubectl get pods, its log), then run "
        "pulumi up again"
    )
    down = jobservice_down(client)
    if down is not None:
        return f"Harbor's job service is down (GET /health: jobservice {down}) and {what} needs it; {check}"
    return (
        f"{what} needs Harbor's job service, which /health reports healthy now; if it was down at that "
        f"moment, {check}; otherwise {CORE_LOG}"
    )


def _ping_plain(client: HarborClient, props: Mapping[str, Any], timeout: float) -> bool | None:
    """Whether Harbor core reaches the upstream's ``/v2/`` at all (no credentials); None when unknown."""
    body = {"type": "docker-registry", "url": props["url"], "insecure": bool(props.get("insecure"))}
    try:
        client.request(
            "POST", "/registries/ping", "check that Harbor core reaches the upstream", body=body,
            timeout=timeout, retry=False,
        )
    except HarborApiError as exc:
        return False if exc.status == 400 else None
    except HarborError:
        return None
    return True


def _credentials_hint(props: Mapping[str, Any]) -> str:
    if props.get("ambient_credentials"):
        match = rules.ECR_URL_RE.match(str(props["url"]))
        return (
            "Harbor core got no usable AWS identity (upstream.ambientCredentials: true): check the IRSA role "
            "on harbor-core's service account (eks.amazonaws.com/role-arn), that the pod has "
            "AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE, that the role may call ecr:GetAuthorizationToken "
            "and pull, and that Harbor core reaches AWS's STS and ECR API"
            + (f" (api.ecr.{match.group(2)}.amazonaws.com)" if match else "")
        )
    keys = f"check {UPSTREAM_KEY_ID} and the secret {UPSTREAM_SECRET}"
    if props.get("type") == "aws-ecr":
        return (
            f"the upstream or AWS refused the keys: {keys} (an IAM key allowed ecr:GetAuthorizationToken), and "
            "that Harbor core reaches AWS's ECR API"
        )
    return f"the upstream refused the credentials: {keys}"


def unhealthy_registry_hint(client: HarborClient, props: Mapping[str, Any], timeout: float) -> str:
    """Which case a 400 "the registry is unhealthy" probably is, and what to check."""
    intro = (
        "Harbor core checks the upstream live on every registry create and update"
        + (" (an AWS token call, then GET /v2/)" if props.get("type") == "aws-ecr" else " (GET /v2/)")
        + " and that check failed: "
    )
    unreachable = (
        f"Harbor core cannot reach {props['url']}: check egress from the harbor-core pod (network "
        f"policies, security groups, DNS) and, behind an HTTP proxy, {EGRESS_PROXY}"
    )
    reachable = _ping_plain(client, props, timeout)
    if reachable is True:
        return intro + f"{props['url']}/v2/ answers Harbor core, so " + _credentials_hint(props)
    if reachable is False:
        return intro + unreachable
    return intro + f"either {unreachable}; or {_credentials_hint(props)}"
