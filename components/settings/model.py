"""`Settings`: the whole stack's settings, validated, with the checks that span more than one section.

Sections (harbor, tls, upstream, ...) are in sections.py and nodes.py, the values derived from them in derived.py. Each
cross-section problem is reported on its own line and names the stack setting it is about.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from components import rules
from components.settings.derived import DerivedValues
from components.settings.nodes import NodesSettings
from components.settings.prewarm import PrewarmSettings, prewarm_problems
from components.settings.rewrite import rewrite_settings_errors
from components.settings.sections import (
    HarborSettings,
    ImageRewriteSettings,
    ProxyProjectSettings,
    ReplicationSettings,
    StrictModel,
    TlsSettings,
    UpstreamEntry,
    UpstreamSettings,
)
from components.settings.types import Flag
from components.settings.upstream_checks import upstream_problems

NAMESPACE = "harbor-cache"
"""The Pulumi config namespace of every setting (`harbor-cache:<key>`)."""


class Settings(DerivedValues, StrictModel):
    """The whole stack's settings, validated; derived values (`node_endpoint`, `image_prefix`, ...) as properties."""

    production: Flag = False
    kubeconfig: str | None = Field(None, min_length=1)
    harbor: HarborSettings
    tls: TlsSettings = TlsSettings()
    upstream: UpstreamSettings | None = None
    upstreams: list[UpstreamEntry] = Field(default_factory=list)
    proxy_project: ProxyProjectSettings = Field(ProxyProjectSettings(), alias="proxyProject")
    replication: ReplicationSettings = ReplicationSettings()
    nodes: NodesSettings = NodesSettings(transport="none")
    image_rewrite: ImageRewriteSettings = Field(ImageRewriteSettings(), alias="imageRewrite")
    prewarm: PrewarmSettings = PrewarmSettings()

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        problems = cross_section_problems(self)
        if problems:
            # One line per problem, each starting with its `harbor-cache:<key>` (loading.py splits them).
            raise ValueError("\n".join(problems))
        return self


def _key(key: str) -> str:
    return f"{NAMESPACE}:{key}"


def cross_section_problems(settings: Settings) -> list[str]:
    """The problems no single section can see, each naming its stack setting."""
    problems = []
    if settings.production and not settings.https:
        problems.append(f"{_key('harbor.tlsMode')} is http on a stack marked production: use https "
                        "(cert-manager) or set production: false")
    if settings.upstream is None and not settings.upstreams:
        return [f"{_key('upstream')} must be set (or upstreams, a list): the registry Harbor pulls from, see "
                "README's settings reference and Pulumi.dev.yaml for an example"]
    replication, proxy = settings.replication, settings.proxy_project
    if replication.enabled and settings.upstream is None:
        problems.append(f"{_key('replication.enabled')} needs {_key('upstream')}: replication copies from that "
                        "registry; set upstream, or turn replication off")
    if replication.enabled and proxy.enabled and replication.project == proxy.name and settings.upstream:
        problems.append(f"{_key('replication.project')} '{replication.project}' is the proxy-cache project: "
                        "Harbor silently skips replication into proxy-cache projects (DOMAIN.md S7); use a "
                        "separate plain project such as 'mif-replica'")
    if not proxy.enabled and not replication.enabled and settings.upstream:
        problems.append(f"{_key('proxyProject.enabled')} and replication.enabled are both false: enable at "
                        "least one, or there is nothing for nodes to pull from")
    if replication.enabled and settings.upstream:
        policy = f"{replication.project}-from-{settings.upstream.name}"
        if len(policy) > rules.POLICY_NAME_MAX:
            problems.append(f"{_key('replication.project')}: the replication policy is named '<project>-from-"
                            f"<upstream.name>', here {len(policy)} characters, and Harbor takes at most "
                            f"{rules.POLICY_NAME_MAX}: shorten replication.project or upstream.name")
    problems += upstream_problems(settings)
    problems += prewarm_problems(settings.prewarm, settings.upstream_list)
    problems += _endpoint_problems(settings)
    if settings.image_rewrite.enabled:
        problems += _rewrite_problems(settings)
    return problems


def _endpoint_problems(settings: Settings) -> list[str]:
    # The node renderer gives each registry host one certs.d directory: Harbor's cannot be an upstream's too.
    problems = []
    endpoint = settings.node_endpoint
    for upstream in settings.upstream_list:
        for index, host in enumerate(upstream.hosts):
            if host == endpoint:
                problems.append(f"{_key(upstream.host_key(index))}: {host!r} is Harbor's own endpoint (harbor.expose "
                                "/ harbor.url): nodes cannot send a registry's pulls to Harbor and Harbor's own "
                                "pulls to it too")
    return problems


def _rewrite_problems(settings: Settings) -> list[str]:
    # Rewrite has no fallback to the upstream (DOMAIN.md S13): nodes must resolve and trust Harbor.
    key = _key("imageRewrite.enabled")
    nodes_configured = settings.nodes.transport != "none"
    problems = rewrite_settings_errors(
        settings.image_prefix, scheme="https" if settings.https else "http",
        private_ca=settings.https and not settings.tls.cluster_issuer, nodes_trust_harbor_ca=nodes_configured,
        nodes_allow_plain_http=nodes_configured, config_key=key)
    if not nodes_configured:
        problems.append(f"{key} needs nodes.transport ssh or daemonset: rewritten images are pulled from Harbor "
                        "only, so every node needs the Harbor hosts.toml" + (", CA" if settings.https else "")
                        + " and, for clusterIP, the /etc/hosts entry")
    return problems
