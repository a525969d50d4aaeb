"""Whether image rewrite can work with the rest of the settings (nodes must resolve and trust Harbor).

Rewritten references are pulled by kubelet/containerd on the node, with the node's resolver and trust store,
and with no fallback to the upstream (unlike the hosts.toml mirror). `Settings` runs `rewrite_settings_errors`
when imageRewrite.enabled is true; the Kyverno policy document itself is built in components/rewrite_policy.py.
"""

from __future__ import annotations

from typing import Literal

from components.rules import harbor_prefix_problems, is_cluster_dns_name, split_prefix


def rewrite_settings_errors(
    harbor_prefix: str,
    *,
    scheme: Literal["http", "https"],
    private_ca: bool,
    nodes_trust_harbor_ca: bool,
    nodes_allow_plain_http: bool,
    nodes_resolve_cluster_dns: bool = False,
    cluster_domain: str = "cluster.local",
    config_key: str = "imageRewrite",
) -> list[str]:
    """Why image rewrite (when on) would break pulls, as messages naming `config_key`; [] when it is fine.

    Rewritten references are pulled by kubelet/containerd on the node, with the node's resolver and trust
    store, and with no fallback to the upstream (unlike the hosts.toml mirror). So the Harbor endpoint must be
    a name the nodes resolve (not a cluster DNS name, unless `nodes_resolve_cluster_dns`), served over HTTPS
    the nodes trust (a private CA must be distributed to nodes) or over HTTP the nodes are configured to use.
    """
    errors = harbor_prefix_problems(harbor_prefix)
    if errors:
        return [f"{config_key}: {e}" for e in errors]
    host, _ = split_prefix(harbor_prefix)
    name = host.rsplit(":", 1)[0] if ":" in host else host
    if not nodes_resolve_cluster_dns and is_cluster_dns_name(name, cluster_domain):
        errors.append(
            f"{config_key}: Harbor endpoint {host!r} is a cluster DNS name, but kubelet and containerd "
            "resolve with the node's resolver, so every rewritten pull would fail with 'no such host' (a "
            "rewrite has no fallback to the upstream). Expose Harbor on an address the nodes resolve "
            "(NodePort or LoadBalancer with a DNS name or IP), or confirm the nodes use cluster DNS.")
    if scheme == "https" and private_ca and not nodes_trust_harbor_ca:
        errors.append(
            f"{config_key}: Harbor serves HTTPS with a private CA that is not distributed to the nodes, so "
            "every rewritten pull would fail with an x509 error. Enable the node CA distribution "
            "(hosts.toml `ca`) or use a certificate the nodes already trust.")
    if scheme == "http" and not nodes_allow_plain_http:
        errors.append(
            f"{config_key}: Harbor serves plain HTTP, but containerd pulls over HTTPS unless the node has "
            f"a hosts.toml for {host!r} with an http:// server. Enable the node configuration for the "
            "Harbor host or serve HTTPS.")
    if scheme not in ("http", "https"):
        errors.append(f"{config_key}: scheme {scheme!r} must be 'http' or 'https'")
    return errors
