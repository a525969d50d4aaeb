"""Pure mappings from Settings to each component's arguments (so __main__.py only wires)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pulumi

from components.containerd import NodeMirrorSpec, UpstreamMirror
from components.harbor import HarborReleaseArgs
from components.harbor_api.endpoint import HarborEndpoint
from components.harbor_values import PinnedSecretNames, harbor_values
from components.helm import ChartInstall, ChartSource
from components.kyverno import ImageRewriteArgs
from components.node_script import ScriptParams
from components.nodes import DaemonSetOptions, NodeMirrorArgs
from components.prewarm_resource import PrewarmArgs, PrewarmTarget
from components.rewrite_policy import RewritePolicySpec
from components.rules import is_ip
from components.settings import Settings
from components.settings.prewarm import resolve as resolve_prewarm
from components.settings.sections import ChartRef
from components.settings.upstreams import Upstream
from components.ssh import SshTarget
from components.tls import Tls, TlsArgs
from components.upstream import HarborUpstreamArgs, ProxyProjectOptions, ReplicationOptions

# How long a create waits for Harbor's /health after the chart was installed or upgraded.
HARBOR_READY_SECONDS = 600.0
# How long a cert-manager or Kyverno install may take before `up` fails (and the release is rolled back).
ADDON_TIMEOUT_SECONDS = 600


def chart_source(chart: ChartRef, setting: str) -> ChartSource:
    """The Helm helper's view of a chart setting (`setting`: its key, for error messages)."""
    return ChartSource(chart.name, chart.version, chart.repository, chart.path, f"harbor-cache:{setting}")


def tls_args(settings: Settings) -> TlsArgs:
    """Certificate names: cluster DNS names for in-cluster clients, the node endpoint, and extra SANs."""
    ns = settings.harbor.namespace
    service = "harbor"
    dns = [f"{service}.{ns}.svc.cluster.local", f"{service}.{ns}.svc", f"{service}.{ns}", service]
    ips = list(settings.tls.extra_ip_addresses)
    node_host = settings.node_host
    if is_ip(node_host):
        ips.insert(0, node_host)
    else:
        dns.insert(0, node_host)
    expose = settings.harbor.expose
    if expose and expose.type == "clusterIP" and expose.cluster_ip:
        ips.append(expose.cluster_ip)
    dns += [d for d in settings.tls.extra_dns_names if d not in dns]
    t = settings.tls
    return TlsArgs(namespace=ns, name=settings.harbor.release_name, dns_names=dns,
                   ip_addresses=list(dict.fromkeys(ips)), cluster_issuer=t.cluster_issuer,
                   ca_duration=t.ca_duration, ca_renew_before=t.ca_renew_before, leaf_duration=t.leaf_duration,
                   leaf_renew_before=t.leaf_renew_before, private_key_algorithm=t.private_key_algorithm)


def cert_manager_install(settings: Settings) -> ChartInstall | None:
    """cert-manager (with its CRDs) in its own namespace, when the stack asks this program to install it."""
    if not settings.tls.install_cert_manager:
        return None
    return ChartInstall(source=chart_source(settings.tls.cert_manager_chart, "tls.certManagerChart"),
                        release_name="cert-manager", namespace="cert-manager", values={"crds": {"enabled": True}},
                        create_namespace=True, timeout_seconds=ADDON_TIMEOUT_SECONDS)


def harbor_release_args(settings: Settings, admin_password: pulumi.Input[str], tls: Tls | None,
                        service_monitor: bool = False) -> HarborReleaseArgs:
    """The Harbor release: chart values from the settings, the pinned Secrets' names, and with `tls` (https)
    its leaf Secret, which the release waits for (`service_monitor`: components/metrics.py's decision)."""
    harbor = settings.harbor
    names = PinnedSecretNames.for_release(harbor.release_name)
    values = harbor_values(settings, names, tls_args(settings).leaf_secret if tls else None, service_monitor)
    chart = ChartInstall(source=chart_source(harbor.chart, "harbor.chart"), release_name=harbor.release_name,
                         namespace=harbor.namespace, values=values, skip_await=harbor.skip_await,
                         timeout_seconds=harbor.timeout_seconds)
    return HarborReleaseArgs(chart=chart, secret_names=names, admin_password=admin_password,
                             after=(tls.certificate,) if tls else ())


