"""The settings sections: one pydantic model per object key of the stack file (tls, proxyProject, ...).

Keys are camelCase as in Pulumi.<stack>.yaml and unknown keys are rejected everywhere. Each section checks what
it can see alone, with the rule of the value's receiver from components/rules.py (docs/settings.md says which);
the `harbor` section is in harbor.py, `upstream` and `upstreams` in upstreams.py, `nodes` in nodes.py, checks
across sections in model.py.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from components import rules
from components.settings.base import Section, StrictModel, at, camel_case, report
from components.settings.harbor import (
    ChartRef,
    EgressProxy,
    Expose,
    ExternalDatabase,
    ExternalRedis,
    HarborSettings,
    HighAvailability,
    NodePorts,
    ObjectStorage,
    Storage,
)
from components.settings.types import (
    DnsName,
    Flag,
    GoDuration,
    IpAddress,
    Namespace,
    ObjectName,
    ProjectName,
    Whole,
)
from components.settings.upstreams import UpstreamEntry, UpstreamSettings

__all__ = [
    "ChartRef", "EgressProxy", "Expose", "ExternalDatabase", "ExternalRedis", "HarborSettings", "HighAvailability",
    "ImageRewriteSettings", "NodePorts", "ObjectStorage", "ProxyProjectSettings", "ReplicationSettings", "Section",
    "Storage", "StrictModel", "TlsSettings", "UpstreamEntry", "UpstreamSettings", "camel_case",
]


class TlsSettings(Section):
    """cert-manager chain for https: self-signed Issuer -> CA Certificate -> CA Issuer -> leaf Certificate,
    or an existing ClusterIssuer."""

    cluster_issuer: ObjectName | None = None
    install_cert_manager: Flag = False
    cert_manager_chart: ChartRef = ChartRef(name="cert-manager", version="v1.19.1",
                                            repository="https://charts.jetstack.io")
    ca_duration: GoDuration = "87600h"
    ca_renew_before: GoDuration = "8760h"
    leaf_duration: GoDuration = "2160h"
    leaf_renew_before: GoDuration = "720h"
    extra_dns_names: list[DnsName] = Field(default_factory=list)
    extra_ip_addresses: list[IpAddress] = Field(default_factory=list)
    private_key_algorithm: Literal["RSA", "ECDSA"] = "ECDSA"

    @model_validator(mode="after")
    def _lifetimes(self) -> TlsSettings:
        problems = []
        pairs = [("leaf", self.leaf_duration, self.leaf_renew_before)]
        if not self.cluster_issuer:  # else there is no CA Certificate of ours
            pairs.insert(0, ("ca", self.ca_duration, self.ca_renew_before))
        for prefix, duration, renew in pairs:
            for which, problem in rules.lifetime_problems(duration, renew):
                problems.append(at(prefix + which[0].upper() + which[1:], problem))
        report(problems)
        return self


class ProxyProjectSettings(Section):
    """The proxy-cache project (pull-through cache)."""

    enabled: Flag = True
    name: ProjectName = "mif"
    public: Flag = True
    retention_days: Whole | None = 7
    storage_limit_bytes: Whole = -1
    speed_kb: Whole = -1
    force_destroy: Flag = False

    @field_validator("retention_days")
    @classmethod
    def _retention(cls, value: int | None) -> int | None:
        if value is not None and value < 1:
            raise ValueError(f"{value} does not turn retention off: write `retentionDays: null` (or ~) to keep "
                             "every image, or give a number of days (1 or more) since the last pull")
        return value

    @field_validator("storage_limit_bytes")
    @classmethod
    def _limit(cls, value: int) -> int:
        if (problem := rules.storage_limit_problem(value)) is not None:
            raise ValueError(problem)
        return value

    @field_validator("speed_kb")
    @classmethod
    def _speed(cls, value: int) -> int:
        if (problem := rules.proxy_speed_problem(value)) is not None:
            raise ValueError(problem)
        return value


class ReplicationSettings(Section):
    """A plain project filled by a pull replication rule, for images that must be there before anyone asks."""

    enabled: Flag = False
    project: ProjectName = "mif-replica"
    public: Flag = True
    name_filter: str = "**"
    tag_filter: str = "**"
    trigger: str = "manual"
    override: Flag = True
    speed_kb: Whole = Field(-1, ge=-1)
    run_on_change: Flag = True
    force_destroy: Flag = False
    nodes_pull_first: Flag = False
    """Nodes ask this project before the proxy-cache project: its images pull while the upstream is down."""

    @model_validator(mode="after")
    def _pull_first_needs_replication(self) -> ReplicationSettings:
        if self.nodes_pull_first and not self.enabled:
            report([at("nodesPullFirst", "is true but replication.enabled is false: nodes would ask a project "
                                         "nothing fills; set replication.enabled: true or drop nodesPullFirst")])
        return self

    @field_validator("trigger")
    @classmethod
    def _trigger(cls, value: str) -> str:
        # The same rule as the ReplicationPolicy provider's check: settings and provider cannot disagree.
        if value != "manual" and (problem := rules.cron_problem(value)) is not None:
            raise ValueError(f"'{value}' is neither 'manual' nor a cron Harbor accepts ({problem}); use a 6-field "
                             f"cron with seconds, e.g. '{rules.CRON_EXAMPLE}'")
        return value


class ImageRewriteSettings(Section):
    """Optional Kyverno policy that rewrites image references to Harbor at admission."""

    enabled: Flag = False
    install_kyverno: Flag = False
    kyverno_chart: ChartRef = ChartRef(name="kyverno", version="3.9.0", repository="https://kyverno.github.io/kyverno/")
    exclude_namespaces: list[Namespace] = Field(default_factory=lambda: ["kube-system"])
    failure_policy: Literal["Ignore", "Fail"] = "Ignore"


def section_keys(model: Any) -> list[str]:
    """The stack-file keys of a section model (for "must be an object with keys ..." messages)."""
    return [field.alias or name for name, field in model.model_fields.items()]
