"""Each policy on passing and failing resources, including what the program's own builders produce."""

from __future__ import annotations

import base64
import copy
from typing import Any

import pytest
from pulumi_policy.proxy import UNKNOWN_NUMBER_VALUE, UNKNOWN_STRING_VALUE

from components.containerd import NodeMirrorSpec, UpstreamMirror, render_certs_files
from components.harbor_values import PinnedSecretNames, harbor_values
from components.node_script import ScriptParams, render_script
from components.rewrite_policy import RewritePolicySpec, build_rewrite_policy
from components.settings import load_stack_file, validate
from components.tls import TlsArgs, issuer_documents, leaf_document
from lab.paths import ROOT as REPO
from policy import policies as p
from policy.props import UNKNOWN, parse_duration, parse_quantity, plain, stack_of
from tests.policy.support import Res, run_resource_policy, run_stack_policy

ECR_HOST = "255250787067.dkr.ecr.ap-northeast-2.amazonaws.com"
CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----\n"
RELEASE, CERT, CLUSTER_POLICY = p.HELM_RELEASE, p.CERTIFICATE, p.KYVERNO_POLICIES[0]
CONTAINERD = "pulumi-python:dynamic/nodes:ContainerdConfig"
SEED_HOSTS_TOML = f"""server = "https://{ECR_HOST}"

[host."https://harbor.harbor.svc.cluster.local:443/v2/mif"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
  ca = "/etc/containerd/certs.d/harbor.harbor.svc.cluster.local:443/ca.crt"
  override_path = false
"""


# --------------------------------------------------------------------------------------------- builders


def example_values(stack_file: str) -> dict[str, Any]:
    """Harbor values the program builds for an example stack (Pulumi.<stack>.yaml)."""
    raw, secret_flags = load_stack_file(REPO / stack_file)
    settings = validate(raw, {"adminPassword": True, "upstreamSecretKey": True, "sshPrivateKey": True,
                              **secret_flags})
    names = PinnedSecretNames.for_release(settings.harbor.release_name)
    return harbor_values(settings, names, "harbor-tls" if settings.https else None)


def release(values: dict[str, Any], version: str | None = "1.18.2", chart: str = "harbor") -> dict[str, Any]:
    props: dict[str, Any] = {"chart": chart, "values": values, "name": "harbor", "namespace": "harbor",
                             "repositoryOpts": {"repo": "https://helm.goharbor.io"}}
    if version is not None:
        props["version"] = version
    return props


def node_files(scheme: str = "https") -> dict[str, str]:
    spec = NodeMirrorSpec(harbor_host="10.20.0.11", harbor_port=30003 if scheme == "https" else 30002,
                          upstreams=(UpstreamMirror(ECR_HOST, "mif"),), scheme=scheme,  # type: ignore[arg-type]
                          ca_pem=CA_PEM if scheme == "https" else None)
    return render_certs_files(spec)


def containerd_props(files: dict[str, str], **extra: Any) -> dict[str, Any]:
    """Props shaped like components.node_ssh.NodeContainerdConfig's."""
    return {"node": "gpu-node-1", "host": "10.20.0.11", "port": 22, "user": "root", "files": files,
            "params": ScriptParams().to_dict(), **extra}


def rewrite_document(harbor_prefix: str = "10.20.0.11:30003/mif", **overrides: Any) -> dict[str, Any]:
    spec = RewritePolicySpec(upstream_hosts=(ECR_HOST,), harbor_prefix=harbor_prefix, **overrides)
    return build_rewrite_policy(spec)


SEED_POLICY: dict[str, Any] = {
    "apiVersion": "kyverno.io/v1", "kind": "ClusterPolicy", "metadata": {"name": "replace-image-registry"},
    "spec": {"rules": [{
        "name": "replace-image-registry",
        "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
        "mutate": {"foreach": [{
            "list": "request.object.spec.containers",
            "patchStrategicMerge": {"spec": {"containers": [{
                "name": "{{ element.name }}",
                "image": (f"{{{{ regex_replace_all_literal('{ECR_HOST}', '{{{{element.image}}}}', "
                          f"'harbor.harbor.svc.cluster.local:443/mif') }}}}")}]}},
        }]},
    }]},
}


