"""harbor-cache: wiring only. Settings in, components in dependency order, stack outputs out (README: Outputs)."""

import sys

import pulumi
import pulumi_kubernetes as k8s

from components import specs
from components.harbor import HarborRelease
from components.helm import release
from components.helm_recovery import recover_pending_release
from components.kyverno import ImageRewrite
from components.metrics import service_monitor_served, wants_service_monitor
from components.nodes import NodeMirror
from components.prewarm_resource import PrewarmImages
from components.settings import NAMESPACE, SettingsError, load_from_pulumi
from components.tls import Tls
from components.upstream import HarborUpstream

# 0. Settings: validated before any resource exists; every error names its config key.
try:
    settings, warnings = load_from_pulumi()
except SettingsError as error:
    pulumi.log.error(str(error))
    sys.exit(32)  # the executor's "message already shown" code: the engine adds no stack trace
for warning in warnings:
    pulumi.log.warn(warning)

config = pulumi.Config(NAMESPACE)
admin_password = config.require_secret("adminPassword")
kube = k8s.Provider("kubernetes", kubeconfig=settings.kubeconfig, cluster_identifier=pulumi.get_stack())
on_cluster = pulumi.ResourceOptions(providers=[kube])

# 1. TLS (https only): cert-manager (optionally installed here) issues Harbor's certificate.
tls = None
if settings.https and settings.harbor.install:
    cert_manager = specs.cert_manager_install(settings)
    installed = [release("cert-manager", cert_manager, opts=on_cluster)] if cert_manager else []
    tls = Tls("harbor-tls", specs.tls_args(settings),
              opts=pulumi.ResourceOptions(providers=[kube], depends_on=installed))

# 2. Harbor itself (or an existing one with harbor.install: false).
harbor = None
if settings.harbor.install:
    if not pulumi.runtime.is_dry_run():  # components/helm_recovery.py: a revision a killed run left pending
        left = recover_pending_release(settings.kubeconfig, settings.harbor.namespace, settings.harbor.release_name)
        if left:
            pulumi.log.warn(left)
    service_monitor = wants_service_monitor(  # components/metrics.py: auto asks the cluster for the CRD
        settings.harbor.metrics.service_monitor, settings.harbor.metrics.enabled,
        lambda: service_monitor_served(settings.kubeconfig), pulumi.log.warn)
    harbor = HarborRelease("harbor", specs.harbor_release_args(settings, admin_password, tls, service_monitor),
                           opts=on_cluster)
ca_pem = tls.ca_pem if tls else pulumi.Output.from_input(settings.harbor.ca_pem or "")

# 3. Inside Harbor, per upstream: its registry and proxy-cache project (and for `upstream` the replicated project).
#    Each upstream has its own resource names, so adding or removing one touches only its own resources.
endpoint = specs.harbor_endpoint(settings, settings.harbor.ca_pem)
upstreams = [HarborUpstream(
    chosen.resource_name, specs.upstream_args(settings, endpoint, specs.upstream_secret(config, chosen),
                                              ca_pem=tls.ca_pem if tls else None, upstream=chosen),
    opts=pulumi.ResourceOptions(depends_on=[harbor.release] if harbor else []))
    for chosen in settings.upstream_list]
upstream = upstreams[0]

# 3b. Pre-warm: the listed images pulled through their proxy projects once, before nodes are sent to the cache.
prewarm_args = specs.prewarm_args(settings, ca_pem)
prewarm = PrewarmImages("prewarm", prewarm_args, opts=pulumi.ResourceOptions(depends_on=upstreams)) \
    if prewarm_args else None
cache_ready: list[pulumi.Resource] = [*upstreams, *([prewarm] if prewarm else [])]

# 4. Nodes: containerd pulls through Harbor.
nodes = None
if settings.nodes.transport != "none":
    nodes = NodeMirror("nodes", specs.node_mirror_args(settings, ca_pem),
                       opts=pulumi.ResourceOptions(providers=[kube], depends_on=cache_ready))

# 5. Optional admission-time image rewrite with Kyverno.
rewrite = None
if settings.image_rewrite.enabled:
    rewrite = ImageRewrite("image-rewrite", specs.image_rewrite_args(settings),
                           opts=pulumi.ResourceOptions(providers=[kube], depends_on=cache_ready))

# 6. Outputs other programs read through StackReference.
pulumi.export("harborUrl", settings.external_url)
pulumi.export("apiUrl", f"{settings.api_url}/api/v2.0")
pulumi.export("nodeEndpoint", settings.node_endpoint)
pulumi.export("cacheProjects", settings.cache_projects)
pulumi.export("imagePrefix", settings.image_prefix)
pulumi.export("imagePrefixes", settings.image_prefixes)
pulumi.export("upstreamRegistry", settings.upstream_list[0].settings.host)
pulumi.export("adminUser", settings.harbor.admin_user)
pulumi.export("caCertificate", ca_pem)
pulumi.export("registryId", upstream.registry_id)
pulumi.export("registryIds", pulumi.Output.all(**{
    chosen.settings.name: made.registry_id for chosen, made in zip(settings.upstream_list, upstreams, strict=True)}))
pulumi.export("projectIds", pulumi.Output.all(*[out for made in upstreams for out in (
    made.proxy_project_name, made.proxy_project_id, made.replica_project_name, made.replica_project_id)]).apply(
    lambda v: {name: pid for name, pid in zip(v[::2], v[1::2], strict=True) if name}))
pulumi.export("replicationPolicyId", upstream.policy_id)
pulumi.export("lastReplicationStatus", upstream.last_replication_status)
if prewarm:
    pulumi.export("prewarmedImages", prewarm.warm)
    pulumi.export("prewarmFailures", prewarm.failed)
if nodes:
    pulumi.export("nodes", nodes.nodes)
    pulumi.export("nodeVerification", nodes.verification)
if rewrite:
    pulumi.export("imageRewritePolicy", rewrite.policy_name)
    pulumi.export("imageRewritePrefix", rewrite.rewrite_prefix)