def harbor_endpoint(settings: Settings, ca_pem: str | None = None) -> HarborEndpoint:
    """How `pulumi` reaches Harbor's API: directly, or through the Kubernetes API server's service proxy."""
    if settings.harbor.api_access == "kubeProxy":
        return HarborEndpoint(
            kubeconfig=settings.kubeconfig or _ambient_kubeconfig(), username=settings.harbor.admin_user,
            service_namespace=settings.harbor.namespace, service_name="harbor", service_scheme=settings.scheme,
            service_port="443" if settings.https else "80",
            ready_timeout=HARBOR_READY_SECONDS if settings.harbor.install else 0.0)
    return HarborEndpoint(
        url=settings.api_url, username=settings.harbor.admin_user,
        ca_pem=ca_pem or settings.harbor.ca_pem,
        ready_timeout=HARBOR_READY_SECONDS if settings.harbor.install else 0.0)


def _ambient_kubeconfig() -> str:
    import os

    return os.environ.get("KUBECONFIG", os.path.expanduser("~/.kube/config")).split(os.pathsep)[0]


def upstream_args(settings: Settings, endpoint: HarborEndpoint, access_secret: pulumi.Input[str],
                  ca_pem: pulumi.Input[str] | None = None, upstream: Upstream | None = None) -> HarborUpstreamArgs:
    """One upstream's registry, its proxy project, and (for `upstream` only) the replication (`ca_pem`: the
    deploy-time CA, if any; `upstream`: one of settings.upstream_list, default the first)."""
    chosen = upstream or settings.upstream_list[0]
    up, proxy, repl = chosen.settings, settings.proxy_project, settings.replication
    replicate = repl.enabled and chosen.key == "upstream"
    return HarborUpstreamArgs(
        endpoint=endpoint, registry_name=up.name, registry_url=up.registry_url, registry_type=up.type,
        access_key_id=up.access_key_id, access_secret=access_secret, ambient_credentials=up.ambient_credentials,
        insecure=up.insecure, description=up.description,
        proxy=ProxyProjectOptions(name=chosen.project, public=proxy.public, storage_limit=proxy.storage_limit_bytes,
                                  proxy_speed_kb=proxy.speed_kb, retention_days=proxy.retention_days,
                                  force_destroy=proxy.force_destroy) if chosen.project else None,
        replication=ReplicationOptions(
            project_name=repl.project, policy_name=f"{repl.project}-from-{up.name}",
            name_filter=repl.name_filter, tag_filter=repl.tag_filter,
            trigger="manual" if repl.trigger == "manual" else "scheduled",
            cron=None if repl.trigger == "manual" else repl.trigger, override=repl.override,
            speed=max(repl.speed_kb, 0), run_on_change=repl.run_on_change, public=repl.public,
            retention_days=None, force_destroy=repl.force_destroy) if replicate else None,
        ca_pem=ca_pem,
    )


def upstream_secret(config: pulumi.Config, upstream: Upstream) -> pulumi.Output[str]:
    """An upstream's secret key or password, always a secret Output ("" when it has none)."""
    setting, name = upstream.secret
    if name is None:
        return config.get_secret(setting) or pulumi.Output.secret("")
    found = config.get_secret_object(setting)
    if found is None:
        return pulumi.Output.secret("")
    return pulumi.Output.secret(found.apply(lambda values: str((values or {}).get(name) or "")))


def node_mirror_spec(settings: Settings) -> NodeMirrorSpec:
    """What every node gets: a hosts.toml per upstream host pointing at its upstream's project, and Harbor's own."""
    host = settings.node_host
    port = urlsplit(f"//{settings.node_endpoint}").port
    expose = settings.harbor.expose
    static_ip = expose.cluster_ip if expose and expose.type == "clusterIP" else None
    upstreams = tuple(UpstreamMirror(host=h, project=settings.project_of(u), server=server,
                                     replica_project=settings.replica_first_of(u))
                      for u in settings.upstream_list for h, server in u.settings.servers().items())
    return NodeMirrorSpec(harbor_host=host, upstreams=upstreams, scheme=settings.scheme,  # type: ignore[arg-type]
                          harbor_port=port, certs_dir=settings.nodes.containerd.certs_dir, static_ip=static_ip)


