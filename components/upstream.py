"""``HarborUpstream``: the upstream registry in Harbor and the projects that serve its images.

Wiring: ``Registry`` (e.g. Amazon ECR) → a proxy-cache ``Project`` (pull-through) with its ``ProjectRetention``
and/or a plain ``Project`` filled by a ``ReplicationPolicy`` (images present before anyone asks). A proxy-cache
project cannot be a replication destination (DOMAIN.md S7), so the two are separate projects. Every proxy-cache
project gets a ``ProjectRetention`` (Harbor gives it a 7-day rule, which ``retention_days`` None turns off); a
plain project only with ``retention_days``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.harbor_api.endpoint import HarborEndpoint
from components.harbor_api.project import Project
from components.harbor_api.registry import Registry
from components.harbor_api.replication import ReplicationPolicy
from components.harbor_api.retention import ProjectRetention


@dataclass(frozen=True)
class ProxyProjectOptions:
    """A proxy-cache project: anonymous pulls need ``public`` (DOMAIN.md S18)."""

    name: str
    public: bool = True
    storage_limit: int = -1
    proxy_speed_kb: int = -1
    retention_days: int | None = 7
    force_destroy: bool = False


@dataclass(frozen=True)
class ReplicationOptions:
    """A plain project plus a pull replication rule into it (paths kept: replace count 0, DOMAIN.md S8)."""

    project_name: str
    policy_name: str
    name_filter: str | None = None
    tag_filter: str | None = None
    trigger: str = "manual"
    cron: str | None = None
    override: bool = True
    enabled: bool = True
    speed: int = 0
    dest_namespace_replace_count: int = 0
    run_on_change: bool = False
    run_timeout: float = 600.0
    public: bool = True
    storage_limit: int = -1
    retention_days: int | None = None
    force_destroy: bool = False


@dataclass(frozen=True)
class HarborUpstreamArgs:
    """Everything ``HarborUpstream`` needs; ``access_secret`` may be an Output and is always made secret."""

    endpoint: HarborEndpoint
    registry_name: str
    registry_url: str
    registry_type: str = "aws-ecr"
    access_key_id: str = ""
    access_secret: pulumi.Input[str] | None = None
    ambient_credentials: bool = False
    """aws-ecr without keys: Harbor core uses its own AWS identity (IRSA)."""
    insecure: bool = False
    description: str = ""
    proxy: ProxyProjectOptions | None = None
    replication: ReplicationOptions | None = None
    ca_pem: pulumi.Input[str] | None = None
    """CA that signs Harbor's certificate when it is only known at deploy time (the Tls component's output)."""


class HarborUpstream(pulumi.ComponentResource):
    """Registry → proxy-cache project and/or plain project + replication policy, inside Harbor."""

    registry_id: pulumi.Output[int]
    proxy_project_id: pulumi.Output[int | None]
    proxy_project_name: pulumi.Output[str | None]
    replica_project_id: pulumi.Output[int | None]
    replica_project_name: pulumi.Output[str | None]
    policy_id: pulumi.Output[int | None]
    last_replication_status: pulumi.Output[str | None]
    retentions: list[ProjectRetention]
    """The projects' retention resources (not stack outputs)."""

    def __init__(
        self, name: str, args: HarborUpstreamArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("harbor-cache:index:HarborUpstream", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        base = args.endpoint.to_dict()
        harbor: pulumi.Input[dict[str, Any]] = base
        if args.ca_pem is not None:
            harbor = pulumi.Output.from_input(args.ca_pem).apply(
                lambda pem: {**base, "ca_pem": pem or base["ca_pem"]})
        secret = pulumi.Output.secret(args.access_secret if args.access_secret is not None else "")
        registry = Registry(
            f"{name}-registry",
            harbor=harbor,
            name=args.registry_name,
            type=args.registry_type,
            url=args.registry_url,
            access_key_id=args.access_key_id,
            access_secret=secret,
            ambient_credentials=args.ambient_credentials,
            insecure=args.insecure,
            description=args.description,
            opts=child,
        )
        none: pulumi.Output[None] = pulumi.Output.from_input(None)
        self.registry_id = registry.registry_id
        self.proxy_project_id = self.proxy_project_name = none
        self.replica_project_id = self.replica_project_name = none
        self.policy_id = self.last_replication_status = none
        self.retentions = []

        if args.proxy is not None:
            p = args.proxy
            proxy = Project(
                f"{name}-proxy",
                harbor=harbor,
                name=p.name,
                public=p.public,
                registry_id=registry.registry_id,
                storage_limit=p.storage_limit,
                proxy_speed_kb=p.proxy_speed_kb,
                force_destroy=p.force_destroy,
                opts=child,
            )
            self.retentions.append(ProjectRetention(
                f"{name}-proxy-retention", harbor=harbor, project_id=proxy.project_id, project_name=proxy.name,
                days=p.retention_days, opts=child))
            self.proxy_project_id = proxy.project_id
            self.proxy_project_name = proxy.name
            self._warn(proxy)

        if args.replication is not None:
            r = args.replication
            replica = Project(
                f"{name}-replica",
                harbor=harbor,
                name=r.project_name,
                public=r.public,
                storage_limit=r.storage_limit,
                force_destroy=r.force_destroy,
                opts=child,
            )
            if r.retention_days:
                self.retentions.append(ProjectRetention(
                    f"{name}-replica-retention", harbor=harbor, project_id=replica.project_id,
                    project_name=replica.name, days=r.retention_days, opts=child))
            policy = ReplicationPolicy(
                f"{name}-replication",
                harbor=harbor,
                name=r.policy_name,
                registry_id=registry.registry_id,
                dest_namespace=replica.name,
                dest_namespace_replace_count=r.dest_namespace_replace_count,
                name_filter=r.name_filter,
                tag_filter=r.tag_filter,
                trigger=r.trigger,
                cron=r.cron,
                override=r.override,
                enabled=r.enabled,
                speed=r.speed,
                run_on_change=r.run_on_change,
                run_timeout=r.run_timeout,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[replica]),
            )
            self._warn(replica)
            self.replica_project_id = replica.project_id
            self.replica_project_name = replica.name
            self.policy_id = policy.policy_id
            self.last_replication_status = policy.last_execution_status

        self.register_outputs(
            {
                "registry_id": self.registry_id,
                "proxy_project_id": self.proxy_project_id,
                "proxy_project_name": self.proxy_project_name,
                "replica_project_id": self.replica_project_id,
                "replica_project_name": self.replica_project_name,
                "policy_id": self.policy_id,
                "last_replication_status": self.last_replication_status,
            }
        )

    def _warn(self, project: Project) -> None:
        """Show what a project reports (e.g. a storage limit Harbor does not enforce) as engine warnings."""

        def show(found: list[str] | None) -> None:
            for warning in found or []:
                pulumi.log.warn(warning, resource=self)

        project.warnings.apply(show)
