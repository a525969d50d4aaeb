"""The local control plane (lab/kube, scripts/kube-local): kube-controller-manager's controllers, the real
cert-manager and Kyverno CRDs, and cert-manager's controller issuing a CA chain (Kyverno's real admission
controller: test_admission.py)."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509

from lab.controllers import Controllers, cert_manager
from lab.kube import KubeError, LocalKube, crd_files
from lab.paths import ROOT as REPO
from lab.paths import read_versions
from lab.processes import pid_alive
from tests.support.requirements import require_kube

pytestmark = pytest.mark.engine

NS = "harbor"


@pytest.fixture(scope="module")
def kube(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKube]:
    require_kube()
    with LocalKube(tmp_path_factory.mktemp("kube")) as running:
        print(f"control plane ready in {running.start_seconds:.1f}s at {running.server_url}")
        yield running


@pytest.fixture(scope="module")
def crds(kube: LocalKube) -> list[str]:
    return kube.apply_manifests(crd_files())


def apply(kube: LocalKube, tmp_path: Path, *docs: dict[str, Any]) -> None:
    path = tmp_path / f"objects-{time.monotonic_ns()}.yaml"
    path.write_text(yaml.safe_dump_all(docs))
    kube.apply_manifests([path])


def get(kube: LocalKube, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
    ns = ["-n", namespace] if namespace else []
    return dict(json.loads(kube.kubectl("get", kind, name, *ns, "-o", "json").stdout))


def certificate(name: str, secret: str, issuer: str, kind: str = "Issuer", **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"secretName": secret, "issuerRef": {"name": issuer, "kind": kind}, **spec},
    }


def secret_certs(kube: LocalKube, name: str) -> tuple[x509.Certificate, x509.Certificate, dict[str, str]]:
    """(leaf, ca.crt, data) of a TLS Secret."""
    secret = get(kube, "secret", name, NS)
    assert secret["type"] == "kubernetes.io/tls"
    data = secret["data"]
    leaf = x509.load_pem_x509_certificates(base64.b64decode(data["tls.crt"]))[0]
    ca = x509.load_pem_x509_certificate(base64.b64decode(data["ca.crt"]))
    return leaf, ca, data


def sans(cert: x509.Certificate) -> tuple[set[str], set[str]]:
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    ips = {str(ip) for ip in ext.get_values_for_type(x509.IPAddress)}
    return set(ext.get_values_for_type(x509.DNSName)), ips


def ready(obj: dict[str, Any]) -> str | None:
    conds = (obj.get("status") or {}).get("conditions") or []
    return next((c["status"] for c in conds if c["type"] == "Ready"), None)


def test_kubectl_talks_to_the_api_server(kube: LocalKube) -> None:
    names = kube.kubectl("get", "ns", "-o", "name").stdout.split()
    assert {"namespace/default", "namespace/kube-system"} <= set(names)
    version = json.loads(kube.kubectl("version", "-o", "json").stdout)["serverVersion"]
    assert version["gitVersion"] == "v" + read_versions()["KUBE_VERSION"]
    assert kube.server_url.startswith("https://127.0.0.1:")
    assert kube.start_seconds is not None and kube.start_seconds < 60
    # the admin user is system:masters under RBAC
    assert kube.kubectl("auth", "can-i", "*", "*", "--all-namespaces").stdout.strip() == "yes"


def test_sandbox_crds_register_the_kinds(kube: LocalKube, crds: list[str], tmp_path: Path) -> None:
    assert sorted(crds) == sorted(
        f"customresourcedefinition.apiextensions.k8s.io/{n}"
        for n in (
            "issuers.cert-manager.io",
            "clusterissuers.cert-manager.io",
            "certificates.cert-manager.io",
            "certificaterequests.cert-manager.io",
            "clusterpolicies.kyverno.io",
            "policies.kyverno.io",
        )
    )
    # the real CRDs (read from the Go module cache at the pinned versions) validate what they store
    for path in crd_files():
        assert "@v" + read_versions()["CERT_MANAGER_VERSION" if "cert-manager" in str(path) else "KYVERNO_VERSION"] \
            in str(path)
    bad = certificate("bad", "bad-tls", "none", dnsNames=["x.local"], privateKey={"algorithm": "DSA"})
    with pytest.raises(KubeError, match=r"spec\.privateKey\.algorithm"):
        apply(kube, tmp_path, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}}, bad)
    resources = kube.kubectl("api-resources", "--api-group=cert-manager.io", "-o", "wide").stdout
    assert "ClusterIssuer" in resources and "Certificate" in resources
    scopes = {
        line.split()[0]: line.split()[-1]
        for line in kube.kubectl(
            "get", "crd", "-o", "custom-columns=N:.metadata.name,S:.spec.scope", "--no-headers"
        ).stdout.splitlines()
    }
    assert scopes["clusterissuers.cert-manager.io"] == "Cluster"
    assert scopes["certificates.cert-manager.io"] == "Namespaced"
    assert scopes["clusterpolicies.kyverno.io"] == "Cluster"
    assert scopes["policies.kyverno.io"] == "Namespaced"


CA_KEY = {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Never"}
CHAIN = [
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}},
    {
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": {"name": "selfsigned"},
        "spec": {"selfSigned": {}},
    },
    certificate(
        "harbor-ca",
        "harbor-ca",
        "selfsigned",
        "ClusterIssuer",
        isCA=True,
        commonName="harbor-ca",
        duration="87600h",
        privateKey=CA_KEY,
    ),
    {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Issuer",
        "metadata": {"name": "harbor-ca", "namespace": NS},
        "spec": {"ca": {"secretName": "harbor-ca"}},
    },
    certificate(
        "harbor",
        "harbor-tls",
        "harbor-ca",
        dnsNames=["harbor.local", "core.harbor.svc"],
        ipAddresses=["127.0.0.1", "10.0.0.10"],
        duration="2160h",
        renewBefore="360h",
    ),
]


@pytest.fixture(scope="module")
def cert_manager_running(
    kube: LocalKube, crds: list[str], cert_manager_built: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Controllers]:
    """cert-manager's controller (lab/controllers) against this module's API server, until the module ends."""
    with Controllers(tmp_path_factory.mktemp("controllers")) as controllers:
        controllers.start([cert_manager(kube.kubeconfig_path, controllers.state_dir)])
        yield controllers


@pytest.fixture(scope="module")
def chain(kube: LocalKube, cert_manager_running: Controllers, tmp_path_factory: pytest.TempPathFactory) -> None:
    """The cert-manager CA chain, issued by cert-manager's controller."""
    apply(kube, tmp_path_factory.mktemp("chain"), *CHAIN)
    kube.kubectl("wait", "-n", NS, "certificate/harbor-ca", "certificate/harbor", "--for=condition=Ready",
                 "--timeout=90s")