# --------------------------------------------------------------------------------------------- props


def test_plain_unwraps_proxies_and_marks_unknowns() -> None:
    from pulumi_policy.proxy import unknown_checking_proxy

    props = unknown_checking_proxy({"a": {"b": [1, UNKNOWN_STRING_VALUE]}, "c": UNKNOWN_NUMBER_VALUE})
    assert plain(props) == {"a": {"b": [1, UNKNOWN]}, "c": UNKNOWN}


@pytest.mark.parametrize(("text", "expected"), [
    ("50Gi", 50 * 2**30), ("500G", 500e9), ("1Ti", 2**40), ("5Gi", 5 * 2**30), ("12", 12.0), ("big", None)])
def test_parse_quantity(text: str, expected: float | None) -> None:
    assert parse_quantity(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("87600h", 87600 * 3600.0), ("2160h0m0s", 2160 * 3600.0), ("90m", 5400.0), ("1y", None), ("", None)])
def test_parse_duration(text: str, expected: float | None) -> None:
    assert parse_duration(text) == expected


def test_stack_of_urn() -> None:
    assert stack_of("urn:pulumi:prod::harbor-cache::kubernetes:helm.sh/v3:Release::harbor") == "prod"


# --------------------------------------------------------------------------------------------- helm


def test_chart_pinned_passes_exact_version_and_local_chart() -> None:
    assert not run_resource_policy(p.chart_pinned, RELEASE, release({}))
    assert not run_resource_policy(p.chart_pinned, RELEASE, {"chart": "./sandbox/chart/harbor"})
    assert not run_resource_policy(p.chart_pinned, RELEASE, {"chart": "/work/charts/harbor", "version": ""})


def test_chart_pinned_fails_missing_or_range_version() -> None:
    missing = run_resource_policy(p.chart_pinned, RELEASE, release({}, version=None))
    assert len(missing) == 1 and "set `version`" in missing[0]
    assert run_resource_policy(p.chart_pinned, RELEASE, release({}, version=""))
    ranged = run_resource_policy(p.chart_pinned, RELEASE, release({}, version="^1.18"))
    assert ranged and "not an exact version" in ranged[0]
    assert run_resource_policy(p.chart_pinned, RELEASE, {"chart": "oci://ghcr.io/x/harbor"})
    assert run_resource_policy(p.chart_pinned, RELEASE, {"chart": "./charts/harbor", "version": "~1.18"})


def test_chart_pinned_config_can_require_versions_for_local_charts() -> None:
    props = {"chart": "./sandbox/chart/harbor"}
    assert run_resource_policy(p.chart_pinned, RELEASE, props, {"allow_local_charts": False})


def test_chart_pinned_skips_unknown_version() -> None:
    assert not run_resource_policy(p.chart_pinned, RELEASE, release({}, version=UNKNOWN_STRING_VALUE))


def test_registry_volume_passes_example_stacks() -> None:
    for stack_file in ("Pulumi.dev.yaml", "Pulumi.prod.yaml"):
        assert not run_resource_policy(p.registry_volume, RELEASE, release(example_values(stack_file)))


def test_registry_volume_fails_small_missing_or_disabled() -> None:
    values = example_values("Pulumi.dev.yaml")
    small = copy.deepcopy(values)
    small["persistence"]["persistentVolumeClaim"]["registry"]["size"] = "5Gi"
    found = run_resource_policy(p.registry_volume, RELEASE, release(small))
    assert len(found) == 1 and "below the minimum 50Gi" in found[0]
    unset = copy.deepcopy(values)
    del unset["persistence"]["persistentVolumeClaim"]["registry"]["size"]
    assert "5Gi default" in run_resource_policy(p.registry_volume, RELEASE, release(unset))[0]
    assert "5Gi default" in run_resource_policy(p.registry_volume, RELEASE,
                                                release({"externalURL": "http://h", "expose": {}}))[0]
    disabled = copy.deepcopy(values)
    disabled["persistence"]["enabled"] = False
    assert "persistence is disabled" in run_resource_policy(p.registry_volume, RELEASE, release(disabled))[0]


