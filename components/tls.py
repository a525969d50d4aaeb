"""Tls component: the cert-manager chain that gives Harbor a certificate nodes can trust.

self-signed Issuer -> CA Certificate (10 years, explicit rotationPolicy) -> CA Issuer -> Harbor leaf Certificate,
or an existing ClusterIssuer in place of the first three. Each Certificate is awaited until cert-manager reports
it Ready, so the Harbor release never starts before its TLS secret exists. The CA certificate PEM is an output
(read from the leaf Secret's `ca.crt`, never from the CA Secret, which also holds the CA key).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

CERT_MANAGER_API = "cert-manager.io/v1"


@dataclass(frozen=True)
class TlsArgs:
    """Inputs of Tls: everything the certificate chain needs, as plain values (built from the settings in specs.py)."""

    namespace: str
    name: str
    dns_names: list[str]
    ip_addresses: list[str] = field(default_factory=list)
    cluster_issuer: str | None = None
    ca_duration: str = "87600h"
    ca_renew_before: str = "8760h"
    leaf_duration: str = "2160h"
    leaf_renew_before: str = "720h"
    private_key_algorithm: str = "ECDSA"
    await_timeout_seconds: int = 600

    @property
    def leaf_secret(self) -> str:
        return f"{self.name}-tls"

    @property
    def ca_secret(self) -> str:
        return f"{self.name}-ca"


def _private_key(args: TlsArgs, rotation: str) -> dict[str, Any]:
    key: dict[str, Any] = {"algorithm": args.private_key_algorithm, "rotationPolicy": rotation}
    key["size"] = 256 if args.private_key_algorithm == "ECDSA" else 2048
    return key


def _await_ready(args: TlsArgs) -> dict[str, str]:
    # pulumi-kubernetes (>= 4.18) waits on these annotations; a Certificate that never gets Ready fails `up`.
    return {"pulumi.com/waitFor": "condition=Ready", "pulumi.com/timeoutSeconds": str(args.await_timeout_seconds)}


def issuer_documents(args: TlsArgs) -> list[dict[str, Any]]:
    """The self-signed Issuer, the CA Certificate and the CA Issuer (empty with an existing ClusterIssuer)."""
    if args.cluster_issuer:
        return []
    meta = {"namespace": args.namespace}
    return [
        {"kind": "Issuer", "metadata": {**meta, "name": f"{args.name}-selfsigned"}, "spec": {"selfSigned": {}}},
        {
            "kind": "Certificate",
            "metadata": {**meta, "name": args.ca_secret, "annotations": _await_ready(args)},
            "spec": {
                "isCA": True,
                "commonName": f"{args.name}-ca",
                "subject": {"organizations": ["harbor-cache"]},
                "secretName": args.ca_secret,
                "duration": args.ca_duration,
                "renewBefore": args.ca_renew_before,
                # A renewed CA with a new key would invalidate the copy on every node: keep the key (DOMAIN.md S11).
                "privateKey": _private_key(args, "Never"),
                "issuerRef": {"name": f"{args.name}-selfsigned", "kind": "Issuer", "group": "cert-manager.io"},
            },
        },
        {"kind": "Issuer", "metadata": {**meta, "name": f"{args.name}-ca-issuer"},
         "spec": {"ca": {"secretName": args.ca_secret}}},
    ]


def leaf_document(args: TlsArgs) -> dict[str, Any]:
    """Harbor's serving Certificate with every name and address that clients and nodes use."""
    issuer = ({"name": args.cluster_issuer, "kind": "ClusterIssuer"} if args.cluster_issuer
              else {"name": f"{args.name}-ca-issuer", "kind": "Issuer"})
    body: dict[str, Any] = {
        "secretName": args.leaf_secret,
        "commonName": args.dns_names[0] if args.dns_names else args.ip_addresses[0],
        "dnsNames": args.dns_names,
        "duration": args.leaf_duration,
        "renewBefore": args.leaf_renew_before,
        "privateKey": _private_key(args, "Always"),
        "usages": ["digital signature", "key encipherment", "server auth"],
        "issuerRef": {**issuer, "group": "cert-manager.io"},
    }
    if args.ip_addresses:
        body["ipAddresses"] = args.ip_addresses
    return {"kind": "Certificate",
            "metadata": {"namespace": args.namespace, "name": args.leaf_secret, "annotations": _await_ready(args)},
            "spec": body}


class Tls(pulumi.ComponentResource):
    """cert-manager objects for Harbor's certificate; outputs the leaf Secret name and the CA PEM."""

    leaf_secret_name: pulumi.Output[str]
    ca_pem: pulumi.Output[str]

    def __init__(self, name: str, args: TlsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("harbor-cache:index:Tls", name, {}, opts)
        child = pulumi.ResourceOptions(parent=self)
        previous: list[pulumi.Resource] = []
        for doc in issuer_documents(args):
            res = k8s.apiextensions.CustomResource(
                f"{name}-{doc['metadata']['name']}", api_version=CERT_MANAGER_API, kind=doc["kind"],
                metadata=doc["metadata"], spec=doc["spec"],
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=list(previous))))
            previous.append(res)
        leaf_doc = leaf_document(args)
        leaf = k8s.apiextensions.CustomResource(
            f"{name}-{args.leaf_secret}", api_version=CERT_MANAGER_API, kind="Certificate",
            metadata=leaf_doc["metadata"], spec=leaf_doc["spec"],
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=list(previous))))
        # The Secret id comes from the awaited Certificate's output, so the read waits for Ready and a preview of
        # a first install (where the Secret does not exist yet) shows the CA as unknown instead of failing.
        secret_id = pulumi.Output.from_input(leaf.id).apply(lambda _: f"{args.namespace}/{args.leaf_secret}")
        leaf_secret = k8s.core.v1.Secret.get(f"{name}-leaf-secret", secret_id, opts=child)
        self.leaf_secret_name = pulumi.Output.from_input(args.leaf_secret)
        self.ca_pem = pulumi.Output.unsecret(leaf_secret.data.apply(_ca_from_secret_data))
        self.certificate = leaf
        self.register_outputs({"leaf_secret_name": self.leaf_secret_name, "ca_pem": self.ca_pem})


def _ca_from_secret_data(data: Mapping[str, str] | None) -> str:
    encoded = (data or {}).get("ca.crt", "")
    return base64.b64decode(encoded).decode() if encoded else ""
