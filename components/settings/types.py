"""Field types of the settings: each applies one rule of components/rules.py, or decides how lax a scalar may be.

How strict each scalar type is (docs/settings.md, "Types"):

* true/false (`Flag`): YAML booleans, and the strings "true"/"false" in any case (what `pulumi config set`
  stores for a top-level key). Not yes/no/on/off/1/0: Pulumi's YAML reads `yes` as a string, and pydantic's
  lax mode would turn it into true while the stack file says something else.
* whole numbers (`Whole`): integers, a float with no fraction (7.0), and a string of digits ("7"). Not true/false
  (pydantic would read true as 1) and not 7.5 or "7.5".
* text: strings only, never a number turned into text: `version: 1.18` is the float 1.18 in YAML, and a
  quoted "1.18" is what was meant (the error says to quote it).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from components import rules

Rule = Callable[[str], str | None]


def _flag(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"must be true or false, got {value!r}")


def _whole(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"must be a whole number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):
        return int(value)
    raise ValueError(f"must be a whole number, got {value!r}")


Flag = Annotated[bool, BeforeValidator(_flag)]
Whole = Annotated[int, BeforeValidator(_whole)]


def checked(rule: Rule) -> AfterValidator:
    """A validator that refuses a string the `rule` has a problem with (the problem is the message)."""

    def apply(value: str) -> str:
        if (problem := rule(value)) is not None:
            raise ValueError(problem)
        return value

    return AfterValidator(apply)


def _node_port(value: int) -> int:
    if not 1 <= value <= 65535:
        raise ValueError(f"{value} is not a port (1-65535)")
    return value


Port = Annotated[Whole, AfterValidator(_node_port)]
Host = Annotated[str, checked(rules.host_problem)]
NodeEndpointHost = Annotated[str, checked(rules.node_reachable_host_problem)]
IpAddress = Annotated[str, checked(rules.ip_problem)]
DnsName = Annotated[str, checked(lambda v: rules.dns_name_problem(v, wildcard=True))]
RegistryHost = Annotated[str, checked(rules.registry_host_problem)]
HttpUrl = Annotated[str, checked(rules.http_url_problem)]
HttpUrlWithPath = Annotated[str, checked(lambda v: rules.http_url_problem(v, path=True))]
ProxyUrl = Annotated[str, checked(lambda v: rules.proxy_url_problem(v) if v else None)]
Namespace = Annotated[str, checked(rules.namespace_problem)]
ObjectName = Annotated[str, checked(rules.subdomain_problem)]
OptionalObjectName = Annotated[str, checked(lambda v: rules.subdomain_problem(v) if v else None)]
ProjectName = Annotated[str, checked(rules.project_name_problem)]
RegistryName = Annotated[str, checked(rules.registry_name_problem)]
HarborUser = Annotated[str, checked(rules.harbor_username_problem)]
Quantity = Annotated[str, checked(rules.storage_size_problem)]
StorageClass = Annotated[str, checked(rules.storage_class_problem)]
GoDuration = Annotated[str, checked(rules.duration_problem)]
ChartName = Annotated[str, checked(rules.chart_name_problem)]
ChartRepository = Annotated[str, checked(rules.chart_repository_problem)]
ReleaseName = Annotated[str, checked(rules.harbor_release_name_problem)]
ImageRef = Annotated[str, checked(rules.image_reference_problem)]
NodePath = Annotated[str, checked(rules.node_path_problem)]
CertsDir = Annotated[str, checked(rules.certs_dir_problem)]
Command = Annotated[str, checked(rules.command_name_problem)]
SshUser = Annotated[str, checked(rules.ssh_user_problem)]
HostKey = Annotated[str, checked(rules.host_key_problem)]
PemCertificates = Annotated[str, checked(rules.pem_certificates_problem)]
AwsAccessKeyId = Annotated[str, checked(lambda v: rules.aws_access_key_id_problem(v) if v else None)]
