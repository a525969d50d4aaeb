"""The engine fixture program under Pulumi mocks (no engine needed): what it registers, run through the pack.

This checks the property names the SDKs really send (camelCase for Kubernetes, snake_case for dynamic
resources) against the policies. Mocks do not expose resource options, so `additional_secret_outputs` is not
visible here: dynamic resources are left out of `secrets-are-secret` in this tier (the engine test covers it).
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from typing import Any

import pytest
from pulumi_policy import ResourceValidationPolicy, StackValidationPolicy

from lab.paths import ROOT
from policy.policies import DYNAMIC, POLICIES, secrets_secret
from tests.policy.support import Res, run_resource_policy, run_stack_policy

BAD_CONFIG = {"production-uses-https": {"production": True}}


@functools.cache
def registered(variant: str, stack: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(type, name, inputs) of every resource the fixture program registers (one run per variant)."""
    proc = subprocess.run([sys.executable, "-m", "tests.policy.mock_run", variant, stack], cwd=ROOT,
                          capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return [(typ, name, inputs) for typ, name, inputs in json.loads(proc.stdout)]


def violations(variant: str, stack: str, config: dict[str, Any]) -> dict[str, list[str]]:
    """Messages by policy name for the fixture program's resources."""
    resources = registered(variant, stack)
    found: dict[str, list[str]] = {}
    for policy in POLICIES:
        policy_config = config.get(policy.name)
        messages: list[str] = []
        if isinstance(policy, ResourceValidationPolicy):
            for typ, _, inputs in resources:
                if policy is secrets_secret and typ.startswith(DYNAMIC):
                    continue
                messages += run_resource_policy(policy, typ, inputs, policy_config, stack=stack)
        elif isinstance(policy, StackValidationPolicy):
            stack_resources = [Res(typ, name, inputs) for typ, name, inputs in resources]
            messages += [message for _, message in run_stack_policy(policy, stack_resources, policy_config)]
        if messages:
            found[policy.name] = messages
    return found


def test_registered_types_and_property_names() -> None:
    resources = {(typ, name): inputs for typ, name, inputs in registered("good", "prod")}
    release = resources[("kubernetes:helm.sh/v3:Release", "harbor")]
    assert {"chart", "version", "values", "skipAwait"} <= set(release)
    replication = resources[("pulumi-python:dynamic/harbor:ReplicationPolicy", "replication")]
    assert {"dest_namespace", "dest_namespace_replace_count", "registry_id"} <= set(replication)
    assert "files" in resources[("pulumi-python:dynamic/nodes:ContainerdConfig", "node-1")]
    assert ("kubernetes:kyverno.io/v1:ClusterPolicy", "image-rewrite") in resources
    assert ("kubernetes:cert-manager.io/v1:Certificate", "certificate-harbor-ca") in resources


def test_compliant_program_passes_every_policy() -> None:
    assert violations("good", "prod", {}) == {}


@pytest.mark.parametrize("policy", [policy.name for policy in POLICIES])
def test_violating_program_breaks_each_policy(policy: str) -> None:
    assert policy in violations("bad", "bad", BAD_CONFIG)
