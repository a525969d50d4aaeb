"""Issuing certificates as cert-manager would: keys, subjects, SANs, usages, durations (``cryptography``)."""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import re
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
KeyPair = tuple[PrivateKey, x509.Certificate]
KEY_USAGES = {
    "digital signature": "digital_signature",
    "content commitment": "content_commitment",
    "key encipherment": "key_encipherment",
    "data encipherment": "data_encipherment",
    "key agreement": "key_agreement",
    "cert sign": "key_cert_sign",
    "crl sign": "crl_sign",
}
EXT_USAGES = {
    "server auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "client auth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code signing": ExtendedKeyUsageOID.CODE_SIGNING,
    "email protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "timestamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "ocsp signing": ExtendedKeyUsageOID.OCSP_SIGNING,
}


class NotReady(Exception):
    """A Certificate cannot be issued yet; the message becomes its Ready=False condition."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def parse_duration(text: str | None, default: dt.timedelta) -> dt.timedelta:
    """A Go duration ("2160h", "8760h0m0s", "90m") as a timedelta."""
    if not text:
        return default
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise NotReady("BadConfig", f"cannot parse duration {text!r}")
    return dt.timedelta(seconds=sum(float(n) * units[u] for n, u in parts))


def new_private_key(spec: dict[str, Any]) -> PrivateKey:
    """A key as spec.privateKey asks (RSA 2048 by default, ECDSA 256/384/521, Ed25519)."""
    algorithm = (spec.get("algorithm") or "RSA").upper()
    size = int(spec.get("size") or 0)
    if algorithm == "RSA":
        return rsa.generate_private_key(public_exponent=65537, key_size=size or 2048)
    if algorithm == "ECDSA":
        curves: dict[int, ec.EllipticCurve] = {256: ec.SECP256R1(), 384: ec.SECP384R1(), 521: ec.SECP521R1()}
        return ec.generate_private_key(curves[size or 256])
    if algorithm == "ED25519":
        return ed25519.Ed25519PrivateKey.generate()
    raise NotReady("BadConfig", f"unsupported privateKey.algorithm {algorithm}")


def key_pem(key: PrivateKey, encoding: str | None) -> bytes:
    """PEM of key: PKCS#1/SEC1 by default as cert-manager writes it, PKCS#8 when asked (and for Ed25519)."""
    traditional = (encoding or "PKCS1") == "PKCS1" and not isinstance(key, ed25519.Ed25519PrivateKey)
    fmt = serialization.PrivateFormat.TraditionalOpenSSL if traditional else serialization.PrivateFormat.PKCS8
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def _subject(spec: dict[str, Any]) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, spec["commonName"])] if spec.get("commonName") else []
    fields = {
        "organizations": NameOID.ORGANIZATION_NAME,
        "organizationalUnits": NameOID.ORGANIZATIONAL_UNIT_NAME,
        "countries": NameOID.COUNTRY_NAME,
        "localities": NameOID.LOCALITY_NAME,
        "provinces": NameOID.STATE_OR_PROVINCE_NAME,
    }
    for field, oid in fields.items():
        attrs += [x509.NameAttribute(oid, value) for value in (spec.get("subject") or {}).get(field) or []]
    return x509.Name(attrs)


def sans(spec: dict[str, Any]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in spec.get("dnsNames") or []]
    names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in spec.get("ipAddresses") or []]
    names += [x509.UniformResourceIdentifier(u) for u in spec.get("uris") or []]
    names += [x509.RFC822Name(e) for e in spec.get("emailAddresses") or []]
    return names


def _usages(spec: dict[str, Any]) -> tuple[x509.KeyUsage, list[x509.ObjectIdentifier]]:
    usages = set(spec.get("usages") or ["digital signature", "key encipherment"])
    if spec.get("isCA"):
        usages.add("cert sign")
    if "signing" in usages:
        usages.add("digital signature")
    flags = {arg: name in usages for name, arg in KEY_USAGES.items()}
    key_usage = x509.KeyUsage(**flags, encipher_only=False, decipher_only=False)
    return key_usage, [oid for name, oid in EXT_USAGES.items() if name in usages]


def build_certificate(spec: dict[str, Any], key: PrivateKey, signer: KeyPair | None) -> x509.Certificate:
    """The certificate spec describes for key, signed by signer (None: self-signed)."""
    if not spec.get("commonName") and not sans(spec):
        raise NotReady("BadConfig", "the Certificate has no commonName and no subject alternative names")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    subject = _subject(spec)
    sign_key, issuer = (signer[0], signer[1].subject) if signer else (key, subject)
    key_usage, ext_usages = _usages(spec)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + parse_duration(spec.get("duration"), dt.timedelta(days=90)))
        .add_extension(x509.BasicConstraints(ca=bool(spec.get("isCA")), path_length=None), critical=True)
        .add_extension(key_usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(sign_key.public_key()), critical=False
        )
    )
    if ext_usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(ext_usages), critical=False)
    if sans(spec):
        builder = builder.add_extension(x509.SubjectAlternativeName(sans(spec)), critical=not subject)
    algorithm = None if isinstance(sign_key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(sign_key, algorithm)


def cert_pem(cert: x509.Certificate) -> bytes:
    """PEM of a certificate."""
    return cert.public_bytes(serialization.Encoding.PEM)


def load_key(b64_pem: str) -> PrivateKey | None:
    """A private key from base64 PEM Secret data (None for key types cert-manager does not issue)."""
    key = serialization.load_pem_private_key(base64.b64decode(b64_pem), password=None)
    return (
        key
        if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey)
        else None
    )


def self_signed_ca(common_name: str) -> KeyPair:
    """A fresh ECDSA root CA."""
    key = ec.generate_private_key(ec.SECP256R1())
    spec = {"commonName": common_name, "isCA": True, "duration": "87600h"}
    return key, build_certificate(spec, key, None)
