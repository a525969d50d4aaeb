"""Finding containerd `hosts.toml` files and CA certificates inside any resource's properties.

Node configuration reaches the nodes through different resources (the SSH `ContainerdConfig` dynamic resource
with its `files`, the Secret holding the node script for the DaemonSet transport, ...), each with its own
property layout, so the policies look for the file contents themselves: any string (or base64 inside one)
that parses as TOML and has a `[host."<url>"]` table or a top-level `server` is a hosts.toml.
"""

from __future__ import annotations

import base64
import binascii
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from policy.props import dotted, walk

CERTIFICATE_PEM = "-----BEGIN CERTIFICATE-----"
_BASE64 = re.compile(r"^[A-Za-z0-9+/\r\n]+={0,2}$")
# containerd appends `/v2` to a host path unless it already ends in `/v2`
# (core/remotes/docker/config/hosts.go).
_PATHS_WITHOUT_OVERRIDE = frozenset({"", "/", "/v2", "/v2/"})


@dataclass(frozen=True)
class MirrorHost:
    """One `[host."<url>"]` table of a hosts.toml."""

    url: str
    override_path: bool
    skip_verify: bool
    has_ca: bool

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme

    @property
    def path(self) -> str:
        return urlsplit(self.url).path

    @property
    def needs_override_path(self) -> bool:
        """True when containerd would append another `/v2` to this URL's path without override_path."""
        return self.path not in _PATHS_WITHOUT_OVERRIDE


@dataclass(frozen=True)
class HostsFile:
    """A parsed hosts.toml and where it was found (a property path)."""

    where: str
    server: str | None
    server_skip_verify: bool
    server_has_ca: bool
    hosts: tuple[MirrorHost, ...]


def _decoded(text: str) -> str | None:
    """`text` decoded from base64 when it is base64 of UTF-8 text, else None."""
    if len(text) < 16 or not _BASE64.match(text):
        return None
    try:
        return base64.b64decode(text, validate=False).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _texts(props: Any) -> Iterator[tuple[str, str]]:
    """Every string in `props` with its property path, plus what base64 inside it decodes to.

    Decoded are a whole base64 string (a Secret's `data`) and `<file>\t<base64>` lines (the payload the node
    script carries in the DaemonSet transport's Secret).
    """
    for path, value in walk(props):
        if not isinstance(value, str):
            continue
        where = dotted(path)
        yield where, value
        decoded = _decoded(value)
        if decoded is not None:
            yield where, decoded
        for line in value.splitlines() if "\t" in value else ():
            name, _, token = line.partition("\t")
            decoded = _decoded(token.strip()) if token else None
            if decoded is not None:
                yield f"{where}: {name}", decoded


def _parse(where: str, text: str) -> HostsFile | None:
    if "server" not in text and "[host." not in text:
        return None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    hosts = doc.get("host")
    if not isinstance(hosts, dict) and not isinstance(doc.get("server"), str):
        return None
    mirrors = tuple(
        MirrorHost(url=url, override_path=table.get("override_path") is True,
                   skip_verify=table.get("skip_verify") is True, has_ca=bool(table.get("ca")))
        for url, table in (hosts or {}).items() if isinstance(table, dict))
    server = doc.get("server")
    return HostsFile(where=where, server=server if isinstance(server, str) else None,
                     server_skip_verify=doc.get("skip_verify") is True, server_has_ca=bool(doc.get("ca")),
                     hosts=mirrors)


def hosts_files(props: Any) -> list[HostsFile]:
    """Every hosts.toml carried by a resource (plain props from `policy.props.plain`)."""
    found = (_parse(where, text) for where, text in _texts(props))
    return [hosts for hosts in found if hosts is not None]


def carries_ca_certificate(props: Any) -> bool:
    """True when the resource carries a PEM certificate (the Harbor CA written to the nodes)."""
    return any(CERTIFICATE_PEM in text for _, text in _texts(props))


def mirror_projects(files: list[HostsFile]) -> set[str]:
    """Harbor projects that mirrors point at: `<project>` of every `.../v2/<project>` host URL."""
    projects = set()
    for hosts in files:
        for host in hosts.hosts:
            parts = [part for part in host.path.split("/") if part]
            if len(parts) >= 2 and parts[0] == "v2":
                projects.add(parts[1])
    return projects
