"""Warnings: settings that pass, but whose receiver may still refuse or ignore them, with the reason.

`settings_warnings` runs wherever the settings are loaded (the program logs each with pulumi.log.warn, the
check command prints them); `offline_warnings` only in the check command, about what only the deploying
machine or the nodes can know (files on the machine that runs pulumi, names only their resolvers answer).
"""

from __future__ import annotations

from pathlib import Path

from components import rules
from components.settings.base import camel_case
from components.settings.model import NAMESPACE, Settings

NODE_PORT_RANGE = range(30000, 32768)  # Kubernetes' default --service-node-port-range


def _key(key: str) -> str:
    return f"{NAMESPACE}:{key}"


def settings_warnings(settings: Settings) -> list[str]:
    """Every warning about `settings`, each starting with the key it is about."""
    return [*_harbor_warnings(settings), *_tls_warnings(settings), *_project_warnings(settings),
            *_node_warnings(settings), *_upstream_warnings(settings)]


def _upstream_warnings(settings: Settings) -> list[str]:
    # Docker Hub limits pulls per client address, anonymous ones the most: through the cache the whole cluster
    # pulls each image once, as Harbor; with an account Harbor gets that account's larger allowance.
    return [f"{_key(u.key + '.accessKeyId')} is empty: Harbor pulls from Docker Hub anonymously, which Docker Hub "
            "rate-limits the most (per address; every cache miss counts); set accessKeyId (a Docker Hub user) and "
            f"its token in {u.settings.secret_setting} for the account's larger allowance"
            for u in settings.upstream_list
            if u.settings.type == rules.DOCKER_HUB_TYPE and not u.settings.access_key_id] + _single_only(settings)


def _single_only(settings: Settings) -> list[str]:
    # proxyProject.name and .enabled belong to `upstream`; its other options apply to every proxy-cache project.
    if settings.upstream is not None or not settings.upstreams:
        return []
    given = settings.proxy_project.model_fields_set & {"name", "enabled"}
    return [f"{_key('proxyProject.' + name)} is not used without upstream: each upstreams entry names its own "
            "project (its other options, public, retentionDays, ..., apply to every proxy-cache project)"
            for name in sorted(given)]


def _harbor_warnings(settings: Settings) -> list[str]:
    harbor, warnings = settings.harbor, []
    expose = harbor.expose
    if harbor.install and expose is not None and expose.type == "nodePort":
        for scheme in ("http", "https"):
            port = getattr(expose.node_ports, scheme)
            if port not in NODE_PORT_RANGE:
                warnings.append(f"{_key(f'harbor.expose.nodePorts.{scheme}')}: {port} is outside Kubernetes' default "
                                "NodePort range 30000-32767: the API server refuses it unless its "
                                "--service-node-port-range includes it")
    for key in sorted(harbor.values):
        if key in rules.PROGRAM_VALUES:
            warnings.append(f"{_key(f'harbor.values.{key}')} overrides what the program sets from "
                            f"{rules.PROGRAM_VALUES[key]}: use that setting instead")
        elif key not in rules.HARBOR_CHART_VALUE_KEYS:
            warnings.append(f"{_key(f'harbor.values.{key}')} is not a value the Harbor chart reads: Helm ignores it "
                            "(a typo?)")
    warnings += [f"{_key('harbor.proxy.noProxy')}: {w}" for w in rules.no_proxy_warnings(harbor.proxy.no_proxy)]
    storage = harbor.ha.object_storage
    if storage is not None:
        warnings += [f"{_key(f'harbor.ha.objectStorage.settings.{key}')} {w}"
                     for key, w in rules.object_storage_warnings(storage.type, storage.settings)]
    if harbor.ca_pem and harbor.install and settings.https:
        warnings.append(f"{_key('harbor.caPem')} is not used when the program installs Harbor: the CA is the one "
                        "cert-manager issues (an output)")
    elif harbor.ca_pem and not settings.https:
        warnings.append(f"{_key('harbor.caPem')} is not used with tlsMode http")
    if harbor.skip_await and settings.production:
        warnings.append(f"{_key('harbor.skipAwait')} is true on a production stack: `up` succeeds before Harbor's "
                        "pods run, and the first Harbor API call then waits for it")
    return warnings


