"""The program's ImageRewrite component alone (tests/e2e/test_admission.py copies ../../components beside this
file): its ClusterPolicy is created and awaited Ready, which only Kyverno's admission controller can report."""

import pulumi
import pulumi_kubernetes as k8s

from components.kyverno import ImageRewrite, ImageRewriteArgs
from components.rewrite_policy import RewritePolicySpec

config = pulumi.Config()
provider = k8s.Provider("local", kubeconfig=config.require("kubeconfig"), cluster_identifier="rewrite")
spec = RewritePolicySpec(upstream_hosts=(config.require("upstream"),), harbor_prefix=config.require("harborPrefix"),
                         name=config.require("policyName"))
rewrite = ImageRewrite("rewrite", ImageRewriteArgs(policy=spec, ready_timeout="3m"),
                       opts=pulumi.ResourceOptions(providers={"kubernetes": provider}))
pulumi.export("policyName", rewrite.policy_name)
pulumi.export("rewritePrefix", rewrite.rewrite_prefix)
