"""The program's TLS chain issued by cert-manager's own controller (issue 16), under the real engine.

A private sandbox (one containerd node; ``HARBOR_CACHE_E2E_SUBNET``, default 10.244) runs cert-manager's controller
(lab/controllers/cert_manager.py, built from the cert-manager module); one HTTPS stack is shared by the module's
tests, in file order: ``up`` -> the self-signed Issuer -> CA Certificate -> CA Issuer -> leaf chain, each
issuance an approved CertificateRequest, the leaf's names and its trust in the ``caCertificate`` output -> an edited
Certificate seen by ``refresh`` and undone by ``up`` -> a one-hour leaf renewed by cert-manager on its own while
nothing on the node changes (the node trusts the CA) and the node still pulls over HTTPS with the renewed leaf.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from pulumi import automation as auto

from lab.project import StackFile
from lab.sandbox import Sandbox
from lab.testbed import IMAGE_REPO, IMAGE_TAG
from tests.e2e.fault_sandbox import FaultStack, changes, fault_stack
from tests.support.lifecycle import containerd_pids

pytestmark = pytest.mark.engine

NS = "harbor"
LEAF = "harbor-tls"  # TlsArgs.leaf_secret of the release "harbor": the leaf Certificate and its Secret
CA = "harbor-ca"  # TlsArgs.ca_secret
EXTRA_DNS = ["harbor.certs.example", "registry.internal"]
EXTRA_IPS = ["192.0.2.10"]


@dataclass
class Chain:
    """The stack, its HTTPS port and the outputs of the first ``up``."""

    fs: FaultStack
    https_port: int
    outputs: dict[str, Any]

    @property
    def box(self) -> Sandbox:
        return self.fs.box

    @property
    def endpoint(self) -> str:
        return f"{self.box.spec.host_addr}:{self.https_port}"

    def kube_json(self, *args: str) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.box.kube.kubectl(*args, "-o", "json").stdout)
        return result

    def certificate(self, name: str = LEAF) -> dict[str, Any]:
        return self.kube_json("get", "certificates.cert-manager.io", name, "-n", NS)

    def secret_certs(self, name: str = LEAF) -> tuple[x509.Certificate, str]:
        """(first certificate of tls.crt, ca.crt PEM) of a Certificate's Secret."""
        data = self.kube_json("get", "secret", name, "-n", NS)["data"]
        leaf = x509.load_pem_x509_certificates(base64.b64decode(data["tls.crt"]))[0]
        return leaf, base64.b64decode(data["ca.crt"]).decode()

    def wait_certificate(self, jsonpath: str, timeout: int = 120) -> None:
        self.box.kube.kubectl("wait", "-n", NS, f"certificates.cert-manager.io/{LEAF}", f"--timeout={timeout}s",
                              f"--for=jsonpath={jsonpath}", timeout=timeout + 30)

    def up(self) -> auto.UpResult:
        try:
            return self.fs.stack.up(on_output=self.fs.output.append)
        except auto.CommandError as exc:
            pytest.fail(f"pulumi up failed:\n{_tail(str(exc))}")


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _serve_leaf_when_issued(box: Sandbox, port: int) -> tuple[threading.Thread, list[Exception]]:
    """In the background: once the chain fills the leaf Secret, the pull path serves it on ``port`` (as Harbor's
    nginx would), so the node verification of the same ``up`` pulls over HTTPS."""
    errors: list[Exception] = []

    def serve() -> None:
        try:
            box.serve_issued_certificate(NS, LEAF, port)
        except (TimeoutError, OSError, ValueError, KeyError, subprocess.SubprocessError) as exc:  # for the test
            errors.append(exc)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread, errors


def _sans(cert: x509.Certificate) -> tuple[set[str], set[str]]:
    ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return set(ext.get_values_for_type(x509.DNSName)), {str(ip) for ip in ext.get_values_for_type(x509.IPAddress)}


def _conditions(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["type"]: c for c in (obj.get("status") or {}).get("conditions") or []}


def _served_certificate(host: str, port: int, ca_pem: str) -> x509.Certificate:
    """The certificate an HTTPS server presents, verified against ca_pem with the address as the name."""
    context = ssl.create_default_context(cadata=ca_pem)
    with socket.create_connection((host, port), timeout=10) as raw, \
            context.wrap_socket(raw, server_hostname=host) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


