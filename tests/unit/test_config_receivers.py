"""Every setting refuses a bad value with its receiver's rule, naming its key (docs/settings.md points here).

Each row: the changes to a valid stack (dotted keys), the key the error must start with, and a phrase of the
message. The rows are named by the setting they pin, so docs/settings.md can cite `test_refused[<id>]`.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from components.settings import SettingsError, validate

ECR = "https://255250787067.dkr.ecr.ap-northeast-2.amazonaws.com"
ALL_SECRETS = {"adminPassword": True, "upstreamSecretKey": True, "sshPrivateKey": True}
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"


def base() -> dict[str, Any]:
    """A valid stack: HTTP, NodePort, ECR upstream, two SSH nodes."""
    return {
        "harbor": {"tlsMode": "http", "expose": {"type": "nodePort", "nodeAddress": "10.0.0.11"}},
        "upstream": {"name": "moreh-ecr", "url": ECR, "accessKeyId": "AKIAIOSFODNN7EXAMPLE"},
        "proxyProject": {"name": "mif"},
        "nodes": {"hosts": [{"name": "n1", "address": "10.0.0.11"}, {"name": "n2", "address": "10.0.0.12"}]},
    }


def with_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """base() with each dotted key set (a value of DELETE removes the key)."""
    raw = base()
    for dotted, value in changes.items():
        *parents, leaf = dotted.split(".")
        node = raw
        for part in parents:
            node = node.setdefault(part, {})
        if value is DELETE:
            node.pop(leaf, None)
        else:
            node[leaf] = copy.deepcopy(value)
    return raw


DELETE = object()
HTTPS = {"harbor.tlsMode": "https"}
EXISTING = {"harbor.install": False, "harbor.expose": DELETE, "harbor.url": "http://harbor.example"}
HUB = {"name": "hub", "type": "docker-hub", "project": "hub"}
QUAY = {"name": "quay", "type": "docker-registry", "url": "https://quay.io", "project": "quay"}
DOCKER = {"upstream.type": "docker-registry", "upstream.url": "https://registry.example",
          "upstream.accessKeyId": "reader"}
HA = {"harbor.ha": {"replicas": 2, "externalDatabase": {"host": "db", "existingSecret": "db"},
                    "externalRedis": {"addr": "redis:6379"}, "objectStorage": {"settings": {"region": "x",
                                                                                            "bucket": "y"}}}}
CLUSTER_IP = {"harbor.expose": {"type": "clusterIP", "clusterIP": "10.96.0.50"}}


def row(key: str, changes: dict[str, Any], needle: str, tag: str = "") -> Any:
    """A row: its id is the key without list indexes (plus a tag when a key has several rows)."""
    return pytest.param(changes, f"harbor-cache:{key}", needle,
                        id=re.sub(r"\[\d+\]", "", key) + (f"-{tag}" if tag else ""))


ROWS = [
    row("production", {"production": "yes"}, "must be true or false, got 'yes'"),
    row("kubeconfig", {"kubeconfig": ""}, "must have at least 1 character"),
    # harbor: the chart, Helm, Kubernetes
    row("harbor.install", {"harbor.install": 1}, "must be true or false, got 1"),
    row("harbor.namespace", {"harbor.namespace": "Harbor"}, "is not a DNS label"),
    row("harbor.releaseName", {"harbor.releaseName": "Harbor_1"}, "is not a Helm release name"),
    row("harbor.releaseName", {"harbor.releaseName": "1harbor"}, "a Service name has no dots and starts with a letter",
        "service"),
    row("harbor.releaseName", {"harbor.releaseName": "x" * 40}, "too long for the Harbor chart", "long"),
    row("harbor.chart.name", {"harbor.chart.name": "goharbor/harbor"}, "is not a chart name"),
    row("harbor.chart.version", {"harbor.chart.version": "latest"}, "not a pinned chart version"),
    row("harbor.chart.version", {"harbor.chart.version": 1.18}, "must be text: quote it in the stack file", "float"),
    row("harbor.chart.repository", {"harbor.chart.repository": "helm.goharbor.io"}, "must be a chart repository URL"),
    row("harbor.tlsMode", {"harbor.tlsMode": "tls"}, "must be 'http' or 'https', got 'tls'"),
    row("harbor.expose.type", {"harbor.expose.type": "ingress"}, "must be 'nodePort', 'loadBalancer' or 'clusterIP'"),
    row("harbor.expose.nodeAddress", {"harbor.expose.nodeAddress": "10.0.0.11:30002"}, "without a port"),
    row("harbor.expose.nodeAddress", {"harbor.expose.nodeAddress": "fd00::11"}, "IPv6", "ipv6"),
    row("harbor.expose.nodeAddress", {"harbor.expose.nodeAddress": DELETE}, "is required with type nodePort",
        "missing"),
    row("harbor.expose.nodePorts.http", {"harbor.expose.nodePorts": {"http": 70000}}, "70000 is not a port"),
    row("harbor.expose.nodePorts.https", {"harbor.expose.nodePorts": {"http": 30003}},
        "also the http nodePort: Kubernetes refuses"),
    row("harbor.expose.loadBalancerHost", {"harbor.expose": {"type": "loadBalancer", "loadBalancerHost": "https://lb"}},
        "without scheme or path"),
    row("harbor.expose.clusterIP", {"harbor.expose": {"type": "clusterIP", "clusterIP": "10.96.0.300"}},
        "is not an IP address"),
    row("harbor.expose.hostname", {**CLUSTER_IP, "harbor.expose.hostname": "10.96.0.51"},
        "with type clusterIP it is the name /etc/hosts maps"),
    row("harbor.storage.storageClass", {"harbor.storage": {"storageClass": "Fast_SSD"}}, "storage class"),
    row("harbor.storage.registrySize", {"harbor.storage": {"registrySize": "100GB"}},
        "not a Kubernetes quantity (no B: write 100G"),
    row("harbor.storage.registrySize", {"harbor.storage": {"registrySize": "lots"}}, "not a Kubernetes quantity",
        "lots"),
    row("harbor.storage.jobLogSize", {"harbor.storage": {"jobLogSize": "0"}}, "must be greater than zero"),
    row("harbor.storage.databaseSize", {"harbor.storage": {"databaseSize": 5}}, "must be text"),
    row("harbor.storage.redisSize", {"harbor.storage": {"redisSize": "1gi"}}, "Gi, not gi"),
    row("harbor.storage.trivySize", {"harbor.storage": {"trivySize": "-5Gi"}}, "must be greater than zero"),
    row("harbor.trivy", {"harbor.trivy": "on"}, "must be true or false"),
    row("harbor.proxy.httpProxy", {"harbor.proxy": {"httpProxy": "ftp://proxy:21"}}, "use http://, https:// or socks5"),
    row("harbor.proxy.httpsProxy", {"harbor.proxy": {"httpsProxy": "http://proxy/path"}}, "is not a proxy URL"),
    row("harbor.ha.replicas", {"harbor.ha": {"replicas": 0}}, "must be greater than or equal to 1"),
    row("harbor.ha.replicas", {"harbor.ha": {"replicas": 2}}, "needs externalDatabase, externalRedis and objectStorage",
        "shared"),
    row("harbor.ha.externalDatabase.host", {**HA, "harbor.ha.externalDatabase.host": "db host"},
        "neither an IP address nor a DNS name"),
    row("harbor.ha.externalDatabase.port", {**HA, "harbor.ha.externalDatabase.port": 0}, "0 is not a port"),
    row("harbor.ha.externalDatabase.username", {**HA, "harbor.ha.externalDatabase.username": ""},
        "must have at least 1 character"),
    row("harbor.ha.externalDatabase.coreDatabase", {**HA, "harbor.ha.externalDatabase.coreDatabase": "x" * 64},
        "must have at most 63 characters"),
    row("harbor.ha.externalDatabase.existingSecret", {**HA, "harbor.ha.externalDatabase.existingSecret": "Db_Pass"},
        "not a DNS subdomain name"),
    row("harbor.ha.externalDatabase.sslmode", {**HA, "harbor.ha.externalDatabase.sslmode": "prefer"},
        "must be 'disable', 'require', 'verify-ca' or 'verify-full'"),
    row("harbor.ha.externalRedis.addr", {**HA, "harbor.ha.externalRedis.addr": "redis"}, "must be host:port"),
    row("harbor.ha.externalRedis.existingSecret", {**HA, "harbor.ha.externalRedis.existingSecret": "Redis!"},
        "not a DNS subdomain name"),
    row("harbor.ha.objectStorage.type", {**HA, "harbor.ha.objectStorage.type": "minio"}, "must be 's3', 'gcs'"),
    row("harbor.ha.objectStorage.settings.bucket", {**HA, "harbor.ha.objectStorage.settings": {"region": "x"}},
        "is required for s3 (else the chart's placeholder value is used)"),
    row("harbor.ha.objectStorage.settings.accountkey", {**HA, "harbor.ha.objectStorage": {
        "type": "azure", "settings": {"accountname": "a", "container": "c"}}}, "azure needs its credential"),
    row("harbor.ha.objectStorage.existingSecret", {**HA, "harbor.ha.objectStorage.existingSecret": "S3 keys"},
        "not a DNS subdomain name"),
    row("harbor.values", {"harbor.values": "trivy: on"}, "must be an object"),
    row("harbor.skipAwait", {"harbor.skipAwait": "1"}, "must be true or false, got '1'"),
    row("harbor.timeoutSeconds", {"harbor.timeoutSeconds": 30}, "must be greater than or equal to 60"),
    row("harbor.timeoutSeconds", {"harbor.timeoutSeconds": True}, "must be a whole number, got True", "bool"),
    row("harbor.adminUser", {"harbor.adminUser": "root"}, "has the administrator 'admin'"),
    row("harbor.adminUser", {**EXISTING, "harbor.adminUser": "ci:bot"}, "basic auth cannot carry", "existing"),
    row("harbor.url", {**EXISTING, "harbor.url": "ftp://harbor.example"}, "must start with http:// or https://"),
    row("harbor.url", {**EXISTING, "harbor.url": "http://harbor.example/harbor"}, "must not have a path", "path"),
    row("harbor.url", {**EXISTING, "harbor.url": "https://harbor.example"}, "does not match tlsMode http", "scheme"),
    row("harbor.url", {**EXISTING, "harbor.url": DELETE}, "is required when install is false", "missing"),
    row("harbor.apiUrl", {"harbor.apiUrl": "harbor.local"}, "must start with http:// or https://"),
    row("harbor.apiAccess", {"harbor.apiAccess": "proxy"}, "must be 'direct' or 'kubeProxy'"),
    row("harbor.caPem", {**EXISTING, "harbor.caPem": "MIIB..."}, "is not a PEM certificate"),
    row("harbor.expose", {"harbor.expose": DELETE}, "is required when install is true"),
    # tls: cert-manager
    row("tls.clusterIssuer", {**HTTPS, "tls.clusterIssuer": "My Issuer"}, "not a DNS subdomain name"),
    row("tls.installCertManager", {**HTTPS, "tls.installCertManager": "yes"}, "must be true or false"),
    row("tls.certManagerChart.version", {**HTTPS, "tls.certManagerChart": {"version": "^1.19"}},
        "not a pinned chart version"),
    row("tls.caDuration", {**HTTPS, "tls.caDuration": "10y"}, "is not a Go duration"),
    row("tls.caRenewBefore", {**HTTPS, "tls.caRenewBefore": "1m"},
        "shorter than cert-manager's minimum renewBefore, 5m"),
    row("tls.leafDuration", {**HTTPS, "tls.leafDuration": "30m", "tls.leafRenewBefore": "10m"},
        "shorter than cert-manager's minimum certificate duration, 1h"),
    row("tls.leafRenewBefore", {**HTTPS, "tls.leafRenewBefore": "2160h"}, "is not shorter than the duration 2160h"),
    row("tls.extraDnsNames[1]", {**HTTPS, "tls.extraDnsNames": ["ok.example", "a b.example"]}, "is not a DNS name"),
    row("tls.extraDnsNames[0]", {**HTTPS, "tls.extraDnsNames": ["a.*.example"]}, "not the whole first label",
        "wildcard"),
    row("tls.extraIpAddresses[0]", {**HTTPS, "tls.extraIpAddresses": ["10.0.0.300"]}, "is not an IP address"),
    row("tls.privateKeyAlgorithm", {**HTTPS, "tls.privateKeyAlgorithm": "Ed25519"}, "must be 'RSA' or 'ECDSA'"),
    # upstream: Harbor's registry API, AWS, containerd
    row("upstream.name", {"upstream.name": "x" * 65}, "must be 1 to 64 characters"),
    row("upstream.type", {"upstream.type": "quay"}, "does not permit it for a proxy cache "
        "(PERMITTED_REGISTRY_TYPES_FOR_PROXY_CACHE): use 'docker-registry'"),
    row("upstream.type", {"upstream.type": "nexus"}, "is not a Harbor registry type", "unknown"),
    row("upstream.url", {"upstream.url": ECR.replace("https", "http")},
        "must be https:// (plain http only with insecure"),
    row("upstream.url", {"upstream.url": "https://example.com"}, "is not an Amazon ECR registry endpoint", "ecr"),
    row("upstream.url", {"upstream.url": ECR + "/v2/x"}, "must not have a path", "path"),
    row("upstream.accessKeyId", {"upstream.accessKeyId": "AKIA"}, "is not an AWS access key id"),
    row("upstream.accessKeyId", {"upstream.accessKeyId": ""}, "is empty: set it", "missing"),
    row("upstream.ambientCredentials", {**DOCKER, "upstream.ambientCredentials": True}, "applies only to type aws-ecr"),
    row("upstream.accessKeyId", {"upstream.ambientCredentials": True}, "must be empty with ambientCredentials",
        "ambient"),
    row("upstream.insecure", {"upstream.insecure": "no"}, "must be true or false"),
    row("upstream.description", {"upstream.description": 5}, "must be text"),
    row("upstream.mirrorHosts[0]", {"upstream.mirrorHosts": ["Docker.IO"]}, "is not a registry host"),
    row("upstream.mirrorHosts[1]", {"upstream.mirrorHosts": ["r.example", "r.example"]}, "is listed twice", "twice"),
    row("upstream.mirrorHosts[0]", {"upstream.mirrorHosts": ["10.0.0.11:30002"]}, "is Harbor's own endpoint",
        "harbor"),
    # proxyProject and replication: Harbor's project, quota, retention and replication APIs
    row("proxyProject.enabled", {"proxyProject.enabled": "y"}, "must be true or false"),
    row("proxyProject.name", {"proxyProject.name": "MIF"}, "not a valid Harbor project name"),
    row("proxyProject.public", {"proxyProject.public": 0}, "must be true or false"),
    row("proxyProject.retentionDays", {"proxyProject.retentionDays": 0}, "write `retentionDays: null`"),
    row("proxyProject.retentionDays", {"proxyProject.retentionDays": -1}, "does not turn retention off", "negative"),
    row("proxyProject.storageLimitBytes", {"proxyProject.storageLimitBytes": 0}, "use -1 for no limit"),
    row("proxyProject.storageLimitBytes", {"proxyProject.storageLimitBytes": 2**51}, "more than 1024 TB", "max"),
    row("proxyProject.speedKb", {"proxyProject.speedKb": 0}, "is not a bandwidth limit: use -1 for none"),
    row("proxyProject.forceDestroy", {"proxyProject.forceDestroy": "sure"}, "must be true or false"),
    row("replication.enabled", {"replication.enabled": "yes"}, "must be true or false"),
    row("replication.project", {"replication.enabled": True, "replication.project": "Mif_"},
        "not a valid Harbor project name"),
    row("replication.project", {"replication.enabled": True, "replication.project": "mif"},
        "is the proxy-cache project", "proxy"),
    row("replication.project", {"replication.enabled": True, "replication.project": "p" * 245},
        "Harbor takes at most 256", "policy-name"),
    row("replication.nameFilter", {"replication.nameFilter": 5}, "must be text"),
    row("replication.trigger", {"replication.enabled": True, "replication.trigger": "0 0 25 * * *"},
        "neither 'manual' nor a cron Harbor accepts"),
    row("replication.speedKb", {"replication.speedKb": "fast"}, "must be a whole number"),
    row("replication.override", {"replication.override": "off"}, "must be true or false"),
    row("replication.public", {"replication.public": "public"}, "must be true or false"),
    row("replication.tagFilter", {"replication.tagFilter": ["v1"]}, "must be text"),
    row("replication.runOnChange", {"replication.runOnChange": 2}, "must be true or false"),
    row("replication.forceDestroy", {"replication.forceDestroy": "n"}, "must be true or false"),
    row("proxyProject.enabled", {"proxyProject.enabled": False}, "enable at least one", "none"),
    # nodes: sshd and paramiko, the node script, containerd, the kubelet
    row("nodes.transport", {"nodes.transport": "rsync"}, "must be 'ssh', 'command', 'daemonset' or 'none'"),
    row("nodes.hosts", {"nodes.transport": "ssh", "nodes.hosts": []}, "transport ssh needs at least one entry"),
    row("nodes.user", {"nodes.user": "root user"}, "is not a user name"),
    row("nodes.hosts[0].name", {"nodes.hosts": [{"name": "node 1", "address": "10.0.0.11"}]}, "is not a node name"),
    row("nodes.hosts[0].address", {"nodes.hosts": [{"name": "n1", "address": "node_1"}]},
        "neither an IP address nor a DNS name"),
    row("nodes.hosts[0].port", {"nodes.hosts": [{"name": "n1", "address": "10.0.0.11", "port": 0}]}, "0 is not a port"),
    row("nodes.hosts[0].user", {"nodes.hosts": [{"name": "n1", "address": "10.0.0.11", "user": "-x"}]},
        "is not a user name"),
    row("nodes.hosts[0].hostKey", {"nodes.hosts": [{"name": "n1", "address": "10.0.0.11", "hostKey": "AAAA"}]},
        "must be '<type> <base64>'"),
    row("nodes.hosts[1].address", {"nodes.hosts": [{"name": "n1", "address": "10.0.0.11"},
                                                   {"name": "n2", "address": "10.0.0.11"}]},
        "is also hosts[0]'s address", "duplicate"),
    row("nodes.bastion.host", {"nodes.bastion": {"host": "jump host"}}, "neither an IP address nor a DNS name"),
    row("nodes.bastion.port", {"nodes.bastion": {"host": "jump", "port": "22x"}}, "must be a whole number"),
    row("nodes.bastion.user", {"nodes.bastion": {"host": "jump", "user": ""}}, "is not a user name"),
    row("nodes.containerd.configPath", {"nodes.containerd": {"configPath": "etc/containerd/config.toml"}},
        "must be an absolute path"),
    row("nodes.containerd.certsDir", {"nodes.containerd": {"certsDir": "/etc/containerd/certs.d:/x"}},
        "containerd's config_path cannot carry"),
    row("nodes.containerd.hostsFile", {"nodes.containerd": {"hostsFile": "hosts"}}, "must be an absolute path"),
    row("nodes.containerd.containerdBin", {"nodes.containerd": {"containerdBin": "containerd --x"}},
        "must be a command name"),
    row("nodes.daemonsetImage", {"nodes.daemonsetImage": "Busybox:1.37"}, "is not an image reference"),
    row("nodes.verifyImage", {"nodes.verifyImage": "quickstart/hello v1"}, "is not an image reference"),
    # imageRewrite: Kyverno and the nodes
    row("imageRewrite.enabled", {"imageRewrite.enabled": "true please"}, "must be true or false"),
    row("imageRewrite.installKyverno", {"imageRewrite.installKyverno": "no"}, "must be true or false"),
    row("imageRewrite.kyvernoChart.repository", {"imageRewrite.kyvernoChart": {"repository": "kyverno.github.io"}},
        "must be a chart repository URL"),
    row("imageRewrite.excludeNamespaces[1]", {"imageRewrite.excludeNamespaces": ["kube-system", "Bad_ns"]},
        "is not a DNS label"),
    row("imageRewrite.failurePolicy", {"imageRewrite.failurePolicy": "Warn"}, "must be 'Ignore' or 'Fail'"),
    row("imageRewrite.enabled", {"imageRewrite.enabled": True, "nodes": {"transport": "none"}},
        "needs nodes.transport ssh or daemonset", "nodes"),
    # upstreams: the same rules per entry, plus unique names, projects and hosts across every upstream
    row("upstreams[0].name", {"upstreams": [{**HUB, "name": "moreh-ecr"}]}, "is also the name of upstream"),
    row("upstreams[0].type", {"upstreams": [{**HUB, "type": "quay", "url": "https://quay.io"}]},
        "does not permit it for a proxy cache"),
    row("upstreams[0].url", {"upstreams": [{**QUAY, "url": "quay.io"}]}, "must start with http:// or https://"),
    row("upstreams[0].url", {"upstreams": [{**HUB, "url": "https://registry-1.docker.io"}]},
        "docker-hub adapter talks to Docker Hub whatever the URL", "docker-hub"),
    row("upstreams[0].url", {"upstreams": [{**QUAY, "url": ECR}]}, "is already mirrored by upstream", "twice"),
    row("upstreams[0].project", {"upstreams": [{**HUB, "project": "mif"}]}, "is also proxyProject.name"),
    row("upstreams[0].project", {"upstreams": [{**HUB, "project": "Hub"}]}, "not a valid Harbor project name",
        "name"),
    row("upstreams[0].accessKeyId", {"upstreams": [{**QUAY, "type": "aws-ecr", "url": ECR.replace("2550", "9990")}]},
        "the secret upstreamSecrets.quay"),
    row("upstreams[0].ambientCredentials", {"upstreams": [{**HUB, "ambientCredentials": True}]},
        "applies only to type aws-ecr"),
    row("upstreams[0].insecure", {"upstreams": [{**QUAY, "insecure": "maybe"}]}, "must be true or false"),
    row("upstreams[0].description", {"upstreams": [{**QUAY, "description": 1}]}, "must be text"),
    row("upstreams[1].mirrorHosts[0]", {"upstreams": [HUB, {**QUAY, "mirrorHosts": ["docker.io"]}]},
        "is already mirrored by upstreams[0]"),
    row("upstreams", {"upstreams": {"name": "hub"}}, "must be a list", "type"),
    row("upstream", {"upstream": DELETE}, "must be set (or upstreams, a list)"),
    row("replication.enabled", {"upstream": DELETE, "upstreams": [HUB], "replication.enabled": True},
        "needs harbor-cache:upstream"),
    # sections of the wrong type
    row("harbor", {"harbor": "http"}, "must be an object (indented `key: value` lines) with the keys install"),
    row("nodes.hosts", {"nodes.hosts": "10.0.0.11"}, "must be a list", "type"),
]


@pytest.mark.parametrize(("changes", "key", "needle"), ROWS)
def test_refused(changes: dict[str, Any], key: str, needle: str) -> None:
    with pytest.raises(SettingsError) as info:
        validate(with_changes(changes), ALL_SECRETS)
    mine = [e for e in info.value.errors if e.startswith(key)]
    assert any(needle in e for e in mine), info.value.errors


def test_every_row_starts_from_a_valid_stack() -> None:
    validate(base(), ALL_SECRETS)
    for changes in (HTTPS, EXISTING, DOCKER, HA, CLUSTER_IP):
        validate(with_changes(changes), ALL_SECRETS)


@pytest.mark.parametrize("changes", [
    {"nodes": {"user": "root"}},  # README: transport is none without hosts (this failed with "needs hosts")
    {"production": "false", "harbor.trivy": "TRUE", "harbor.timeoutSeconds": "600", "harbor.ha": {"replicas": 1.0}},
    {**HTTPS, "tls.extraDnsNames": ["*.harbor.example", "Harbor.Example"], "tls.leafDuration": "1h30m",
     "tls.leafRenewBefore": "5m", "tls.extraIpAddresses": ["fd00::11"]},
    {"proxyProject.retentionDays": None, "proxyProject.storageLimitBytes": 1024**5},
    {"harbor.storage": {"registrySize": "1.5Ti", "storageClass": "-", "databaseSize": "5e9"}},
    {"harbor.proxy": {"httpProxy": "proxy.internal:3128", "httpsProxy": "socks5://p:1080"}},
    {**EXISTING, "harbor.adminUser": "robot$cache", "harbor.apiUrl": "http://harbor.example/prefix"},
    {"nodes.hosts": [{"name": "node-1.example", "address": "fd00::11", "user": "ops", "hostKey": HOST_KEY}]},
], ids=["nodes-user-only", "lax-scalars", "tls", "retention-off", "quantities", "proxies", "existing-robot",
        "node-ipv6"])
def test_accepted(changes: dict[str, Any]) -> None:
    validate(with_changes(changes), ALL_SECRETS)


def test_nodes_without_hosts_default_to_no_transport() -> None:
    settings = validate(with_changes({"nodes": {"user": "root"}}), ALL_SECRETS)
    assert settings.nodes.transport == "none"
    assert validate(base(), ALL_SECRETS).nodes.transport == "ssh"


def test_every_setting_has_a_row() -> None:
    # Each setting of the model is pinned by a row here, or by the tests named in NOT_HERE.
    from tests.unit.test_config_docs import leaf_settings

    covered = {re.sub(r"\[\d+\]", "[]", str(p.values[1]).removeprefix("harbor-cache:")) for p in ROWS}
    covered |= {c.removesuffix("[]") for c in covered}
    missing = [s for s in leaf_settings() if s not in covered and s not in NOT_HERE
               and not any(c.startswith(s + ".") for c in covered)]
    assert missing == []


NOT_HERE = {
    # Harbor's metrics exporter: tests/unit/test_metrics.py (refused values name their key, the chart reads them)
    "harbor.metrics.enabled", "harbor.metrics.serviceMonitor", "harbor.metrics.serviceMonitorLabels",
    "harbor.metrics.scrapeInterval",
    # the secrets: tests/unit/test_config_secrets.py (upstreamSecrets: tests/unit/test_upstreams_settings.py)
    "adminPassword", "upstreamSecretKey", "sshPrivateKey", "upstreamSecrets",
    # the same ChartRef model as harbor.chart (rows above); a chart path is checked where pulumi runs
    "harbor.chart.path", "tls.certManagerChart.name", "tls.certManagerChart.repository", "tls.certManagerChart.path",
    "imageRewrite.kyvernoChart.name", "imageRewrite.kyvernoChart.version", "imageRewrite.kyvernoChart.path",
    # free text for the receiver, or warnings only: tests/unit/test_config_secrets.py (warnings)
    "harbor.ha.externalRedis.sentinelMasterSet", "harbor.proxy.noProxy", "nodes.containerd.restartCommand",
    "nodes.containerd.healthCommand",
    # a true/false for containerd's host order: tests/unit/test_replica_first.py
    "replication.nodesPullFirst",
    # pre-warm: tests/unit/test_prewarm.py (every refused value names its key), tests/provider/test_prewarm.py
    "prewarm.images", "prewarm.platforms", "prewarm.failOnError", "prewarm.timeoutSeconds", "prewarm.registryUrl",
}