def _tls_warnings(settings: Settings) -> list[str]:
    tls = settings.tls
    given = sorted(tls.model_fields_set - {"install_cert_manager", "cert_manager_chart"})
    if not settings.https or not settings.harbor.install:
        why = "with harbor.tlsMode http" if not settings.https else "when harbor.install is false"
        return [f"{_key('tls.' + camel_case(name))} is not used {why}" for name in given]
    warnings = []
    ca, leaf = rules.go_duration_seconds(tls.ca_duration), rules.go_duration_seconds(tls.leaf_duration)
    if not tls.cluster_issuer and ca is not None and leaf is not None and leaf > ca:
        warnings.append(f"{_key('tls.leafDuration')} {tls.leaf_duration} is longer than tls.caDuration "
                        f"{tls.ca_duration}: the leaf would outlive the CA that signs it")
    if tls.cluster_issuer:
        warnings += [f"{_key('tls.' + camel_case(name))} is not used with tls.clusterIssuer (your issuer's CA signs)"
                     for name in given if name in ("ca_duration", "ca_renew_before")]
    return warnings


def _project_warnings(settings: Settings) -> list[str]:
    warnings = []
    if settings.proxy_project.enabled and not settings.proxy_project.public and settings.nodes.transport != "none":
        warnings.append(f"{_key('proxyProject.public')} is false: containerd pulls through the mirror anonymously, "
                        "so nodes get 401 from a private project and fall back to the upstream every time")
    if settings.replication.enabled and not settings.replication.public and settings.nodes.transport != "none":
        warnings.append(f"{_key('replication.public')} is false: nodes pull anonymously and cannot read a private "
                        "project")
    return warnings


def _node_warnings(settings: Settings) -> list[str]:
    nodes, warnings = settings.nodes, []
    if nodes.transport not in ("ssh", "command"):
        unused = [k for k in ("hosts", "bastion") if getattr(nodes, k)]
        warnings += [f"{_key('nodes.' + k)} is not used with nodes.transport {nodes.transport}" for k in unused]
    c = nodes.containerd
    if bool(c.restart_command) != bool(c.health_command):
        given, missing = ("restartCommand", "healthCommand") if c.restart_command else ("healthCommand",
                                                                                        "restartCommand")
        warnings.append(f"{_key('nodes.containerd.' + given)} is set without {missing}: on a node without systemd "
                        "the script needs both (else it cannot restart containerd or tell it came back, and rolls "
                        "config.toml back)")
    if nodes.verify_image and rules.image_registry(nodes.verify_image) not in settings.upstream_hosts:
        warnings.append(f"{_key('nodes.verifyImage')} '{nodes.verify_image}' is not on the upstream "
                        f"({', '.join(settings.upstream_hosts)}): its pull does not go through Harbor, so it proves "
                        "nothing about the cache")
    return warnings


def offline_warnings(settings: Settings, stack_dir: Path) -> list[str]:
    """What only the machine that runs pulumi, or the nodes, can know (the check command prints these)."""
    warnings = []
    if settings.kubeconfig and "\n" not in settings.kubeconfig:
        path = Path(settings.kubeconfig).expanduser()
        if not path.is_absolute():
            path = stack_dir / path
        if not path.is_file():
            warnings.append(f"{_key('kubeconfig')}: {settings.kubeconfig!r} is not a file on this machine: it must "
                            "exist where pulumi runs")
    for key, chart in (("harbor.chart", settings.harbor.chart), ("tls.certManagerChart",
                                                                 settings.tls.cert_manager_chart),
                       ("imageRewrite.kyvernoChart", settings.image_rewrite.kyverno_chart)):
        if chart.path and not (stack_dir / chart.path / "Chart.yaml").is_file():
            warnings.append(f"{_key(key + '.path')}: no Chart.yaml in {chart.path!r} (relative to the stack file): "
                            "it must exist where pulumi runs")
    names = [(key, host) for key, host in _node_side_hosts(settings) if host and not rules.is_ip(host)]
    warnings += [f"{_key(key)}: '{host}' is a DNS name, which this check does not resolve: every node must resolve "
                 "it (containerd uses the node's resolver)" for key, host in names]
    return warnings


def _node_side_hosts(settings: Settings) -> list[tuple[str, str | None]]:
    expose = settings.harbor.expose
    if settings.harbor.url or expose is None or expose.type == "clusterIP":
        return []  # an existing Harbor's name is the user's; clusterIP's name goes into /etc/hosts
    if expose.type == "nodePort":
        return [("harbor.expose.nodeAddress", expose.node_address)]
    return [("harbor.expose.loadBalancerHost", expose.load_balancer_host)]