def test_cert_manager_issues_a_ca_chain(kube: LocalKube, cert_manager_running: Controllers, chain: None) -> None:
    ca_cert = get(kube, "certificate", "harbor-ca", NS)
    leaf_cert = get(kube, "certificate", "harbor", NS)
    assert ready(ca_cert) == "True" and ready(leaf_cert) == "True"
    assert ready(get(kube, "issuer", "harbor-ca", NS)) == "True"
    assert ready(get(kube, "clusterissuer", "selfsigned")) == "True"
    assert leaf_cert["status"]["revision"] == 1 and leaf_cert["status"]["notAfter"]
    # cert-manager's own way there: an approved CertificateRequest per issuance (the approver controller)
    requests = json.loads(kube.kubectl("get", "certificaterequests", "-n", NS, "-o", "json").stdout)["items"]
    (request,) = [r for r in requests
                  if r["metadata"]["annotations"]["cert-manager.io/certificate-name"] == "harbor"]
    approved = {c["type"]: c for c in request["status"]["conditions"]}["Approved"]
    assert (approved["status"], approved["reason"]) == ("True", "cert-manager.io"), approved

    ca, ca_of_ca, _ = secret_certs(kube, "harbor-ca")
    assert ca == ca_of_ca  # self-signed: ca.crt is the certificate itself
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    leaf, leaf_ca, data = secret_certs(kube, "harbor-tls")
    assert leaf_ca == ca
    leaf.verify_directly_issued_by(ca)
    assert sans(leaf) == ({"harbor.local", "core.harbor.svc"}, {"127.0.0.1", "10.0.0.10"})
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert base64.b64decode(data["tls.key"]).startswith(b"-----BEGIN RSA PRIVATE KEY-----")

    time.sleep(3)  # settled: nothing is issued again while the spec stays the same
    assert get(kube, "certificate", "harbor", NS)["status"]["revision"] == 1
    cert_manager_running.check()


