"""cert-manager documents: the CA chain, durations, rotation policy, SANs and Ready awaits."""

from __future__ import annotations

from components.tls import TlsArgs, issuer_documents, leaf_document

SPEC = TlsArgs(namespace="harbor", name="harbor", dns_names=["harbor.harbor.svc.cluster.local", "harbor.local"],
               ip_addresses=["10.0.0.11"])


def test_chain_selfsigned_ca_caissuer() -> None:
    docs = issuer_documents(SPEC)
    assert [d["kind"] for d in docs] == ["Issuer", "Certificate", "Issuer"]
    selfsigned, ca, ca_issuer = docs
    assert selfsigned["spec"] == {"selfSigned": {}}
    assert ca["spec"]["isCA"] is True
    assert ca["spec"]["issuerRef"]["name"] == selfsigned["metadata"]["name"]
    assert ca["spec"]["duration"] == "87600h" and ca["spec"]["renewBefore"]
    assert ca["spec"]["privateKey"]["rotationPolicy"] == "Never"
    assert ca_issuer["spec"] == {"ca": {"secretName": ca["spec"]["secretName"]}}


def test_leaf_has_every_name_and_renews() -> None:
    leaf = leaf_document(SPEC)["spec"]
    assert leaf["dnsNames"] == SPEC.dns_names
    assert leaf["ipAddresses"] == ["10.0.0.11"]
    assert leaf["duration"] == "2160h" and leaf["renewBefore"] == "720h"
    assert leaf["issuerRef"]["name"] == "harbor-ca-issuer" and leaf["issuerRef"]["kind"] == "Issuer"
    assert leaf["secretName"] == "harbor-tls"


def test_certificates_are_awaited_until_ready() -> None:
    for doc in [*issuer_documents(SPEC), leaf_document(SPEC)]:
        if doc["kind"] == "Certificate":
            assert doc["metadata"]["annotations"]["pulumi.com/waitFor"] == "condition=Ready"


def test_existing_cluster_issuer_replaces_the_chain() -> None:
    spec = TlsArgs(namespace="harbor", name="harbor", dns_names=["harbor.local"], cluster_issuer="corp-ca")
    assert issuer_documents(spec) == []
    assert leaf_document(spec)["spec"]["issuerRef"] == {"name": "corp-ca", "kind": "ClusterIssuer",
                                                        "group": "cert-manager.io"}
