"""HarborRelease component: Harbor's namespace, its pinned Secrets and the Harbor Helm release.

The chart values come from harbor_values.py (built from the settings in specs.py). No secret is ever a Helm
value: the admin password and Harbor's internal secrets live in Secrets the chart reads (`existingSecret*`).
The internal ones are generated once, when first created (pinned_secrets.py), and then left alone, so a re-run
neither rotates them nor restarts pods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial

import pulumi
import pulumi_kubernetes as k8s

from components.harbor_values import ADMIN_KEY, PinnedSecretNames
from components.helm import ChartInstall, release
from components.pinned_secrets import ROLES, PinnedSecretValues


@dataclass(frozen=True)
class HarborReleaseArgs:
    """Inputs of HarborRelease.

    chart: the Harbor release (its namespace is the one HarborRelease creates); secret_names: the Secrets the
    chart values point at; admin_password: Harbor's admin password (kept secret); after: resources the Helm
    release waits for (the Certificate whose Secret the chart mounts).
    """

    chart: ChartInstall
    secret_names: PinnedSecretNames
    admin_password: pulumi.Input[str]
    after: Sequence[pulumi.Resource] = field(default_factory=tuple)


class HarborRelease(pulumi.ComponentResource):
    """Harbor in its namespace: the admin Secret, pinned internal Secrets and the Helm release."""

    namespace: pulumi.Output[str]
    release_status: pulumi.Output[str]

    def __init__(self, name: str, args: HarborReleaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("harbor-cache:index:HarborRelease", name, {}, opts)
        namespace, names = args.chart.namespace, args.secret_names
        child = pulumi.ResourceOptions(parent=self)
        ns = k8s.core.v1.Namespace(f"{name}-namespace", metadata={"name": namespace}, opts=child)
        in_ns = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[ns]))
        admin = k8s.core.v1.Secret(
            f"{name}-admin", metadata={"name": names.admin, "namespace": namespace},
            string_data={ADMIN_KEY: pulumi.Output.secret(args.admin_password)},
            opts=in_ns)
        generated = PinnedSecretValues(f"{name}-pinned-values", release=args.chart.release_name, opts=child)
        pinned: list[pulumi.Resource] = [admin]
        for role in ROLES:
            secret_name = getattr(names, role)
            data: pulumi.Output[Mapping[str, str]] = pulumi.Output.secret(
                generated.values.apply(partial(_role_data, role=role)))
            pinned.append(k8s.core.v1.Secret(
                f"{name}-{secret_name}", metadata={"name": secret_name, "namespace": namespace},
                string_data=data,
                # Generated once; later runs keep what the cluster has instead of rotating it. The provider's check
                # turns stringData into data, so both are ignored (else every run replaces the Secret).
                opts=pulumi.ResourceOptions.merge(
                    in_ns, pulumi.ResourceOptions(ignore_changes=["stringData", "data"]))))
        self.release = release(
            f"{name}-release", args.chart,
            opts=pulumi.ResourceOptions.merge(
                child, pulumi.ResourceOptions(depends_on=[ns, *pinned, *args.after])))
        self.namespace = ns.metadata.apply(lambda m: m["name"])
        self.release_status = self.release.status.apply(lambda s: s["status"])
        self.register_outputs({"namespace": self.namespace, "release_status": self.release_status})


def _role_data(values: Mapping[str, Mapping[str, str]], role: str) -> Mapping[str, str]:
    return values[role]