def test_registry_volume_minimum_is_configurable_and_other_charts_are_ignored() -> None:
    values = example_values("Pulumi.dev.yaml")  # 200Gi
    assert run_resource_policy(p.registry_volume, RELEASE, release(values), {"min_size": "1Ti"})
    bad_config = run_resource_policy(p.registry_volume, RELEASE, release(values), {"min_size": "lots"})
    assert "not a Kubernetes quantity" in bad_config[0]
    kyverno = {"chart": "kyverno", "version": "3.9.0", "values": {}}
    assert not run_resource_policy(p.registry_volume, RELEASE, kyverno)


def test_registry_volume_ignores_object_storage() -> None:
    values = {"externalURL": "https://h", "expose": {},
              "persistence": {"imageChartStorage": {"type": "s3"}, "persistentVolumeClaim": {}}}
    assert not run_resource_policy(p.registry_volume, RELEASE, release(values))


# --------------------------------------------------------------------------------------------- TLS


def test_production_https_passes_prod_example_and_ignores_dev() -> None:
    prod = release(example_values("Pulumi.prod.yaml"))
    assert not run_resource_policy(p.production_https, RELEASE, prod, stack="prod")
    dev = release(example_values("Pulumi.dev.yaml"))
    assert not run_resource_policy(p.production_https, RELEASE, dev, stack="dev")
    nodes = containerd_props(node_files())
    assert not run_resource_policy(p.production_https, CONTAINERD, nodes, stack="prod")


def test_production_https_fails_http_harbor_on_production_stack() -> None:
    dev_values = release(example_values("Pulumi.dev.yaml"))
    found = run_resource_policy(p.production_https, RELEASE, dev_values, stack="prod")
    assert len(found) == 2
    assert any("externalURL is http://" in m for m in found) and any("expose.tls.enabled" in m for m in found)


def test_production_https_config_overrides_stack_names() -> None:
    dev_values = release(example_values("Pulumi.dev.yaml"))
    assert run_resource_policy(p.production_https, RELEASE, dev_values, {"production": True}, stack="dev")
    assert run_resource_policy(p.production_https, RELEASE, dev_values, {"production_stacks": ["live"]},
                               stack="live")
    assert not run_resource_policy(p.production_https, RELEASE, dev_values, {"production": False},
                                   stack="prod")


def test_production_https_fails_http_nodes_and_endpoint() -> None:
    found = run_resource_policy(p.production_https, CONTAINERD, containerd_props(node_files("http")),
                                stack="prod")
    assert any("http://10.20.0.11:30002/v2/mif is plain HTTP" in m for m in found)
    seed = containerd_props({"x/hosts.toml": SEED_HOSTS_TOML})
    skip = run_resource_policy(p.production_https, CONTAINERD, seed, stack="prod")
    assert any("skip_verify = true on a production stack" in m for m in skip)
    project = {"harbor": {"url": "http://10.20.0.11:30002"}, "name": "mif"}
    endpoint = run_resource_policy(p.production_https, p.HARBOR_PROJECT, project, stack="prod")
    assert endpoint and "harbor.url" in endpoint[0]


def test_node_tls_verified() -> None:
    assert not run_resource_policy(p.node_tls_verified, CONTAINERD, containerd_props(node_files()))
    seed = containerd_props({"h/hosts.toml": SEED_HOSTS_TOML})
    found = run_resource_policy(p.node_tls_verified, CONTAINERD, seed)
    assert len(found) == 1 and "remove skip_verify" in found[0]
    no_ca = "\n".join(line for line in SEED_HOSTS_TOML.splitlines() if not line.startswith("  ca ="))
    assert not run_resource_policy(p.node_tls_verified, CONTAINERD, containerd_props({"h/hosts.toml": no_ca}))
    with_pem = containerd_props({"h/hosts.toml": no_ca, "h/ca.crt": CA_PEM})
    assert run_resource_policy(p.node_tls_verified, CONTAINERD, with_pem)
    assert run_resource_policy(p.node_tls_verified, CONTAINERD, containerd_props({"h/hosts.toml": no_ca}),
                               {"ca_available": True})