def test_an_edited_certificate_is_issued_again(
    kube: LocalKube, cert_manager_running: Controllers, chain: None, tmp_path: Path
) -> None:
    kube.kubectl("patch", "certificate", "harbor", "-n", NS, "--type=merge",
                 "-p", json.dumps({"spec": {"dnsNames": ["harbor.example"]}}))
    kube.kubectl("wait", "-n", NS, "certificate/harbor", "--timeout=60s",
                 "--for=jsonpath={.status.revision}=2")
    kube.kubectl("wait", "-n", NS, "certificate/harbor", "--for=condition=Ready", "--timeout=60s")
    apply(kube, tmp_path, certificate("late", "late-tls", "harbor-ca", dnsNames=["late.local"]))
    kube.kubectl("wait", "-n", NS, "certificate/late", "--for=condition=Ready", "--timeout=60s")
    cert_manager_running.check()
    leaf, ca, _ = secret_certs(kube, "harbor-tls")
    assert sans(leaf) == ({"harbor.example"}, {"127.0.0.1", "10.0.0.10"})
    leaf.verify_directly_issued_by(ca)
    assert sans(secret_certs(kube, "late-tls")[0])[0] == {"late.local"}


def test_cli_runs_a_second_instance_and_stop_cleans_up(kube: LocalKube, tmp_path: Path) -> None:
    cli = [str(REPO / "scripts" / "kube-local"), "--state-dir", str(tmp_path / "cli")]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*cli, *args], capture_output=True, text=True, timeout=180, check=False)

    assert run("status").returncode == 3
    started = run("start", "--crds")
    assert started.returncode == 0, started.stderr
    second = LocalKube(tmp_path / "cli")  # attaches to what the CLI started
    pids = second.pids
    assert second.is_ready() and second.server_url != kube.server_url and kube.is_ready()
    assert run("status").returncode == 0
    exports = run("env").stdout
    assert exports.strip() == f"export KUBECONFIG={second.kubeconfig_path}"
    env = {**os.environ, "KUBECONFIG": str(second.kubeconfig_path)}
    crds = subprocess.run(
        ["kubectl", "get", "crd", "-o", "name"], env=env, capture_output=True, text=True, check=True
    )
    assert "customresourcedefinition.apiextensions.k8s.io/certificates.cert-manager.io" in crds.stdout
    assert run("start").returncode == 0 and LocalKube(tmp_path / "cli").pids == pids  # idempotent

    assert run("stop").returncode == 0
    assert not any(pid_alive(pid) for pid in pids.values())
    leftovers = {p.name for p in (tmp_path / "cli").iterdir()}
    assert leftovers == {"logs"}
    assert run("status").returncode == 3
    assert kube.is_ready()  # the other instance is untouched


def test_deleted_namespace_is_emptied_and_goes_away(kube: LocalKube, crds: list[str], tmp_path: Path) -> None:
    """kube-controller-manager's namespace controller empties and finalizes a deleted namespace."""
    doomed = [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "doomed"}},
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "left", "namespace": "doomed"}},
        {
            **certificate("c", "c-tls", "none", dnsNames=["x.local"]),
            "metadata": {"name": "c", "namespace": "doomed"},
        },
    ]
    apply(kube, tmp_path, *doomed)
    kube.kubectl("delete", "namespace", "doomed", "--wait=false")
    kube.kubectl("wait", "--for=delete", "namespace/doomed", "--timeout=60s")
    apply(kube, tmp_path, doomed[0])
    leftovers = kube.kubectl("get", "configmap,certificate", "-n", "doomed", "-o", "name").stdout.split()
    assert [n for n in leftovers if "kube-root-ca" not in n] == []


def test_deployments_make_pending_pods_and_foreground_deletion_collects_them(kube: LocalKube) -> None:
    """Deployment -> ReplicaSet -> Pods (Pending: no scheduler or kubelet), owner references set by the
    controllers; a foreground delete (as pulumi-kubernetes deletes) waits for the garbage collector."""
    kube.kubectl("create", "deployment", "web", "-n", "default", "--image=registry.invalid/web:1", "--replicas=2")
    kube.kubectl("wait", "-n", "default", "deployment/web", "--timeout=60s",
                 "--for=jsonpath={.status.replicas}=2")
    (rs,) = json.loads(kube.kubectl("get", "rs", "-n", "default", "-l", "app=web", "-o", "json").stdout)["items"]
    assert rs["metadata"]["ownerReferences"][0]["kind"] == "Deployment"
    pods = json.loads(kube.kubectl("get", "pods", "-n", "default", "-l", "app=web", "-o", "json").stdout)["items"]
    assert len(pods) == 2
    assert {p["metadata"]["ownerReferences"][0]["name"] for p in pods} == {rs["metadata"]["name"]}
    assert {p["status"]["phase"] for p in pods} == {"Pending"}
    kube.kubectl("delete", "deployment", "web", "-n", "default", "--cascade=foreground", "--timeout=60s")
    left = kube.kubectl("get", "rs,pods", "-n", "default", "-l", "app=web", "-o", "name").stdout.split()
    assert left == []
