"""The upstream registries: `upstream` (one registry, the original form) and `upstreams` (a list, each with its own
proxy-cache project). `Upstream` is the resolved view both become, which the program and the renderers read.

Each upstream is a Harbor registry endpoint of an adapter type the chart permits for a proxy cache
(components/rules/registries.py), a proxy-cache project, a hosts.toml per registry host on every node and, with
image rewrite, a rewrite rule. `upstream` keeps the Pulumi names it always had (`upstream`, `upstream-registry`,
`upstream-proxy`), so a stack written before `upstreams` existed upgrades without replacing anything; each list
entry gets its own names (`upstream-<name>`), so adding or removing one touches only its own resources.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from components import rules
from components.settings.base import Section, at, report
from components.settings.types import Flag, ProjectName, RegistryHost, RegistryName

LEGACY_RESOURCE_NAME = "upstream"
"""The Pulumi name of `upstream`'s resources since the first release (never change it: existing stacks)."""


class UpstreamSettings(Section):
    """A remote registry Harbor pulls from (Amazon ECR in the reference setup, Docker Hub, ghcr.io, quay.io...)."""

    name: RegistryName = "upstream-ecr"
    type: str = "aws-ecr"
    url: str = ""
    access_key_id: str = ""
    ambient_credentials: Flag = False
    insecure: Flag = False
    description: str = "managed by harbor-cache"
    mirror_hosts: list[RegistryHost] = Field(default_factory=list)

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in rules.HARBOR_ADAPTER_TYPES:
            raise ValueError(f"{value!r} is not a Harbor registry type: use one of "
                             f"{', '.join(sorted(rules.CHART_PROXY_CACHE_TYPES))} (docker-registry for any "
                             "registry that speaks the registry API)")
        return value

    @model_validator(mode="after")
    def _url(self) -> UpstreamSettings:
        report(self._url_problems() + self._credential_problems() + self._mirror_problems())
        return self

    @property
    def secret_setting(self) -> str:
        """The secret setting that holds this upstream's secret key or password."""
        return "upstreamSecretKey"

    def _url_problems(self) -> list[str]:
        if self.type == rules.DOCKER_HUB_TYPE:
            if self.url and self.url.rstrip("/") != rules.DOCKER_HUB_URL:
                return [at("url", f"'{self.url}': Harbor's docker-hub adapter talks to Docker Hub whatever the "
                                  f"URL; leave url out ({rules.DOCKER_HUB_URL}), or use type docker-registry "
                                  "for another registry that mirrors Docker Hub")]
            return []
        if not self.url:
            return [at("url", "must be set: the registry's URL, e.g. https://ghcr.io, or for Amazon ECR "
                              f"{rules.ECR_URL_HINT}")]
        if (problem := rules.http_url_problem(self.url)) is not None:
            return [at("url", f"{problem} (a registry host such as "
                              "https://255250787067.dkr.ecr.ap-northeast-2.amazonaws.com)")]
        if urlsplit(self.url).scheme != "https" and not self.insecure:
            return [at("url", f"'{self.url}' must be https:// (plain http only with insecure: true)")]
        if self.type == "aws-ecr" and not rules.is_ecr_url(self.url):
            return [at("url", f"'{self.url}' is not an Amazon ECR registry endpoint: use {rules.ECR_URL_HINT} "
                              "(keeps cross-account pulls working)")]
        return []

    def _credential_problems(self) -> list[str]:
        # The Registry provider's check refuses the same combinations (components/harbor_api/registry.py).
        if self.ambient_credentials and self.type != "aws-ecr":
            return [at("ambientCredentials", f"applies only to type aws-ecr (IRSA), not {self.type!r}")]
        if self.ambient_credentials and self.access_key_id:
            return [at("accessKeyId", "must be empty with ambientCredentials: true (IRSA): Harbor uses its "
                                      "pod's AWS identity instead of keys")]
        if self.type == "aws-ecr" and not self.access_key_id and not self.ambient_credentials:
            return [at("accessKeyId", f"is empty: set it (and the secret {self.secret_setting}), or set "
                                      "ambientCredentials: true to let Harbor use its pod's AWS identity (IRSA)")]
        if self.type == "aws-ecr" and (problem := rules.aws_access_key_id_problem(self.access_key_id or "x" * 16)):
            return [at("accessKeyId", problem)]
        return []

    def _mirror_problems(self) -> list[str]:
        problems, seen = [], {self.host}
        for index, host in enumerate(self.mirror_hosts):
            if host in seen:
                problems.append(at(f"mirrorHosts[{index}]", f"{host!r} is listed twice (or is the upstream "
                                                            "itself, which is always mirrored)"))
            seen.add(host)
        return problems

    @property
    def registry_url(self) -> str:
        """The URL Harbor's registry endpoint gets (Docker Hub's own when the setting leaves it out)."""
        if self.type == rules.DOCKER_HUB_TYPE:
            return rules.DOCKER_HUB_URL
        return self.url.rstrip("/")

    @property
    def host(self) -> str:
        """host[:port] of the upstream, as image references name it (docker.io for Docker Hub)."""
        return rules.upstream_host(self.type, self.url)

    @property
    def scheme(self) -> str:
        """http or https: how the upstream is reached (and the scheme of every mirror host's fallback)."""
        return urlsplit(self.registry_url).scheme

    @property
    def hosts(self) -> list[str]:
        """Every registry host whose pulls go through this upstream's project: its own, then the mirror hosts."""
        return [self.host, *[h for h in self.mirror_hosts if h != self.host]]

    def servers(self) -> dict[str, str | None]:
        """Each host's fallback `server` in its hosts.toml: the upstream's registry API for its own host
        (registry-1.docker.io for Docker Hub); for a mirror host the upstream's scheme (None: the renderer's
        https://<host>, or registry-1.docker.io for docker.io), so an http upstream's mirror hosts fall back over
        http too."""
        scheme = self.scheme
        return {host: (rules.upstream_server(self.type, self.registry_url) if host == self.host
                       else None if scheme == "https" else f"{scheme}://{host}")
                for host in self.hosts}


