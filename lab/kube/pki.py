"""Certificates and the admin kubeconfig of a local control plane (made with the openssl command)."""

from __future__ import annotations

import base64
import secrets
import subprocess
from collections.abc import Sequence
from pathlib import Path

from lab.kube.tools import KubeError


def _openssl(*args: str) -> None:
    proc = subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise KubeError(f"openssl {' '.join(args[:2])} failed: {proc.stderr.strip()}")


def _new_key(path: Path) -> None:
    _openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(path))
    path.chmod(0o600)


def _signed_cert(pki: Path, name: str, subject: str, extensions: Sequence[str]) -> None:
    """Make <name>.key and <name>.crt signed by ca.crt/ca.key with the given X.509v3 extension lines."""
    key, csr, ext = pki / f"{name}.key", pki / f"{name}.csr", pki / f"{name}.ext"
    _new_key(key)
    ext.write_text("\n".join(extensions) + "\n")
    _openssl("req", "-new", "-key", str(key), "-subj", subject, "-out", str(csr))
    _openssl(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(pki / "ca.crt"),
        "-CAkey",
        str(pki / "ca.key"),
        "-set_serial",
        "0x" + secrets.token_hex(16),
        "-days",
        "3650",
        "-sha256",
        "-extfile",
        str(ext),
        "-out",
        str(pki / f"{name}.crt"),
    )
    csr.unlink()
    ext.unlink()


CLIENTS = {
    "admin": "/O=system:masters/CN=harbor-cache-admin",
    # kube-controller-manager runs every controller under its own identity (--use-service-account-credentials
    # =false), so it needs all of them: the garbage collector and namespace controller touch every kind.
    "controller-manager": "/O=system:masters/CN=system:kube-controller-manager",
}


def make_pki(pki: Path) -> None:
    """Create a CA, the apiserver serving cert, client certs (admin, controller manager) and the
    service-account key pair the API server verifies and the controller manager signs tokens with."""
    pki.mkdir(parents=True, exist_ok=True)
    _new_key(pki / "ca.key")
    _openssl(
        "req",
        "-x509",
        "-new",
        "-key",
        str(pki / "ca.key"),
        "-subj",
        "/CN=harbor-cache-local-ca",
        "-days",
        "3650",
        "-sha256",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-out",
        str(pki / "ca.crt"),
    )
    dns = ("localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc")
    sans = ",".join([*(f"DNS:{d}" for d in dns), "IP:127.0.0.1", "IP:10.0.0.1"])
    _signed_cert(
        pki,
        "apiserver",
        "/CN=kube-apiserver",
        [
            "basicConstraints=critical,CA:FALSE",
            "keyUsage=critical,digitalSignature",
            "extendedKeyUsage=serverAuth",
            f"subjectAltName={sans}",
        ],
    )
    for name, subject in CLIENTS.items():
        _signed_cert(
            pki,
            name,
            subject,
            [
                "basicConstraints=critical,CA:FALSE",
                "keyUsage=critical,digitalSignature",
                "extendedKeyUsage=clientAuth",
            ],
        )
    _new_key(pki / "sa.key")
    _openssl("pkey", "-in", str(pki / "sa.key"), "-pubout", "-out", str(pki / "sa.pub"))


def kubeconfig_text(server: str, pki: Path, name: str = "harbor-cache-local", client: str = "admin") -> str:
    """A kubeconfig for one of the CLIENTS (default: admin) with the CA, client certificate and key embedded."""

    def b64(file: str) -> str:
        return base64.b64encode((pki / file).read_bytes()).decode()

    return (
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: {name}\n  cluster:\n    server: {server}\n"
        f"    certificate-authority-data: {b64('ca.crt')}\n"
        f"users:\n- name: {name}-{client}\n  user:\n"
        f"    client-certificate-data: {b64(client + '.crt')}\n    client-key-data: {b64(client + '.key')}\n"
        f"contexts:\n- name: {name}\n  context:\n    cluster: {name}\n    user: {name}-{client}\n"
        f"    namespace: default\ncurrent-context: {name}\n"
    )