def script_params(settings: Settings) -> ScriptParams:
    c = settings.nodes.containerd
    return ScriptParams(config_toml=c.config_path, certs_dir=c.certs_dir, hosts_file=c.hosts_file,
                        containerd=c.containerd_bin, restart_cmd=c.restart_command,
                        health_cmd=c.health_command)


def ssh_targets(settings: Settings) -> list[SshTarget]:
    """The ssh transport's nodes, each behind the bastion when one is set."""
    n = settings.nodes
    b = n.bastion
    bastion = SshTarget(name="bastion", host=b.host, port=b.port, user=b.user) if b else None
    return [SshTarget(name=h.name, host=h.address, port=h.port, user=h.user or n.user, host_key=h.host_key,
                      bastion=bastion) for h in n.hosts]


def node_mirror_args(settings: Settings, ca_pem: pulumi.Input[str] | None) -> NodeMirrorArgs:
    """NodeMirror's arguments (`ca_pem`: the deploy-time CA, used with HTTPS only)."""
    transport = settings.nodes.transport
    if transport == "none":
        raise ValueError("harbor-cache:nodes.transport is none: the program builds no NodeMirror")
    return NodeMirrorArgs(spec=node_mirror_spec(settings), transport=transport,
                          ca_pem=ca_pem if settings.https else None, ssh_targets=ssh_targets(settings),
                          params=script_params(settings),
                          daemonset=DaemonSetOptions(image=settings.nodes.daemonset_image),
                          verify_image=settings.nodes.verify_image,
                          verify_api_url=settings.api_url if settings.harbor.api_access == "direct" else "")


def rewrite_spec(settings: Settings) -> RewritePolicySpec:
    r = settings.image_rewrite
    prefixes = settings.image_prefixes
    return RewritePolicySpec(upstream_hosts=tuple(settings.upstream_hosts), harbor_prefix=settings.image_prefix,
                             harbor_namespace=settings.harbor.namespace,
                             excluded_namespaces=tuple(r.exclude_namespaces), failure_policy=r.failure_policy,
                             prefixes=tuple((h, p) for h, p in prefixes.items() if p != settings.image_prefix))


def kyverno_install(settings: Settings) -> ChartInstall | None:
    """Kyverno in its own namespace, when the stack asks this program to install it for image rewrite."""
    r = settings.image_rewrite
    if not r.install_kyverno:
        return None
    return ChartInstall(source=chart_source(r.kyverno_chart, "imageRewrite.kyvernoChart"), release_name="kyverno",
                        namespace="kyverno", create_namespace=True, timeout_seconds=ADDON_TIMEOUT_SECONDS)


def image_rewrite_args(settings: Settings) -> ImageRewriteArgs:
    """The Kyverno rewrite policy, and Kyverno itself when this program installs it."""
    return ImageRewriteArgs(policy=rewrite_spec(settings), install=kyverno_install(settings))


def prewarm_args(settings: Settings, ca_pem: pulumi.Input[str] | None) -> PrewarmArgs | None:
    """The images to pull through Harbor once (None when `prewarm.images` is empty); pulled from where `pulumi`
    runs, at `prewarm.registryUrl` or else Harbor's externalURL (docs/prewarm.md)."""
    p = settings.prewarm
    images, _ = resolve_prewarm(p, settings.upstream_list)  # problems were refused with the settings
    if not images:
        return None
    return PrewarmArgs(registry_url=p.registry_url or settings.external_url,
                       targets=[PrewarmTarget(i.image, i.project, i.upstream) for i in images],
                       username=settings.harbor.admin_user, ca_pem=ca_pem if settings.https else None,
                       platforms=tuple(p.platforms), fail_on_error=p.fail_on_error, timeout=float(p.timeout_seconds))
