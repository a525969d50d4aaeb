"""The rewrite ClusterPolicy builder, the rewrite settings checks and the ImageRewrite component (under mocks)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from pulumi.runtime import mocks

from components.helm import ChartInstall, ChartSource
from components.kyverno import WAIT_FOR_ANNOTATION, ImageRewrite, ImageRewriteArgs
from components.rewrite_policy import (
    AUTOGEN_ANNOTATION,
    RULE_CONTAINERS,
    RULE_EPHEMERAL_CONTAINERS,
    RULE_INIT_CONTAINERS,
    RewritePolicySpec,
    build_rewrite_policy,
    image_regex,
    spec_errors,
)
from components.settings.rewrite import rewrite_settings_errors
from tests.support.pulumi_mocks import mocked_runtime

ECR = "255250787067.dkr.ecr.ap-northeast-2.amazonaws.com"
SPEC = RewritePolicySpec(upstream_hosts=(ECR, "registry.internal.example:5000"),
                         harbor_prefix="harbor.local/mif")


def rules(policy: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {rule["name"]: rule for rule in policy["spec"]["rules"]}


def rewrite(image: str, spec: RewritePolicySpec = SPEC) -> str:
    """What the policy's regex_replace_all_literal does, with Python's re (same semantics here)."""
    return re.sub(image_regex(spec.upstream_hosts), spec.rewrite_prefix, image, count=1)


# --- the regex ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("image", "expected"), [
    (f"{ECR}/quickstart/app:1.2.3", "harbor.local/mif/quickstart/app:1.2.3"),
    (f"{ECR}/team/llm@sha256:{'a' * 64}", f"harbor.local/mif/team/llm@sha256:{'a' * 64}"),
    (f"{ECR}/team/app:2@sha256:{'b' * 64}", f"harbor.local/mif/team/app:2@sha256:{'b' * 64}"),
    ("registry.internal.example:5000/team/app:2", "harbor.local/mif/team/app:2"),
])
def test_upstream_references_are_rewritten_keeping_path_tag_digest(image: str, expected: str) -> None:
    assert rewrite(image) == expected


@pytest.mark.parametrize("image", [
    f"{ECR}.evil.example/quickstart/app:1",
    ECR.replace(".", "x", 1) + "/quickstart/app:1",
    ECR.replace(".amazonaws", "-amazonaws") + "/quickstart/app:1",
    f"evil.example/{ECR}/quickstart/app:1",
    f"{ECR}:443/quickstart/app:1",
    f"x{ECR}/quickstart/app:1",
    "registry.internal.example/team/app:2",
    "registry.internal.example:50001/team/app:2",
    "harbor.local/mif/quickstart/app:1.2.3",
    "docker.io/library/busybox:1.36",
    "busybox",
])
def test_other_references_are_left_alone(image: str) -> None:
    assert rewrite(image) == image


def test_regex_is_anchored_escaped_and_slash_terminated() -> None:
    regex = image_regex([ECR, "registry.internal.example:5000", ECR])
    assert regex == (r"^(?:255250787067\.dkr\.ecr\.ap-northeast-2\.amazonaws\.com"
                     r"|registry\.internal\.example:5000)/")


def test_rewrite_is_idempotent() -> None:
    once = rewrite(f"{ECR}/quickstart/app:1")
    assert rewrite(once) == once


# --- the document ------------------------------------------------------------------------------------------


def test_document_targets_clusterpolicy_v1_with_autogen_off() -> None:
    policy = build_rewrite_policy(SPEC)
    assert policy["apiVersion"] == "kyverno.io/v1" and policy["kind"] == "ClusterPolicy"
    assert policy["metadata"]["name"] == "harbor-cache-image-rewrite"
    assert "namespace" not in policy["metadata"]
    assert policy["metadata"]["annotations"][AUTOGEN_ANNOTATION] == "none"


def test_no_meaningless_fields() -> None:
    spec = build_rewrite_policy(SPEC)["spec"]
    assert spec["background"] is False
    for field in ("validationFailureAction", "failurePolicy", "admission", "emitWarning", "schemaValidation"):
        assert field not in spec
    assert set(spec) == {"background", "webhookConfiguration", "rules"}


@pytest.mark.parametrize("failure_policy", ["Ignore", "Fail"])
def test_failure_policy_from_settings(failure_policy: Any) -> None:
    spec = RewritePolicySpec(upstream_hosts=(ECR,), harbor_prefix="harbor.local/mif",
                             failure_policy=failure_policy)
    assert build_rewrite_policy(spec)["spec"]["webhookConfiguration"]["failurePolicy"] == failure_policy


def test_the_api_server_skips_the_excluded_namespaces() -> None:
    """A match condition keeps Kyverno out of the excluded namespaces even when it is down with `Fail`
    (tests/e2e/test_admission.py shows the API server honouring it)."""
    spec = RewritePolicySpec(upstream_hosts=(ECR,), harbor_prefix="harbor.local/mif", harbor_namespace="cache",
                             excluded_namespaces=("kube-system", "batch"))
    (condition,) = build_rewrite_policy(spec)["spec"]["webhookConfiguration"]["matchConditions"]
    assert condition == {"name": "skip-excluded-namespaces",
                         "expression": "!(request.namespace in ['kube-system', 'batch', 'cache'])"}


def test_default_failure_policy_does_not_block_pods() -> None:
    assert build_rewrite_policy(SPEC)["spec"]["webhookConfiguration"]["failurePolicy"] == "Ignore"


def test_rules_match_pods_only_per_operation() -> None:
    by_name = rules(build_rewrite_policy(SPEC))
    assert list(by_name) == [RULE_CONTAINERS, RULE_INIT_CONTAINERS, RULE_EPHEMERAL_CONTAINERS]
    match = {name: rule["match"]["any"][0]["resources"] for name, rule in by_name.items()}
    assert match[RULE_CONTAINERS] == {"kinds": ["Pod"], "operations": ["CREATE"]}
    assert match[RULE_INIT_CONTAINERS] == {"kinds": ["Pod"], "operations": ["CREATE"]}
    assert match[RULE_EPHEMERAL_CONTAINERS] == {"kinds": ["Pod/ephemeralcontainers"],
                                                "operations": ["UPDATE"]}


def test_each_rule_patches_its_own_list_with_the_anchored_regex() -> None:
    regex = image_regex(SPEC.upstream_hosts)
    for name, field in [(RULE_CONTAINERS, "containers"), (RULE_INIT_CONTAINERS, "initContainers"),
                        (RULE_EPHEMERAL_CONTAINERS, "ephemeralContainers")]:
        foreach = rules(build_rewrite_policy(SPEC))[name]["mutate"]["foreach"]
        assert len(foreach) == 1
        assert foreach[0]["list"] == f"request.object.spec.{field}"
        patch = foreach[0]["patchesJson6902"]
        assert f"path: /spec/{field}/{{{{elementIndex}}}}/image" in patch
        assert f"regex_replace_all_literal('{regex}', '{{{{element.image}}}}', 'harbor.local/mif/')" in patch
        condition = foreach[0]["preconditions"]["all"][0]
        assert condition["key"] == f"{{{{ regex_match('{regex}', '{{{{element.image}}}}') }}}}"


def test_optional_lists_have_a_presence_precondition() -> None:
    by_name = rules(build_rewrite_policy(SPEC))
    assert "preconditions" not in by_name[RULE_CONTAINERS]
    for name, field in [(RULE_INIT_CONTAINERS, "initContainers"),
                        (RULE_EPHEMERAL_CONTAINERS, "ephemeralContainers")]:
        condition = by_name[name]["preconditions"]["all"][0]
        assert condition["key"] == f"{{{{ request.object.spec.{field}[] || `[]` | length(@) }}}}"
        assert condition["operator"] == "GreaterThanOrEquals" and condition["value"] == 1


def test_existing_ephemeral_containers_are_not_touched() -> None:
    conditions = rules(build_rewrite_policy(SPEC))[RULE_EPHEMERAL_CONTAINERS]["mutate"]["foreach"][0]
    keys = [c["key"] for c in conditions["preconditions"]["all"]]
    assert any("request.oldObject.spec.ephemeralContainers[].name" in key for key in keys)


def test_default_exclusions_are_kube_system_and_harbor() -> None:
    for rule in build_rewrite_policy(SPEC)["spec"]["rules"]:
        assert rule["exclude"] == {"any": [{"resources": {"namespaces": ["kube-system", "harbor"]}}]}


def test_harbor_namespace_is_always_excluded() -> None:
    spec = RewritePolicySpec(upstream_hosts=(ECR,), harbor_prefix="harbor.local/mif",
                             harbor_namespace="registry", excluded_namespaces=("batch", "batch"))
    assert spec.namespaces_excluded == ("batch", "registry")
    rule = build_rewrite_policy(spec)["spec"]["rules"][0]
    assert rule["exclude"]["any"][0]["resources"]["namespaces"] == ["batch", "registry"]


# --- spec validation ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "fragment"), [
    ({"upstream_hosts": ()}, "upstream_hosts is empty"),
    ({"upstream_hosts": (f"https://{ECR}",)}, "is not a registry host"),
    ({"upstream_hosts": (f"{ECR}/path",)}, "is not a registry host"),
    ({"upstream_hosts": ("Registry.Example",)}, "is not a registry host"),
    ({"upstream_hosts": ("registry.example:70000",)}, "outside 1-65535"),
    ({"harbor_prefix": "harbor.local"}, "must be `<harbor-host[:port]>/<project>`"),
    ({"harbor_prefix": "harbor.local/mif/"}, "must be `<harbor-host[:port]>/<project>`"),
    ({"harbor_prefix": "harbor.local/a/b"}, "must be `<harbor-host[:port]>/<project>`"),
    ({"harbor_prefix": f"{ECR}/mif"}, "is also an upstream host"),
    ({"harbor_namespace": "Harbor_NS"}, "is not a DNS label"),
    ({"name": "Bad Name"}, "is not a DNS subdomain name"),
    ({"failure_policy": "Sometimes"}, "must be 'Ignore' or 'Fail'"),
])
def test_bad_specs_are_rejected_with_a_clear_message(changes: dict[str, Any], fragment: str) -> None:
    values: dict[str, Any] = {"upstream_hosts": (ECR,), "harbor_prefix": "harbor.local/mif", **changes}
    spec = RewritePolicySpec(**values)
    assert any(fragment in error for error in spec_errors(spec)), spec_errors(spec)
    with pytest.raises(ValueError, match="invalid image rewrite settings"):
        build_rewrite_policy(spec)


def test_good_spec_has_no_errors() -> None:
    assert spec_errors(SPEC) == []
    ip_spec = RewritePolicySpec(upstream_hosts=(ECR,), harbor_prefix="10.0.0.11:30443/ecr-cache")
    assert spec_errors(ip_spec) == []


# --- rewrite_settings_errors -------------------------------------------------------------------------------

NODE_OK: dict[str, Any] = {"scheme": "https", "private_ca": True, "nodes_trust_harbor_ca": True,
                           "nodes_allow_plain_http": False}


def test_reachable_trusted_endpoint_is_fine() -> None:
    assert rewrite_settings_errors("harbor.example.com/mif", **NODE_OK) == []
    assert rewrite_settings_errors("10.0.0.11:30443/mif", **NODE_OK) == []
    assert rewrite_settings_errors("harbor.local:30080/mif", scheme="http", private_ca=False,
                                   nodes_trust_harbor_ca=False, nodes_allow_plain_http=True) == []


@pytest.mark.parametrize("host", ["harbor.harbor.svc.cluster.local", "harbor.harbor.svc", "harbor",
                                  "harbor.harbor.svc.cluster.local:443"])
def test_cluster_dns_names_are_refused(host: str) -> None:
    errors = rewrite_settings_errors(f"{host}/mif", **NODE_OK)
    assert len(errors) == 1
    assert errors[0].startswith("imageRewrite: ") and "cluster DNS name" in errors[0]
    assert "no fallback" in errors[0]


def test_cluster_dns_allowed_when_nodes_use_it() -> None:
    assert rewrite_settings_errors("harbor.harbor.svc.cluster.local/mif", nodes_resolve_cluster_dns=True,
                                   **NODE_OK) == []


def test_custom_cluster_domain() -> None:
    errors = rewrite_settings_errors("harbor.harbor.svc.corp.internal/mif", cluster_domain="corp.internal",
                                     config_key="harbor-cache:imageRewrite", **NODE_OK)
    assert errors and errors[0].startswith("harbor-cache:imageRewrite: ")


def test_private_ca_without_node_distribution_is_refused() -> None:
    errors = rewrite_settings_errors("harbor.example.com/mif", scheme="https", private_ca=True,
                                     nodes_trust_harbor_ca=False, nodes_allow_plain_http=False)
    assert len(errors) == 1 and "x509" in errors[0]
    assert rewrite_settings_errors("harbor.example.com/mif", scheme="https", private_ca=False,
                                   nodes_trust_harbor_ca=False, nodes_allow_plain_http=False) == []


def test_plain_http_without_node_config_is_refused() -> None:
    errors = rewrite_settings_errors("harbor.example.com/mif", scheme="http", private_ca=False,
                                     nodes_trust_harbor_ca=False, nodes_allow_plain_http=False)
    assert len(errors) == 1 and "http://" in errors[0]


def test_bad_prefix_is_reported_not_raised() -> None:
    errors = rewrite_settings_errors("harbor.example.com", **NODE_OK)
    assert errors and all(e.startswith("imageRewrite: ") for e in errors)


# --- the component under mocks -----------------------------------------------------------------------------


class _Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        name = args.inputs.get("metadata", {}).get("name", args.name)
        return name, dict(args.inputs)

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return {}, None


@pytest.fixture
def monitor() -> Iterator[mocks.MockMonitor]:
    with mocked_runtime(_Mocks()) as mon:
        yield mon


def _registered(mon: mocks.MockMonitor, suffix: str) -> tuple[str, dict[str, Any]]:
    resources = mon.get_registered_resources()
    urn = next(u for u in resources if u.endswith(suffix))
    return urn, resources[urn].state


@pulumi.runtime.test
def test_component_creates_policy_awaited_ready(monitor: mocks.MockMonitor) -> Any:
    component = ImageRewrite("rw", ImageRewriteArgs(policy=SPEC, ready_timeout="3m"))

    def check(values: list[str]) -> None:
        name, prefix = values
        assert (name, prefix) == ("harbor-cache-image-rewrite", "harbor.local/mif/")
        urn, state = _registered(monitor, "::rw-policy")
        assert "harbor-cache:index:ImageRewrite$kubernetes:kyverno.io/v1:ClusterPolicy" in urn
        assert state["apiVersion"] == "kyverno.io/v1" and state["kind"] == "ClusterPolicy"
        annotations = state["metadata"]["annotations"]
        assert annotations[WAIT_FOR_ANNOTATION] == "condition=Ready"
        assert annotations[AUTOGEN_ANNOTATION] == "none"
        assert state["spec"] == build_rewrite_policy(SPEC)["spec"]
        assert not any("helm.sh/v3:Release" in u for u in monitor.get_registered_resources())

    return pulumi.Output.all(component.policy_name, component.rewrite_prefix).apply(check)


@pulumi.runtime.test
def test_component_installs_pinned_kyverno(monitor: mocks.MockMonitor) -> Any:
    install = ChartInstall(ChartSource("kyverno", "3.9.0", "https://kyverno.github.io/kyverno/"),
                           release_name="kyverno", namespace="kyverno", create_namespace=True,
                           values={"admissionController": {"replicas": 3}})
    component = ImageRewrite("rw", ImageRewriteArgs(policy=SPEC, install=install))

    def check(_: str) -> None:
        urn, state = _registered(monitor, "::rw-kyverno")
        assert "harbor-cache:index:ImageRewrite$kubernetes:helm.sh/v3:Release" in urn
        assert state["name"] == "kyverno"
        assert state["chart"] == "kyverno" and state["version"] == "3.9.0"
        assert state["repositoryOpts"] == {"repo": "https://kyverno.github.io/kyverno/"}
        assert state["namespace"] == "kyverno" and state["createNamespace"] is True
        assert state["skipAwait"] is False and state["atomic"] is True  # through the one Helm helper
        assert state["values"] == {"admissionController": {"replicas": 3}}

    return component.policy_name.apply(check)


@pulumi.runtime.test
def test_component_installs_from_local_chart(monitor: mocks.MockMonitor) -> Any:
    install = ChartInstall(ChartSource("kyverno", "3.9.0", path="./charts/kyverno"), release_name="kyverno",
                           namespace="kyverno")
    component = ImageRewrite("rw", ImageRewriteArgs(policy=SPEC, install=install))

    def check(_: str) -> None:
        _, state = _registered(monitor, "::rw-kyverno")
        assert state["chart"] == "./charts/kyverno"
        assert "repositoryOpts" not in state and "version" not in state

    return component.policy_name.apply(check)


def test_component_refuses_bad_spec() -> None:
    with pytest.raises(ValueError, match="upstream_hosts is empty"):
        build_rewrite_policy(RewritePolicySpec(upstream_hosts=(), harbor_prefix="harbor.local/mif"))