def test_node_tls_verified_reads_base64_secret_data() -> None:
    data = {"hosts.toml": base64.b64encode(SEED_HOSTS_TOML.encode()).decode()}
    assert run_resource_policy(p.node_tls_verified, "kubernetes:core/v1:Secret", {"data": data})


def test_node_policies_read_the_daemonset_script_secret() -> None:
    good = render_script("apply", ScriptParams(), node_files(), None)
    bad = render_script("apply", ScriptParams(), {"h/hosts.toml": SEED_HOSTS_TOML}, None)
    secret = "kubernetes:core/v1:Secret"
    assert not run_resource_policy(p.mirror_override_path, secret, {"stringData": {"node-script.sh": good}})
    found = run_resource_policy(p.mirror_override_path, secret, {"stringData": {"node-script.sh": bad}})
    assert len(found) == 1 and found[0].startswith("stringData.node-script.sh: h/hosts.toml: mirror")
    assert run_resource_policy(p.node_tls_verified, secret, {"stringData": {"node-script.sh": bad}})


def test_mirror_override_path() -> None:
    assert not run_resource_policy(p.mirror_override_path, CONTAINERD, containerd_props(node_files()))
    assert not run_resource_policy(p.mirror_override_path, CONTAINERD, containerd_props(node_files("http")))
    found = run_resource_policy(p.mirror_override_path, "kubernetes:core/v1:ConfigMap",
                                {"data": {"hosts.toml": SEED_HOSTS_TOML}})
    assert len(found) == 1 and "override_path = true" in found[0] and "/v2/mif" in found[0]
    plain_v2 = 'server = "https://x"\n[host."https://harbor.example/v2"]\n  capabilities = ["pull"]\n'
    assert not run_resource_policy(p.mirror_override_path, CONTAINERD, containerd_props({"a": plain_v2}))


def test_certificate_lifetimes_pass_program_documents() -> None:
    spec = TlsArgs(namespace="harbor", name="harbor", dns_names=["harbor.example"])
    for doc in [*issuer_documents(spec), leaf_document(spec)]:
        if doc["kind"] == "Certificate":
            assert not run_resource_policy(p.certificate_lifetimes, CERT, doc), doc["metadata"]["name"]


def test_certificate_lifetimes_fail_short_ca_and_leaf_without_renew_before() -> None:
    spec = TlsArgs(namespace="harbor", name="harbor", dns_names=["harbor.example"])
    ca = copy.deepcopy(issuer_documents(spec)[1])
    del ca["spec"]["duration"]
    found = run_resource_policy(p.certificate_lifetimes, CERT, ca)
    assert len(found) == 1 and "at least 8760h" in found[0]
    ca["spec"]["duration"] = "17520h"
    assert not run_resource_policy(p.certificate_lifetimes, CERT, ca)
    assert run_resource_policy(p.certificate_lifetimes, CERT, ca, {"min_ca_duration": "87600h"})
    leaf = copy.deepcopy(leaf_document(spec))
    del leaf["spec"]["renewBefore"]
    assert "no spec.renewBefore" in run_resource_policy(p.certificate_lifetimes, CERT, leaf)[0]
    leaf["spec"]["renewBefore"] = "4000h"
    assert "shorter than spec.duration" in run_resource_policy(p.certificate_lifetimes, CERT, leaf)[0]
    leaf["spec"].pop("renewBefore")
    leaf["spec"]["renewBeforePercentage"] = 30
    assert not run_resource_policy(p.certificate_lifetimes, CERT, leaf)


# --------------------------------------------------------------------------------------------- Kyverno


def test_image_rewrite_passes_program_policy() -> None:
    assert not run_resource_policy(p.image_rewrite, CLUSTER_POLICY, rewrite_document())
    other = rewrite_document(harbor_namespace="registry")
    assert not run_resource_policy(p.image_rewrite, CLUSTER_POLICY, other, {"harbor_namespace": "registry"})


