"""Values derived once from the settings: Harbor's endpoints and URLs, the cache projects, the image prefix.

`DerivedValues` is mixed into `Settings` (model.py), so callers read `settings.node_endpoint` and the like; the
rules of how each value follows from the stack file live here and nowhere else.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from components.rules import bracket

if TYPE_CHECKING:
    from components.settings.sections import (
        HarborSettings,
        ProxyProjectSettings,
        ReplicationSettings,
        UpstreamSettings,
    )


class DerivedValues:
    """The derived values of a `Settings`; the sections below are the Settings fields they read."""

    if TYPE_CHECKING:
        harbor: HarborSettings
        upstream: UpstreamSettings
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
    def cache_projects(self) -> list[str]:
        """The Harbor projects that hold images for the cluster: the proxy project first."""
        names = []
        if self.proxy_project.enabled:
            names.append(self.proxy_project.name)
        if self.replication.enabled:
            names.append(self.replication.project)
        return names

    @property
    def image_prefix(self) -> str:
        """What replaces the upstream host in an image reference (`<harbor>/<project>`)."""
        return f"{self.node_endpoint}/{self.cache_projects[0]}"

    @property
    def upstream_servers(self) -> dict[str, str | None]:
        """Each mirrored host's fallback `server` in its hosts.toml: the upstream's own URL for the upstream, and
        for a mirror host the same scheme as the upstream (None: the renderer's https://<host>, or
        registry-1.docker.io for docker.io), so an http upstream's mirror hosts fall back over http too."""
        scheme = urlsplit(self.upstream.url).scheme
        return {host: (self.upstream.url.rstrip("/") if host == self.upstream.host
                       else None if scheme == "https" else f"{scheme}://{host}")
                for host in self.upstream_hosts}

    @property
    def upstream_hosts(self) -> list[str]:
        """The registry hosts whose pulls go through Harbor: the upstream plus any listed mirror hosts."""
        return [self.upstream.host, *[h for h in self.upstream.mirror_hosts if h != self.upstream.host]]