class UpstreamEntry(UpstreamSettings):
    """One element of `upstreams`: a registry and the proxy-cache project that serves it."""

    name: RegistryName
    project: ProjectName

    @property
    def secret_setting(self) -> str:
        return f"upstreamSecrets.{self.name}"


@dataclass(frozen=True)
class Upstream:
    """One upstream as the program builds it, whichever setting it came from.

    key: its setting (`upstream` or `upstreams[1]`), for messages; resource_name: the Pulumi name of its
    HarborUpstream (`upstream` for the original single upstream); project: its proxy-cache project (None when
    `proxyProject.enabled` is false); secret: (secret setting, key inside it or None) for its secret key.
    """

    key: str
    resource_name: str
    settings: UpstreamSettings
    project: str | None
    secret: tuple[str, str | None]

    @property
    def hosts(self) -> list[str]:
        """The registry hosts whose pulls go through this upstream's project."""
        return self.settings.hosts

    def host_key(self, index: int) -> str:
        """The setting that names host number `index` of `hosts` (its url, or one of its mirrorHosts)."""
        host = self.hosts[index]
        if index == 0:
            return f"{self.key}.type" if self.settings.type == rules.DOCKER_HUB_TYPE else f"{self.key}.url"
        return f"{self.key}.mirrorHosts[{self.settings.mirror_hosts.index(host)}]"


def resolve(single: UpstreamSettings | None, proxy_enabled: bool, proxy_name: str,
            entries: list[UpstreamEntry]) -> list[Upstream]:
    """The upstreams of a stack in order: `upstream` first (with `proxyProject.name`), then `upstreams`."""
    found = []
    if single is not None:
        found.append(Upstream("upstream", LEGACY_RESOURCE_NAME, single, proxy_name if proxy_enabled else None,
                              ("upstreamSecretKey", None)))
    for index, entry in enumerate(entries):
        found.append(Upstream(f"upstreams[{index}]", f"{LEGACY_RESOURCE_NAME}-{entry.name}", entry, entry.project,
                              ("upstreamSecrets", entry.name)))
    return found