@pytest.fixture(scope="module")
def chain(tmp_path_factory: pytest.TempPathFactory, cert_manager_built: Path) -> Iterator[Chain]:
    """The sandbox, an HTTPS stack with extra names, and its first ``up`` (the pull path serves the issued leaf)."""
    with fault_stack(tmp_path_factory.mktemp("certs"), "certs", nodes=1) as fs:
        https_port = fs.box.spec.harbor_port + 1

        def https(values: dict[str, Any]) -> None:
            values["harbor"]["tlsMode"] = "https"
            values["harbor"]["expose"]["nodePorts"] = {"http": fs.box.spec.harbor_port, "https": https_port}
            values["replication"] = {"enabled": False}
            values["tls"] = {"extraDnsNames": EXTRA_DNS, "extraIpAddresses": EXTRA_IPS}

        StackFile(fs.work, fs.name).edit(https)
        serving, errors = _serve_leaf_when_issued(fs.box, https_port)
        result = Chain(fs, https_port, {})
        up = result.up()
        serving.join(timeout=60)
        assert not errors, errors
        result.outputs = {k: v.value for k, v in up.outputs.items()}
        yield result


def test_up_issues_the_chain_with_cert_managers_controller(chain: Chain) -> None:
    ca_pem = chain.outputs["caCertificate"]
    assert ca_pem.startswith("-----BEGIN CERTIFICATE-----"), ca_pem[:80]
    ca = x509.load_pem_x509_certificate(ca_pem.encode())

    # cert-manager's controllers did it: Issuers Ready with its reasons, one approved and issued request per
    # Certificate, revision 1.
    issuers = [_conditions(i)["Ready"] for i in chain.kube_json("get", "issuers", "-n", NS)["items"]]
    ready = {(c["status"], c["reason"]) for c in issuers}
    assert ready == {("True", "IsReady"), ("True", "KeyPairVerified")}, issuers
    requests = chain.kube_json("get", "certificaterequests", "-n", NS)["items"]
    by_certificate = {r["metadata"]["annotations"]["cert-manager.io/certificate-name"]: r for r in requests}
    assert set(by_certificate) == {CA, LEAF}, sorted(by_certificate)
    for request in by_certificate.values():
        conds = _conditions(request)
        assert (conds["Approved"]["status"], conds["Approved"]["reason"]) == ("True", "cert-manager.io"), conds
        assert (conds["Ready"]["status"], conds["Ready"]["reason"]) == ("True", "Issued"), conds
    for name in (CA, LEAF):
        cert = chain.certificate(name)
        assert _conditions(cert)["Ready"]["status"] == "True" and cert["status"]["revision"] == 1, cert["status"]

    # The CA: self-signed, the very certificate of the output; the leaf: signed by it, every name in it.
    ca_in_secret, ca_of_ca = chain.secret_certs(CA)
    assert ca_in_secret == ca and ca_of_ca.strip() == ca_pem.strip()
    leaf, leaf_ca = chain.secret_certs(LEAF)
    assert leaf_ca.strip() == ca_pem.strip()
    leaf.verify_directly_issued_by(ca)
    dns, ips = _sans(leaf)
    assert set(EXTRA_DNS) <= dns, dns
    assert {chain.box.spec.host_addr, *EXTRA_IPS} <= ips, ips
    assert leaf.not_valid_after_utc - leaf.not_valid_before_utc == dt.timedelta(hours=2160)

    # What a node sees: the leaf served on the node endpoint verifies against the output by the endpoint's address,
    # and the node holds that CA for the endpoint.
    served = _served_certificate(chain.box.spec.host_addr, chain.https_port, ca_pem)
    assert served.serial_number == leaf.serial_number
    (node,) = chain.box.bed.nodes
    assert chain.fs.nodes_state()[node.name]["files"][f"certs.d/{chain.endpoint}/ca.crt"].strip() == ca_pem.strip()
    assert chain.outputs["nodeVerification"]["through_harbor"] is True, chain.outputs["nodeVerification"]