def test_image_rewrite_fails_seed_policy() -> None:
    found = run_resource_policy(p.image_rewrite, CLUSTER_POLICY, SEED_POLICY)
    assert any("does not cover initContainers, ephemeralContainers" in m for m in found)
    assert any("is not anchored" in m for m in found)
    assert any("Harbor's namespace 'harbor'" in m for m in found)


def test_image_rewrite_fails_each_gap_of_an_otherwise_good_policy() -> None:
    doc = rewrite_document()
    no_ephemeral = copy.deepcopy(doc)
    no_ephemeral["spec"]["rules"] = no_ephemeral["spec"]["rules"][:2]
    assert "does not cover ephemeralContainers" in run_resource_policy(p.image_rewrite, CLUSTER_POLICY,
                                                                       no_ephemeral)[0]
    pod_kind = copy.deepcopy(doc)
    pod_kind["spec"]["rules"][2]["match"]["any"][0]["resources"]["kinds"] = ["Pod"]
    assert "Pod/ephemeralcontainers" in run_resource_policy(p.image_rewrite, CLUSTER_POLICY, pod_kind)[0]
    harbor_included = copy.deepcopy(doc)
    for rule in harbor_included["spec"]["rules"]:
        rule["exclude"] = {"any": [{"resources": {"namespaces": ["kube-system"]}}]}
    assert len(run_resource_policy(p.image_rewrite, CLUSTER_POLICY, harbor_included)) == 3


def test_image_rewrite_ignores_other_policies_and_accepts_allow_lists() -> None:
    other = {"spec": {"rules": [{"name": "add-label", "mutate": {"patchStrategicMerge": {"metadata": {}}}}]}}
    assert not run_resource_policy(p.image_rewrite, CLUSTER_POLICY, other)
    doc = rewrite_document()
    for rule in doc["spec"]["rules"]:
        del rule["exclude"]
        rule["match"]["any"][0]["resources"]["namespaces"] = ["apps-*"]
    assert not run_resource_policy(p.image_rewrite, CLUSTER_POLICY, doc)


# --------------------------------------------------------------------------------------------- secrets


def test_secrets_dynamic_resources_need_secret_outputs() -> None:
    registry = {"name": "ecr", "access_key_id": "AKIA", "access_secret": "s3cr3t-value", "__provider": "x"}
    assert not run_resource_policy(p.secrets_secret, "pulumi-python:dynamic/harbor:Registry", registry,
                                   secret_outputs=["access_secret"])
    found = run_resource_policy(p.secrets_secret, "pulumi-python:dynamic/harbor:Registry", registry)
    assert len(found) == 1 and "`access_secret`" in found[0] and "s3cr3t-value" not in found[0]
    empty = {**registry, "access_secret": ""}
    assert not run_resource_policy(p.secrets_secret, "pulumi-python:dynamic/harbor:Registry", empty)


def test_secrets_ssh_key_in_node_resource() -> None:
    key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
    props = containerd_props(node_files(), connection={"host": "10.0.0.11", "private_key": key},
                             ssh_key_path="/root/.ssh/id_ed25519")
    found = run_resource_policy(p.secrets_secret, CONTAINERD, props)
    assert len(found) == 1 and "`connection.private_key`" in found[0] and "b3Blbn" not in found[0]
    assert not run_resource_policy(p.secrets_secret, CONTAINERD, props, secret_outputs=["connection"])
    by_content = containerd_props({"id": key})
    assert run_resource_policy(p.secrets_secret, CONTAINERD, by_content)


def test_secrets_helm_values_never_inline_passwords() -> None:
    assert not run_resource_policy(p.secrets_secret, RELEASE, release(example_values("Pulumi.prod.yaml")))
    inline = release({"harborAdminPassword": "Harbor12345", "secretKey": "not-a-secret-key",
                      "existingSecretAdminPassword": "harbor-admin", "expose": {"tls": {"secret": {}}}})
    found = run_resource_policy(p.secrets_secret, RELEASE, inline)
    assert sorted(m.split("`")[1] for m in found) == ["values.harborAdminPassword", "values.secretKey"]
    assert not any("Harbor12345" in m for m in found)


