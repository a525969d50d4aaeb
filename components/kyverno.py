"""ImageRewrite component: optionally installs Kyverno, then creates the image rewrite ClusterPolicy.

The policy document comes from the pure builder in components/rewrite_policy.py; this module only creates
resources from it. Kyverno's chart goes through the one Helm helper (components/helm.py). Whether a rewrite can
work at all (nodes must resolve and trust the Harbor endpoint: a rewrite has no fallback to the upstream) is a
settings check, components/settings/rewrite.py.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.helm import ChartInstall, release
from components.kube_objects import HelmRelease
from components.rewrite_policy import POLICY_API_VERSION, POLICY_KIND, RewritePolicySpec, build_rewrite_policy

# pulumi-kubernetes 4.25 awaits a custom resource only when asked (its generic await needs
# PULUMI_K8S_AWAIT_ALL=true): `condition=Ready` waits for status.conditions[type=Ready].status == "True"
# (provider pkg/metadata/overrides.go ReadyCondition, pkg/await/condition/custom.go).
WAIT_FOR_ANNOTATION = "pulumi.com/waitFor"


@dataclass(frozen=True)
class ImageRewriteArgs:
    """Inputs of ImageRewrite: the policy, an optional Kyverno install, and how long to await readiness."""

    policy: RewritePolicySpec
    install: ChartInstall | None = None
    ready_timeout: str = "5m"


class ImageRewrite(pulumi.ComponentResource):
    """Optionally installs Kyverno, then creates the rewrite ClusterPolicy and awaits it Ready.

    Outputs: `policy_name` and `rewrite_prefix` (`<harbor_prefix>/`). A policy Kyverno rejects fails `up` with
    Kyverno's admission message; one that is not Ready (Kyverno 1.19 reports "Not Ready" while the policy is
    not in its webhook) within `ready_timeout` fails `up` too.
    """

    policy_name: pulumi.Output[str]
    rewrite_prefix: pulumi.Output[str]

    def __init__(self, name: str, args: ImageRewriteArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("harbor-cache:index:ImageRewrite", name, None, opts)
        document = build_rewrite_policy(args.policy)
        depends: list[pulumi.Resource] = []
        self.release: HelmRelease | None = None
        if args.install is not None:
            self.release = release(f"{name}-kyverno", args.install, opts=pulumi.ResourceOptions(parent=self))
            depends.append(self.release)
        metadata = dict(document["metadata"])
        metadata["annotations"] = {**metadata["annotations"], WAIT_FOR_ANNOTATION: "condition=Ready"}
        timeouts = pulumi.CustomTimeouts(create=args.ready_timeout, update=args.ready_timeout)
        self.policy = k8s.apiextensions.CustomResource(
            f"{name}-policy",
            api_version=POLICY_API_VERSION,
            kind=POLICY_KIND,
            metadata=metadata,
            spec=document["spec"],
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends, custom_timeouts=timeouts),
        )
        policy_name = args.policy.name
        # Derived from the resource's id, so dependents wait until the policy exists and is Ready.
        self.policy_name = self.policy.id.apply(lambda _: policy_name)
        self.rewrite_prefix = pulumi.Output.from_input(args.policy.rewrite_prefix)
        self.register_outputs({"policy_name": self.policy_name, "rewrite_prefix": self.rewrite_prefix})