def test_certificate_drift_is_seen_by_refresh_and_undone_by_up(chain: Chain) -> None:
    st = chain.fs.stack
    chain.box.kube.kubectl("patch", "certificates.cert-manager.io", LEAF, "-n", NS, "--type", "merge",
                           "-p", json.dumps({"spec": {"dnsNames": ["drift.example"]}}))
    # cert-manager follows the edit on its own (revision 2, a leaf with the edited name) ...
    chain.wait_certificate("{.status.revision}=2")
    chain.wait_certificate("{.status.conditions[?(@.type=='Ready')].status}=True")
    assert _sans(chain.secret_certs()[0])[0] == {"drift.example"}

    # ... refresh reads the edited spec into the state ...
    refreshed = st.refresh(on_output=chain.fs.output.append)
    assert changes(refreshed.summary).get("update", 0) >= 1, changes(refreshed.summary)
    (stored,) = [r for r in chain.fs.deployment()["resources"]
                 if r["type"] == "kubernetes:cert-manager.io/v1:Certificate"
                 and r.get("outputs", {}).get("metadata", {}).get("name") == LEAF]
    assert stored["outputs"]["spec"]["dnsNames"] == ["drift.example"], stored["outputs"]["spec"]

    # ... and up puts the program's names back, which cert-manager issues again.
    up = chain.up()
    assert changes(up.summary).get("update", 0) >= 1, changes(up.summary)
    assert set(EXTRA_DNS) <= set(chain.certificate()["spec"]["dnsNames"])
    chain.wait_certificate("{.status.revision}=3")
    chain.wait_certificate("{.status.conditions[?(@.type=='Ready')].status}=True")
    leaf, _ = chain.secret_certs()
    assert set(EXTRA_DNS) <= _sans(leaf)[0]
    st.preview(expect_no_changes=True, on_output=chain.fs.output.append)


def test_a_short_leaf_renews_while_nothing_on_the_node_changes(chain: Chain) -> None:
    box = chain.box
    (node,) = box.bed.nodes
    before_nodes, before_pids = chain.fs.nodes_state(), containerd_pids(box.bed)
    revision = chain.certificate()["status"]["revision"]

    # A one-hour leaf renewed 15 s after it is issued (renewBefore 59m45s).
    def short(values: dict[str, Any]) -> None:
        values["tls"].update(leafDuration="1h", leafRenewBefore="59m45s")

    StackFile(chain.fs.work, chain.fs.name).edit(short)
    up = chain.up()
    # Only the leaf Certificate is updated (the read is the leaf Secret's, for the CA output).
    assert changes(up.summary).get("update") == 1, changes(up.summary)
    assert set(changes(up.summary)) <= {"same", "read", "update"}, changes(up.summary)
    assert up.outputs["caCertificate"].value == chain.outputs["caCertificate"]
    chain.wait_certificate(f"{{.status.revision}}={revision + 1}")
    chain.wait_certificate("{.status.conditions[?(@.type=='Ready')].status}=True")
    issued, _ = chain.secret_certs()
    assert issued.not_valid_after_utc - issued.not_valid_before_utc == dt.timedelta(hours=1)
    generation = chain.certificate()["metadata"]["generation"]

    # cert-manager renews on its own: same spec (generation), a later revision, a new serial, the same CA.
    chain.wait_certificate(f"{{.status.revision}}={revision + 2}", timeout=180)
    chain.wait_certificate("{.status.conditions[?(@.type=='Ready')].status}=True")
    renewed, renewed_ca = chain.secret_certs()
    assert chain.certificate()["metadata"]["generation"] == generation
    assert renewed.serial_number != issued.serial_number
    assert renewed_ca.strip() == chain.outputs["caCertificate"].strip()
    renewed.verify_directly_issued_by(x509.load_pem_x509_certificate(renewed_ca.encode()))

    # The node: no file changed, containerd not restarted, and it pulls over HTTPS with the renewed leaf served.
    box.serve_issued_certificate(NS, LEAF, chain.https_port)
    served = _served_certificate(box.spec.host_addr, chain.https_port, chain.outputs["caCertificate"])
    assert served.serial_number != issued.serial_number
    by_harbor = f"{chain.endpoint}/mif/{IMAGE_REPO}:{IMAGE_TAG}"
    ok, log = box.pulled_through_cache(node.name, image=by_harbor, project="mif")
    assert ok, f"{node.name} did not pull {by_harbor} over HTTPS with the renewed leaf: {log}"
    assert chain.fs.nodes_state() == before_nodes
    assert containerd_pids(box.bed) == before_pids

    # The program sees nothing to do after a renewal.
    again = chain.up()
    assert set(changes(again.summary)) <= {"same", "read"}, changes(again.summary)

