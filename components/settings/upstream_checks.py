"""Checks across the upstreams: unique names, projects and hosts, and adapter types the chart permits.

Each problem names the setting it is about (`harbor-cache:upstreams[1].type`), what is wrong and how to fix it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from components import rules

if TYPE_CHECKING:
    from components.settings.model import Settings

NAMESPACE = "harbor-cache"


def _key(key: str) -> str:
    return f"{NAMESPACE}:{key}"


def permitted_types(settings: Settings) -> tuple[frozenset[str], str]:
    """The types the Harbor in use permits for a proxy cache, and how to name where that came from."""
    chart = settings.harbor.chart
    if not settings.harbor.install:
        return rules.CHART_PROXY_CACHE_TYPES, "the Harbor charts (an existing Harbor may set its own list)"
    return rules.proxy_cache_types(chart.path), f"Harbor chart {chart.version}"


def upstream_problems(settings: Settings) -> list[str]:
    """Duplicate names, projects and hosts across `upstream` and `upstreams`, and types the chart refuses."""
    problems: list[str] = []
    names: dict[str, str] = {}
    projects: dict[str, str] = {}
    if settings.replication.enabled:
        projects[settings.replication.project] = "replication.project"
    hosts: dict[str, str] = {}
    permitted, chart = permitted_types(settings)
    for upstream in settings.upstream_list:
        key, up = upstream.key, upstream.settings
        if up.name in names:
            problems.append(f"{_key(key + '.name')} {up.name!r} is also the name of {names[up.name]}: Harbor "
                            "registry names are unique; give each upstream its own name")
        names.setdefault(up.name, key)
        if upstream.project is not None:
            where = "proxyProject.name" if key == "upstream" else f"{key}.project"
            if upstream.project in projects:
                problems.append(f"{_key(where)} {upstream.project!r} is also {projects[upstream.project]}: each "
                                "upstream needs its own proxy-cache project (a project proxies one registry)")
            projects.setdefault(upstream.project, where)
            if (problem := rules.proxy_cache_type_problem(up.type, permitted, chart)) is not None:
                problems.append(f"{_key(key + '.type')} {problem}")
        for index, host in enumerate(upstream.hosts):
            if host in hosts:
                problems.append(f"{_key(upstream.host_key(index))}: {host!r} is already mirrored by {hosts[host]}: "
                                "nodes have one hosts.toml per registry host; remove it from one of them")
            hosts.setdefault(host, upstream.key)
    return problems
