"""Stand-ins for the cert-manager and Kyverno controllers on the local control plane.

The sandbox has the CRDs (sandbox/crds) but no controllers, so nothing would ever become Ready and a
``pulumi up`` that awaits Certificates would hang. ``FakeControllers`` does the visible part of their job:

- Issuers/ClusterIssuers: Ready (a ``ca`` issuer only once its key-pair Secret exists);
- Certificates: issues a real key and certificate (cryptography) with the requested subject, DNS names, IPs,
  URIs, e-mails, duration, key algorithm and ``isCA``, signed as the issuer would (``selfSigned``: by itself;
  ``ca``: by the issuer's CA Secret; any other kind: by a fake CA of this instance), writes the
  ``kubernetes.io/tls`` Secret (``tls.crt``, ``tls.key``, ``ca.crt``) and sets Ready=True on the status;
- Kyverno ClusterPolicies and Policies: Ready=True with the rule counts;
- Namespaces being deleted: emptied and finalized, as kube-controller-manager would (else they stay
  Terminating forever and a ``pulumi destroy`` waits for them in vain).

Use ``reconcile_once()``, or ``start()``/``stop()`` (or ``with``) for a background loop. It talks to the API
server with plain ``requests`` and the kubeconfig's client certificate.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import ipaddress
import logging
import re
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import requests
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

log = logging.getLogger(__name__)

CM = "cert-manager.io"
FIELD_MANAGER = "harbor-cache-fake-controllers"
MANAGER = {"fieldManager": FIELD_MANAGER}
RETRIES = 50
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


# --- API access -------------------------------------------------------------------------------------


class KubeClient:
    """Minimal JSON client for the API server of a kubeconfig (client-certificate or token users)."""

    def __init__(self, kubeconfig: str | Path) -> None:
        config = yaml.safe_load(Path(kubeconfig).read_text())
        ctx = _named(config["contexts"], config["current-context"])["context"]
        cluster = _named(config["clusters"], ctx["cluster"])["cluster"]
        user = _named(config["users"], ctx["user"])["user"]
        self._tmp = tempfile.TemporaryDirectory(prefix="fake-controllers-")
        self.server = cluster["server"].rstrip("/")
        self.session = requests.Session()
        # Not the environment's CA bundle or proxies (REQUESTS_CA_BUNDLE would override verify below).
        self.session.trust_env = False
        self.session.verify = self._file(cluster, "certificate-authority") or True
        cert, key = self._file(user, "client-certificate"), self._file(user, "client-key")
        if cert and key:
            self.session.cert = (cert, key)
        if user.get("token"):
            self.session.headers["Authorization"] = f"Bearer {user['token']}"

    def _file(self, section: dict[str, Any], field: str) -> str | None:
        """Path of a kubeconfig file field, writing its embedded ``-data`` variant to a private file."""
        if section.get(field):
            return str(section[field])
        data = section.get(f"{field}-data")
        if not data:
            return None
        path = Path(self._tmp.name) / field
        path.write_bytes(base64.b64decode(data))
        return str(path)

    def request(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """Send a request, retrying while the server answers 429/503 (e.g. a new CRD's cache warming up)."""
        for _ in range(RETRIES):
            resp = self.session.request(method, self.server + path, timeout=30, **kwargs)
            if resp.status_code not in (429, 503):
                break
            time.sleep(min(float(resp.headers.get("Retry-After") or 0.2), 1.0))
        if resp.status_code != 404:
            resp.raise_for_status()
        return resp

    def get(self, path: str) -> dict[str, Any] | None:
        """The object at path, or None when it does not exist."""
        resp = self.request("GET", path)
        return None if resp.status_code == 404 else dict(resp.json())

    def list(self, path: str) -> list[dict[str, Any]]:
        """Items of a collection; [] when the kind is not served (CRD absent)."""
        found = self.get(path)
        return list(found.get("items") or []) if found else []

    def patch_status(self, path: str, status: dict[str, Any]) -> None:
        """Merge-patch the status subresource."""
        headers = {"Content-Type": "application/merge-patch+json"}
        self.request("PATCH", f"{path}/status", json={"status": status}, params=MANAGER, headers=headers)

    def apply(self, path: str, obj: dict[str, Any]) -> None:
        """Server-side apply obj at path (forcing ownership of the fields it sets)."""
        headers = {"Content-Type": "application/apply-patch+yaml"}
        self.request("PATCH", path, json=obj, params={**MANAGER, "force": "true"}, headers=headers)

    def delete(self, path: str) -> None:
        """DELETE path (an object or a collection); a missing one is fine."""
        self.request("DELETE", path)

    def put(self, path: str, obj: dict[str, Any]) -> None:
        """PUT obj at path."""
        self.request("PUT", path, json=obj)

    def close(self) -> None:
        """Drop the session and the private copies of the credentials."""
        self.session.close()
        self._tmp.cleanup()


def _named(items: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(item for item in items if item["name"] == name)


def object_path(obj: dict[str, Any], plural: str) -> str:
    """API path of a custom object from its apiVersion, namespace and name."""
    meta = obj["metadata"]
    ns = f"/namespaces/{meta['namespace']}" if meta.get("namespace") else ""
    return f"/apis/{obj['apiVersion']}{ns}/{plural}/{meta['name']}"


def secret_path(namespace: str, name: str) -> str:
    """API path of a Secret."""
    return f"/api/v1/namespaces/{namespace}/secrets/{name}"


# --- conditions -------------------------------------------------------------------------------------


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ready_condition(obj: dict[str, Any]) -> dict[str, Any]:
    """The object's current Ready condition ({} if none)."""
    conditions = (obj.get("status") or {}).get("conditions") or []
    return next((c for c in conditions if c.get("type") == "Ready"), {})


def is_ready_for_generation(obj: dict[str, Any]) -> bool:
    """Ready=True was set for the object's current generation."""
    cond = ready_condition(obj)
    return cond.get("status") == "True" and cond.get("observedGeneration") == obj["metadata"].get(
        "generation"
    )


def set_ready(obj: dict[str, Any], ready: bool, reason: str, message: str) -> dict[str, Any] | None:
    """A Ready condition list for obj, or None when the current one already says the same."""
    status, old = ("True" if ready else "False"), ready_condition(obj)
    generation = obj["metadata"].get("generation")
    if (old.get("status"), old.get("reason"), old.get("message"), old.get("observedGeneration")) == (
        status,
        reason,
        message,
        generation,
    ):
        return None
    since = (
        old["lastTransitionTime"] if old.get("status") == status and old.get("lastTransitionTime") else _now()
    )
    cond = {
        "type": "Ready",
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": since,
        "observedGeneration": generation,
    }
    others = [c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") != "Ready"]
    return {"conditions": [*others, cond]}


# --- certificates -----------------------------------------------------------------------------------


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


def _sans(spec: dict[str, Any]) -> list[x509.GeneralName]:
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
    if not spec.get("commonName") and not _sans(spec):
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
    if _sans(spec):
        builder = builder.add_extension(x509.SubjectAlternativeName(_sans(spec)), critical=not subject)
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


# --- the controllers --------------------------------------------------------------------------------


class FakeControllers:
    """Marks cert-manager and Kyverno objects Ready and writes Certificate Secrets, once or in a loop."""

    def __init__(
        self,
        kubeconfig: str | Path,
        cluster_resource_namespace: str = "cert-manager",
        finalize_namespaces: bool = True,
    ) -> None:
        self.client = KubeClient(kubeconfig)
        self.finalize_namespaces = finalize_namespaces
        self.cluster_resource_namespace = cluster_resource_namespace
        self.errors: list[str] = []
        self._fake_ca: KeyPair | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # driving

    def reconcile_once(self, max_passes: int = 6) -> list[str]:
        """Reconcile everything until nothing changes (a CA chain settles in one call); return the actions."""
        actions: list[str] = []
        for _ in range(max_passes):
            done = [*self._issuers(), *self._certificates(), *self._policies()]
            if self.finalize_namespaces:
                done += self._namespaces()
                done += self._foreground_deletions()
            actions += done
            if not done:
                break
        return actions

    def start(self, interval: float = 0.5) -> FakeControllers:
        """Run reconcile_once every interval seconds in a daemon thread until stop()."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(
                target=self._loop, args=(interval,), daemon=True, name="fake-controllers"
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the loop (if any) and release the client."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
        self.client.close()

    def __enter__(self) -> FakeControllers:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _loop(self, interval: float) -> None:
        while not self._stop.is_set():
            try:
                for action in self.reconcile_once():
                    log.info("%s", action)
            except (requests.RequestException, ValueError, KeyError) as err:
                message = f"{type(err).__name__}: {err}"
                if not self.errors or self.errors[-1] != message:  # log each new error once
                    log.warning("fake controllers: %s", message)
                self.errors = [*self.errors[-19:], message]
            self._stop.wait(interval)

    # cert-manager

    def _live(self, path: str) -> Iterator[dict[str, Any]]:
        for obj in self.client.list(path):
            if not obj["metadata"].get("deletionTimestamp"):
                yield obj

    def _issuers(self) -> list[str]:
        actions = []
        for plural in ("issuers", "clusterissuers"):
            for issuer in self._live(f"/apis/{CM}/v1/{plural}"):
                ready, reason, message = self._issuer_state(issuer)
                status = set_ready(issuer, ready, reason, message)
                if status is not None:
                    self.client.patch_status(object_path(issuer, plural), status)
                    actions.append(f"{issuer['kind']} {_ref(issuer)}: Ready={ready} ({reason})")
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
        for cert in self._live(f"/apis/{CM}/v1/certificates"):
            path = object_path(cert, "certificates")
            try:
                if self._up_to_date(cert):
                    continue
                status = self._issue(cert)
                actions.append(f"Certificate {_ref(cert)}: issued into Secret {cert['spec']['secretName']}")
            except NotReady as err:
                status = set_ready(cert, False, err.reason, str(err)) or {}
                if status:
                    actions.append(f"Certificate {_ref(cert)}: not ready ({err.reason})")
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
        return current == set(_sans(cert["spec"]))

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

    # Kyverno

    def _policies(self) -> list[str]:
        actions = []
        for plural in ("clusterpolicies", "policies"):
            for policy in self._live(f"/apis/kyverno.io/v1/{plural}"):
                status = set_ready(policy, True, "Succeeded", "Ready")
                if status is None:
                    continue
                rules = (policy.get("spec") or {}).get("rules") or []
                counts = {
                    kind.lower(): sum(1 for r in rules if kind in r)
                    for kind in ("validate", "mutate", "generate", "verifyImages")
                }
                self.client.patch_status(
                    object_path(policy, plural), {**status, "ready": True, "rulecount": counts}
                )
                actions.append(f"{policy['kind']} {_ref(policy)}: Ready")
        return actions

    # namespace deletion (kube-controller-manager's namespace controller does not run either)

    def _namespaces(self) -> list[str]:
        """Empty each Terminating namespace, then drop its "kubernetes" finalizer so it goes away."""
        actions = []
        for ns in self.client.list("/api/v1/namespaces"):
            name = ns["metadata"]["name"]
            if not ns["metadata"].get("deletionTimestamp") or "kubernetes" not in ns["spec"].get(
                "finalizers", []
            ):
                continue
            collections = [
                f"{base}/namespaces/{name}/{plural}" for base, plural in self._namespaced_collections()
            ]
            for path in collections:
                self.client.delete(path)
            if any(self.client.list(path) for path in collections):
                continue  # objects with finalizers of their own: try again next round
            ns["spec"]["finalizers"] = [f for f in ns["spec"]["finalizers"] if f != "kubernetes"]
            self.client.put(f"/api/v1/namespaces/{name}/finalize", ns)
            actions.append(f"Namespace {name}: emptied and finalized")
        return actions

    def _foreground_deletions(self) -> list[str]:
        """Stand in for the garbage collector: finish foreground deletions (pulumi-kubernetes deletes with
        propagationPolicy=Foreground, which leaves a "foregroundDeletion" finalizer that only the garbage
        collector in kube-controller-manager removes; nothing here owns dependents, so it can go at once)."""
        actions = []
        for prefix, plural, namespaced in self._listable_collections():
            for obj in self.client.list(f"{prefix}/{plural}"):
                meta = obj["metadata"]
                finalizers = meta.get("finalizers") or []
                if not meta.get("deletionTimestamp") or "foregroundDeletion" not in finalizers:
                    continue
                where = f"/namespaces/{meta['namespace']}" if namespaced else ""
                path = f"{prefix}{where}/{plural}/{meta['name']}"
                patch = {"metadata": {"finalizers": [f for f in finalizers if f != "foregroundDeletion"],
                                      "resourceVersion": meta["resourceVersion"]}}
                self.client.request("PATCH", path, json=patch,
                                    headers={"Content-Type": "application/merge-patch+json"})
                actions.append(f"{plural} {meta['name']}: foreground deletion finished")
        return actions

    def _listable_collections(self) -> list[tuple[str, str, bool]]:
        """(API prefix, plural, namespaced) of every kind that can be listed and patched."""
        return [(prefix, res["name"], bool(res.get("namespaced"))) for prefix, res in self._served_kinds()
                if {"list", "patch"} <= set(res.get("verbs", []))]

    def _namespaced_collections(self) -> list[tuple[str, str]]:
        """(API prefix, plural) of every namespaced kind that can be deleted as a collection."""
        return [(prefix, res["name"]) for prefix, res in self._served_kinds()
                if res.get("namespaced") and "deletecollection" in res.get("verbs", [])]

    def _served_kinds(self) -> list[tuple[str, dict[str, Any]]]:
        """(API prefix, discovery entry) of every top-level kind the server serves (no subresources)."""
        prefixes = ["/api/v1"]
        for group in (self.client.get("/apis") or {}).get("groups", []):
            prefixes.append(f"/apis/{group['preferredVersion']['groupVersion']}")
        return [(prefix, res) for prefix in prefixes
                for res in (self.client.get(prefix) or {}).get("resources", []) if "/" not in res["name"]]


def _ref(obj: dict[str, Any]) -> str:
    meta = obj["metadata"]
    return f"{meta['namespace']}/{meta['name']}" if meta.get("namespace") else str(meta["name"])


def _stamp(when: dt.datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def main(argv: list[str] | None = None) -> int:
    """``python -m tests.support.fake_controllers --kubeconfig F [--once]``."""
    parser = argparse.ArgumentParser(description="Fake cert-manager and Kyverno controllers")
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--once", action="store_true", help="reconcile once and exit")
    parser.add_argument("--interval", type=float, default=0.5)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    controllers = FakeControllers(args.kubeconfig)
    if args.once:
        for action in controllers.reconcile_once():
            print(action)
        controllers.stop()
        return 0
    controllers.start(args.interval)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        controllers.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
