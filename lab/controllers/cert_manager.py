"""The cert-manager stand-in: Issuers and ClusterIssuers Ready (a ``ca`` issuer once its key-pair Secret
exists), Certificates issued into their ``kubernetes.io/tls`` Secret (``tls.crt``, ``tls.key``, ``ca.crt``),
signed as the issuer would (``selfSigned``: by itself; ``ca``: by the issuer's CA Secret; any other kind: by a
fake CA of this instance), and Ready=True on the Certificate's status."""

from __future__ import annotations

import base64
import datetime as dt
from typing import Any

from cryptography import x509

from lab.controllers.certs import (
    KeyPair,
    NotReady,
    PrivateKey,
    build_certificate,
    cert_pem,
    key_pem,
    load_key,
    new_private_key,
    parse_duration,
    sans,
    self_signed_ca,
)
from lab.controllers.client import KubeClient, live, object_path, object_ref, secret_path
from lab.controllers.conditions import is_ready_for_generation, set_ready

CM = "cert-manager.io"


class CertManager:
    """One reconcile pass over cert-manager's kinds."""

    def __init__(self, client: KubeClient, cluster_resource_namespace: str = "cert-manager") -> None:
        self.client = client
        self.cluster_resource_namespace = cluster_resource_namespace
        self._fake_ca: KeyPair | None = None

    def reconcile(self) -> list[str]:
        """Issuers, then Certificates; the actions taken."""
        return [*self._issuers(), *self._certificates()]

    def _issuers(self) -> list[str]:
        actions = []
        for plural in ("issuers", "clusterissuers"):
            for issuer in live(self.client, f"/apis/{CM}/v1/{plural}"):
                ready, reason, message = self._issuer_state(issuer)
                status = set_ready(issuer, ready, reason, message)
                if status is not None:
                    self.client.patch_status(object_path(issuer, plural), status)
                    actions.append(f"{issuer['kind']} {object_ref(issuer)}: Ready={ready} ({reason})")
        return actions

    def _issuer_state(self, issuer: dict[str, Any]) -> tuple[bool, str, str]:
        ca = (issuer.get("spec") or {}).get("ca")
        if not ca:
            return True, "IsReady", ""
        try:
            self._ca_keypair(issuer)
        except NotReady as err:
            return False, err.reason, str(err)
        return True, "KeyPairVerified", "Signing CA verified"

    def _resource_namespace(self, issuer: dict[str, Any]) -> str:
        return str(issuer["metadata"].get("namespace") or self.cluster_resource_namespace)

    def _ca_keypair(self, issuer: dict[str, Any]) -> tuple[PrivateKey, x509.Certificate, bytes]:
        """(key, cert, ca.crt PEM) from the Secret of a ``ca`` issuer."""
        name = issuer["spec"]["ca"]["secretName"]
        namespace = self._resource_namespace(issuer)
        secret = self.client.get(secret_path(namespace, name))
        data = (secret or {}).get("data") or {}
        if "tls.crt" not in data or "tls.key" not in data:
            raise NotReady(
                "ErrGetKeyPair",
                f'Error getting keypair for CA issuer: secret "{namespace}/{name}" is missing',
            )
        key = load_key(data["tls.key"])
        if key is None:
            raise NotReady("ErrInitIssuer", f"unsupported CA key type in {namespace}/{name}")
        cert = x509.load_pem_x509_certificates(base64.b64decode(data["tls.crt"]))[0]
        return key, cert, base64.b64decode(data["ca.crt"]) if data.get("ca.crt") else cert_pem(cert)

    def _certificates(self) -> list[str]:
        actions = []
        for cert in live(self.client, f"/apis/{CM}/v1/certificates"):
            path = object_path(cert, "certificates")
            try:
                if self._up_to_date(cert):
                    continue
                status = self._issue(cert)
                actions.append(f"Certificate {object_ref(cert)}: issued into Secret {cert['spec']['secretName']}")
            except NotReady as err:
                status = set_ready(cert, False, err.reason, str(err)) or {}
                if status:
                    actions.append(f"Certificate {object_ref(cert)}: not ready ({err.reason})")
            if status:
                self.client.patch_status(path, status)
        return actions

    def _up_to_date(self, cert: dict[str, Any]) -> bool:
        """Ready for this generation and its Secret still holds a certificate with the requested SANs."""
        if not is_ready_for_generation(cert):
            return False
        secret = self.client.get(secret_path(cert["metadata"]["namespace"], cert["spec"]["secretName"]))
        data = (secret or {}).get("data") or {}
        if "tls.crt" not in data or "tls.key" not in data:
            return False
        leaf = x509.load_pem_x509_certificates(base64.b64decode(data["tls.crt"]))[0]
        try:
            current = set(leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)
        except x509.ExtensionNotFound:
            current = set()
        return current == set(sans(cert["spec"]))

    def _signer(self, cert: dict[str, Any]) -> tuple[dict[str, Any], KeyPair | None, bytes | None]:
        """(issuer object, signing key pair or None for self-signed, ca.crt PEM or None for self-signed)."""
        ref = cert["spec"].get("issuerRef") or {}
        kind, group = ref.get("kind") or "Issuer", ref.get("group") or CM
        if group != CM or kind not in ("Issuer", "ClusterIssuer"):
            raise NotReady("Pending", f"external issuer {kind}.{group} is not simulated")
        ns = f"/namespaces/{cert['metadata']['namespace']}" if kind == "Issuer" else ""
        issuer = self.client.get(f"/apis/{CM}/v1{ns}/{kind.lower()}s/{ref.get('name')}")
        if issuer is None:
            raise NotReady("Pending", f'Referenced "{kind}" not found: "{ref.get("name")}"')
        spec = issuer.get("spec") or {}
        if "selfSigned" in spec:
            return issuer, None, None
        if "ca" in spec:
            key, ca_cert, ca_pem = self._ca_keypair(issuer)
            return issuer, (key, ca_cert), ca_pem
        if self._fake_ca is None:
            self._fake_ca = self_signed_ca("harbor-cache fake issuer CA")
        return issuer, self._fake_ca, cert_pem(self._fake_ca[1])

    def _issue(self, cert: dict[str, Any]) -> dict[str, Any]:
        """Issue the certificate, write its Secret and return the new status."""
        spec, meta = cert["spec"], cert["metadata"]
        issuer, signer, ca_pem = self._signer(cert)
        key_spec = spec.get("privateKey") or {}
        key = self._reusable_key(cert) if key_spec.get("rotationPolicy") == "Never" else None
        key = key or new_private_key(key_spec)
        leaf = build_certificate(spec, key, signer)
        chain = cert_pem(leaf)
        if signer and signer[1].issuer != signer[1].subject:  # an intermediate CA: ship it in the chain
            chain += cert_pem(signer[1])
        template = spec.get("secretTemplate") or {}
        annotations = {
            f"{CM}/certificate-name": meta["name"],
            f"{CM}/issuer-name": issuer["metadata"]["name"],
            f"{CM}/issuer-kind": issuer["kind"],
            f"{CM}/issuer-group": CM,
            f"{CM}/common-name": spec.get("commonName") or "",
            f"{CM}/alt-names": ",".join(spec.get("dnsNames") or []),
            f"{CM}/ip-sans": ",".join(spec.get("ipAddresses") or []),
            f"{CM}/uri-sans": ",".join(spec.get("uris") or []),
            **(template.get("annotations") or {}),
        }
        labels = {"controller.cert-manager.io/fao": "true", **(template.get("labels") or {})}
        data = {
            "tls.crt": chain,
            "tls.key": key_pem(key, key_spec.get("encoding")),
            "ca.crt": ca_pem or chain,
        }
        secret = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/tls",
            "metadata": {
                "name": spec["secretName"],
                "namespace": meta["namespace"],
                "annotations": annotations,
                "labels": labels,
            },
            "data": {k: base64.b64encode(v).decode() for k, v in data.items()},
        }
        self.client.apply(secret_path(meta["namespace"], spec["secretName"]), secret)
        lifetime = leaf.not_valid_after_utc - leaf.not_valid_before_utc
        renew = parse_duration(spec.get("renewBefore"), lifetime / 3)
        status = set_ready(cert, True, "Ready", "Certificate is up to date and has not expired") or {}
        return {
            **status,
            "notBefore": _stamp(leaf.not_valid_before_utc),
            "notAfter": _stamp(leaf.not_valid_after_utc),
            "renewalTime": _stamp(leaf.not_valid_after_utc - renew),
            "revision": int((cert.get("status") or {}).get("revision") or 0) + 1,
        }

    def _reusable_key(self, cert: dict[str, Any]) -> PrivateKey | None:
        """The key already in the Secret (rotationPolicy: Never), if any."""
        secret = self.client.get(secret_path(cert["metadata"]["namespace"], cert["spec"]["secretName"]))
        pem = ((secret or {}).get("data") or {}).get("tls.key")
        return load_key(pem) if pem else None


def _stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")
