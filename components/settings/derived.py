"""Values derived once from the settings: Harbor's endpoints and URLs, the cache projects, the image prefix.

`DerivedValues` is mixed into `Settings` (model.py), so callers read `settings.node_endpoint` and the like; the
rules of how each value follows from the stack file live here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from components.rules import bracket
from components.settings.upstreams import Upstream, resolve

if TYPE_CHECKING:
    from components.settings.sections import (
        HarborSettings,
        ProxyProjectSettings,
        ReplicationSettings,
    )
    from components.settings.upstreams import UpstreamEntry, UpstreamSettings


class DerivedValues:
    """The derived values of a `Settings`; the sections below are the Settings fields they read."""

    if TYPE_CHECKING:
        harbor: HarborSettings
        upstream: UpstreamSettings | None
        upstreams: list[UpstreamEntry]
        proxy_project: ProxyProjectSettings
        replication: ReplicationSettings

    @property
    def https(self) -> bool:
        """Whether Harbor is served over TLS."""
        return self.harbor.tls_mode == "https"

    @property
    def scheme(self) -> str:
        """`https` or `http`, as Harbor is served."""
        return "https" if self.https else "http"

    @property
    def node_endpoint(self) -> str:
        """host[:port] that nodes (containerd) use to reach Harbor."""
        if self.harbor.url:
            return urlsplit(self.harbor.url).netloc
        expose = self.harbor.expose
        assert expose is not None  # HarborSettings requires expose when there is no url
        if expose.type == "nodePort":
            port = expose.node_ports.https if self.https else expose.node_ports.http
            return f"{bracket(expose.node_address or '')}:{port}"
        if expose.type == "loadBalancer":
            return bracket(expose.load_balancer_host or "")
        return expose.hostname

    @property
    def node_host(self) -> str:
        """The node endpoint without its port (for certificate SANs)."""
        return urlsplit(f"//{self.node_endpoint}").hostname or ""

    @property
    def external_url(self) -> str:
        """Harbor's externalURL: its scheme must be the one clients use (token realm, DOMAIN.md S6)."""
        return self.harbor.url or f"{self.scheme}://{self.node_endpoint}"

    @property
    def api_url(self) -> str:
        """Where `pulumi` itself calls Harbor's API (explicit apiUrl, else the external URL)."""
        return (self.harbor.api_url or self.external_url).rstrip("/")

    @property
    def upstream_list(self) -> list[Upstream]:
        """Every upstream, `upstream` first, then `upstreams` in order (settings/upstreams.py)."""
        return resolve(self.upstream, self.proxy_project.enabled, self.proxy_project.name, self.upstreams)

    @property
    def cache_projects(self) -> list[str]:
        """The Harbor projects that hold images for the cluster: the proxy projects first, then the replica."""
        names = [u.project for u in self.upstream_list if u.project is not None]
        if self.replication.enabled:
            names.append(self.replication.project)
        return names

    @property
    def image_prefix(self) -> str:
        """What replaces the (first) upstream's host in an image reference (`<harbor>/<project>`)."""
        return f"{self.node_endpoint}/{self.cache_projects[0]}"

    def project_of(self, upstream: Upstream) -> str:
        """The project an upstream's pulls go through: its proxy-cache project, else the replicated one."""
        return upstream.project or self.replication.project

    def replica_first_of(self, upstream: Upstream) -> str | None:
        """The replicated project nodes ask before `upstream`'s proxy-cache project (`replication.nodesPullFirst`;
        replication fills it from `upstream` only), else None."""
        r = self.replication
        first = r.enabled and r.nodes_pull_first and upstream.key == "upstream" and upstream.project is not None
        return r.project if first else None

    @property
    def image_prefixes(self) -> dict[str, str]:
        """Every upstream host -> the prefix that replaces it in an image reference (`<harbor>/<project>`)."""
        return {host: f"{self.node_endpoint}/{self.project_of(u)}" for u in self.upstream_list for host in u.hosts}

    @property
    def upstream_servers(self) -> dict[str, str | None]:
        """Each mirrored host's fallback `server` in its hosts.toml (UpstreamSettings.servers says which)."""
        return {host: server for u in self.upstream_list for host, server in u.settings.servers().items()}

    @property
    def upstream_hosts(self) -> list[str]:
        """The registry hosts whose pulls go through Harbor: every upstream's own host and its mirror hosts."""
        return [host for u in self.upstream_list for host in u.hosts]