def test_secrets_config_maps_and_env() -> None:
    config_map = "kubernetes:core/v1:ConfigMap"
    assert not run_resource_policy(p.secrets_secret, config_map, {"data": {"hosts.toml": SEED_HOSTS_TOML}})
    assert run_resource_policy(p.secrets_secret, config_map, {"data": {"HARBOR_ADMIN_PASSWORD": "x"}})
    env = {"kind": "DaemonSet", "spec": {"template": {"spec": {"containers": [{"name": "c", "env": [
        {"name": "HARBOR_ADMIN_PASSWORD", "value": "Harbor12345"}, {"name": "MODE", "value": "ssh"},
        {"name": "UPSTREAM_SECRET_KEY", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]}]}}}}
    found = run_resource_policy(p.secrets_secret, "kubernetes:apps/v1:DaemonSet", env)
    assert len(found) == 1 and "HARBOR_ADMIN_PASSWORD" in found[0] and "Harbor12345" not in found[0]
    assert not run_resource_policy(p.secrets_secret, "kubernetes:core/v1:Secret",
                                   {"stringData": {"password": "x"}})


# --------------------------------------------------------------------------------------------- stack


def harbor_objects(dest: str = "mif-replica", count: Any = 0, registry_id: Any = 1) -> list[Res]:
    return [
        Res(p.HARBOR_PROJECT, "proxy", {"name": "mif", "registry_id": registry_id, "public": True}),
        Res(p.HARBOR_PROJECT, "replica", {"name": "mif-replica", "registry_id": None}),
        Res(p.HARBOR_REPLICATION, "rule", {"name": "ecr-to-replica", "registry_id": registry_id,
                                           "dest_namespace": dest, "dest_namespace_replace_count": count}),
    ]


def test_proxy_not_replicated() -> None:
    assert not run_stack_policy(p.proxy_not_replicated, harbor_objects())
    found = run_stack_policy(p.proxy_not_replicated, harbor_objects(dest="mif"))
    assert len(found) == 1
    urn, message = found[0]
    assert urn is not None and urn.endswith("::rule") and "a proxy-cache project" in message


def test_proxy_not_replicated_counts_unknown_registry_id_as_proxy() -> None:
    resources = harbor_objects(dest="mif", registry_id=UNKNOWN_NUMBER_VALUE)
    assert run_stack_policy(p.proxy_not_replicated, resources)


def test_replication_keeps_paths_when_rewrite_points_at_project() -> None:
    rewrite = Res(CLUSTER_POLICY, "rewrite", rewrite_document(harbor_prefix="10.20.0.11:30003/mif-replica"))
    assert not run_stack_policy(p.replication_keeps_paths, [*harbor_objects(), rewrite])
    found = run_stack_policy(p.replication_keeps_paths, [*harbor_objects(count=-1), rewrite])
    assert len(found) == 1 and "dest_namespace_replace_count to 0" in found[0][1]
    missing = harbor_objects()
    del missing[2].props["dest_namespace_replace_count"]
    assert "count -1" in run_stack_policy(p.replication_keeps_paths, [*missing, rewrite])[0][1]
    assert not run_stack_policy(p.replication_keeps_paths, harbor_objects(count=-1))


def test_replication_keeps_paths_when_mirror_points_at_project() -> None:
    text = 'server = "https://e"\n[host."https://h/v2/mif-replica"]\n  override_path = true\n'
    files = {"x/hosts.toml": text}
    mirror = Res(CONTAINERD, "nodes", containerd_props(files))
    assert run_stack_policy(p.replication_keeps_paths, [*harbor_objects(count=1), mirror])
    unknown_count = harbor_objects(count=UNKNOWN_NUMBER_VALUE)
    assert not run_stack_policy(p.replication_keeps_paths, [*unknown_count, mirror])


def test_every_policy_is_in_the_pack_with_a_unique_name() -> None:
    names = [policy.name for policy in p.POLICIES]
    assert len(names) == len(set(names)) == 10
