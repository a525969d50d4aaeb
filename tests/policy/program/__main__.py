"""Fixture for the policy pack's engine test: each resource type the pack checks, built like the program.

Config `variant: good` builds everything with harbor-cache's own builders (it must pass the pack); `variant:
bad` breaks exactly one thing for each mandatory policy (docs/policy.md lists them).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.containerd import NodeMirrorSpec, UpstreamMirror, render_certs_files
from components.harbor_api.client import HarborEndpoint
from components.harbor_api.resources import Project, Registry, ReplicationPolicy
from components.harbor_values import PinnedSecretNames, harbor_values
from components.node_script import ScriptParams
from components.node_ssh import NodeContainerdConfig
from components.rewrite_policy import RewritePolicySpec, build_rewrite_policy
from components.settings import load_stack_file, validate
from components.ssh import SshTarget
from components.tls import CERT_MANAGER_API, TlsArgs, issuer_documents, leaf_document
from lab.paths import harbor_chart

ECR_HOST = "255250787067.dkr.ecr.ap-northeast-2.amazonaws.com"
HARBOR = "10.20.0.11:30003"
CA_PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----\n"
SEED_HOSTS_TOML = f"""server = "https://{ECR_HOST}"

[host."https://{HARBOR}/v2/mif"]
  capabilities = ["pull", "resolve"]
  skip_verify = true
  ca = "/etc/containerd/certs.d/{HARBOR}/ca.crt"
  override_path = false
"""

config = pulumi.Config()
bad = config.require("variant") == "bad"
repo = Path(config.require("repo"))
provider = k8s.Provider("local", kubeconfig=config.require("kubeconfig"), cluster_identifier="policy")
k8s_opts = pulumi.ResourceOptions(provider=provider)


def prod_values() -> dict[str, Any]:
    """The Harbor values harbor-cache renders for the prod example stack."""
    raw, flags = load_stack_file(repo / "Pulumi.prod.yaml")
    secrets = {"adminPassword": True, "upstreamSecretKey": True, "sshPrivateKey": True}
    settings = validate(raw, {**secrets, **flags})
    return harbor_values(settings, PinnedSecretNames.for_release("harbor"), "harbor-tls")


values = prod_values()
if bad:
    values["externalURL"] = "http://10.20.0.11:30002"
    values["expose"]["tls"] = {"enabled": False}
    values["persistence"]["persistentVolumeClaim"]["registry"]["size"] = "5Gi"
    values["harborAdminPassword"] = "Harbor12345"
endpoint = HarborEndpoint(url=f"https://{HARBOR}")
registry = Registry("ecr", harbor=endpoint, name="moreh-ecr", url=f"https://{ECR_HOST}",
                    access_key_id="AKIAIOSFODNN7EXAMPLE",
                    access_secret=config.require_secret("upstreamSecretKey"))
# pulumi-kubernetes resolves the chart in Check and replaces `version` with the resolved one when every input is
# known; an input known only after another resource exists (here the registry's id) keeps the requested version
# visible to the policy, so the bad variant's range can be seen (docs/policy.md, Limits).
namespace: pulumi.Input[str] = registry.registry_id.apply(lambda _: "harbor") if bad else "harbor"
k8s.helm.v3.Release(
    "harbor", name="harbor", namespace=namespace, chart=str(harbor_chart("1.18.2")),  # the real chart, by path
    version="~1.18" if bad else "1.18.2", values=values, skip_await=True, opts=k8s_opts)

tls = TlsArgs(namespace="harbor", name="harbor", dns_names=["harbor.prod.example.internal"])
for original in [*issuer_documents(tls), leaf_document(tls)]:
    doc = copy.deepcopy(original)
    if bad and doc["spec"].get("isCA"):
        doc["spec"]["duration"] = "2160h"
    doc["metadata"].pop("annotations", None)  # no controller runs: nothing would become Ready
    k8s.apiextensions.CustomResource(f"{doc['kind'].lower()}-{doc['metadata']['name']}",
                                     api_version=CERT_MANAGER_API, kind=doc["kind"], metadata=doc["metadata"],
                                     spec=doc["spec"], opts=k8s_opts)

rewrite = build_rewrite_policy(RewritePolicySpec(upstream_hosts=(ECR_HOST,),
                                                 harbor_prefix=f"{HARBOR}/mif-replica"))
if bad:
    for rule in rewrite["spec"]["rules"]:
        rule.pop("exclude")
        for step in rule["mutate"]["foreach"]:
            step["patchesJson6902"] = step["patchesJson6902"].replace("'^(?:", "'(?:")
k8s.apiextensions.CustomResource("image-rewrite", api_version=rewrite["apiVersion"], kind=rewrite["kind"],
                                 metadata=rewrite["metadata"], spec=rewrite["spec"], opts=k8s_opts)

mirror = NodeMirrorSpec(harbor_host="10.20.0.11", harbor_port=30003,
                        upstreams=(UpstreamMirror(ECR_HOST, "mif"),), scheme="https", ca_pem=CA_PEM)
files = render_certs_files(mirror)
if bad:
    files[f"{ECR_HOST}/hosts.toml"] = SEED_HOSTS_TOML
for index, address in enumerate(("10.20.0.11", "10.20.0.12"), start=1):
    NodeContainerdConfig(f"node-{index}", target=SshTarget(f"gpu-node-{index}", address), files=files,
                         params=ScriptParams())

# A known registry id: the harbor providers' check rejects an unknown one (Registry.registry_id during a first
# preview) because it compares with the UNKNOWN string, not pulumi.output.Unknown. The stack policies treat
# an unknown registry_id as set (tests/policy/test_policies.py covers that).
registry_id = 1
Project("proxy", harbor=endpoint, name="mif", public=True, registry_id=registry_id)
Project("replica", harbor=endpoint, name="mif-replica", public=True)
ReplicationPolicy("replication", harbor=endpoint, name="mif-replica", registry_id=registry_id,
                  dest_namespace="mif-replica", dest_namespace_replace_count=-1 if bad else 0,
                  name_filter="quickstart/**")
if bad:
    ReplicationPolicy("into-proxy", harbor=endpoint, name="into-proxy", registry_id=registry_id,
                      dest_namespace="mif")
