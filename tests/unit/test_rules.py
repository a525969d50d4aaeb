"""components/rules.py: each shared rule accepts what Harbor / Kubernetes accept and rejects the rest."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from components import rules

ROOT = Path(__file__).resolve().parents[2]


def test_rules_module_is_pure() -> None:
    # Standard library only (no Pulumi, no pydantic), so settings, providers and renderers can all import it.
    allowed = {"__future__", "base64", "binascii", "collections", "decimal", "ipaddress", "pathlib", "re", "ssl",
               "struct", "typing", "urllib", "components"}
    for path in sorted((ROOT / "components" / "rules").glob("*.py")):
        tree = ast.parse(path.read_text())
        imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                    for alias in node.names}
        imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert imported <= allowed, (path.name, imported - allowed)
        internal = {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                    and (node.module or "").startswith("components")}
        assert all(m.startswith("components.rules") for m in internal), (path.name, internal)


@pytest.mark.parametrize("name", ["mif", "mif-replica", "a", "a.b_c-d", "0", "x" * 255])
def test_project_name_accepted(name: str) -> None:
    assert rules.project_name_problem(name) is None


@pytest.mark.parametrize("name", ["", "Mif", "-mif", "mif-", "mi--f", "mi._f", "mif/x", "x" * 256, "m if"])
def test_project_name_rejected(name: str) -> None:
    problem = rules.project_name_problem(name)
    assert problem is not None and "Harbor project name" in problem


@pytest.mark.parametrize("url", [
    "https://255250787067.dkr.ecr.ap-northeast-2.amazonaws.com",
    "https://255250787067.dkr.ecr.ap-northeast-2.amazonaws.com/",
    "https://123.dkr.ecr-fips.us-east-1.amazonaws.com",
    "https://123.dkr.ecr.cn-north-1.amazonaws.com.cn",
    "https://api.ecr.us-east-1.amazonaws.com",
])
def test_ecr_url_accepted(url: str) -> None:
    assert rules.is_ecr_url(url)


@pytest.mark.parametrize("url", [
    "http://255250787067.dkr.ecr.ap-northeast-2.amazonaws.com",
    "https://255250787067.dkr.ecr.ap-northeast-2.amazonaws.com/path",
    "https://255250787067.dkr.ecr.ap-northeast-2.amazonaws.com.evil.example",
    "https://registry-1.docker.io",
    "xhttps://123.dkr.ecr.us-east-1.amazonaws.com",
    "https://123.dkr.ecr-public.us-east-1.amazonaws.com",  # Harbor v2.15.2 on; v2.14 answers 500
])
def test_ecr_url_rejected(url: str) -> None:
    assert not rules.is_ecr_url(url)


def test_registry_types() -> None:
    # Every type the chart permits for a proxy cache (registries.py); quay is an adapter but not permitted.
    assert set(rules.REGISTRY_TYPES) == rules.CHART_PROXY_CACHE_TYPES
    assert {"aws-ecr", "docker-hub", "docker-registry", "harbor", "github-ghcr"} <= set(rules.REGISTRY_TYPES)
    assert "quay" not in rules.REGISTRY_TYPES


@pytest.mark.parametrize("cron", ["0 0 */6 * * *", "0 30 2 * * MON-FRI", "0 0 0 1 JAN ?", "0 */15 * * * *",
                                  "0 0,30 8-18 ? * *", "0 59 23 31 12 6"])
def test_cron_accepted(cron: str) -> None:
    assert rules.cron_problem(cron) is None


@pytest.mark.parametrize(("cron", "needle"), [
    ("0 0 25 * * *", "outside 0-23"),
    ("0 0 * * *", "6 space-separated fields"),
    ("0 0 0 0 * *", "outside 1-31"),
    ("0 0 0 * 13 *", "outside 1-12"),
    ("0 0 0 * * 7", "outside 0-6"),
    ("0 0 0 * FOO *", "outside 1-12"),
    ("0 */0 * * * *", "bad step"),
    ("5 0 0 * * *", "seconds"),
    ("0 * 0 * * *", "minutes"),
    ("0 0 ? * * *", "field 3"),
])
def test_cron_rejected(cron: str, needle: str) -> None:
    problem = rules.cron_problem(cron)
    assert problem is not None and needle in problem


@pytest.mark.parametrize(("value", "expected"), [
    ("10.0.0.11", True), ("::1", True), ("fe80::1", True), ("harbor.local", False), ("10.0.0.256", False), ("", False),
])
def test_is_ip(value: str, expected: bool) -> None:
    assert rules.is_ip(value) is expected


@pytest.mark.parametrize(("value", "expected"), [
    ("harbor.local", True), ("Harbor.Example.COM", True), ("10.0.0.11", True), ("::1", True), ("a" * 63, True),
    ("a" * 64, False), ("-bad.example", False), ("bad-.example", False), ("harbor.local:443", False), ("", False),
    ("under_score.example", False), (".".join(["a" * 60] * 5), False),
])
def test_is_host(value: str, expected: bool) -> None:
    assert rules.is_host(value) is expected


def test_bracket_wraps_only_ipv6() -> None:
    assert rules.bracket("fe80::1") == "[fe80::1]"
    assert rules.bracket("10.0.0.1") == "10.0.0.1"
    assert rules.bracket("harbor.local") == "harbor.local"


@pytest.mark.parametrize(("value", "expected"), [
    ("harbor.local", ("harbor.local", None)), ("harbor.local:30003", ("harbor.local", 30003)),
    ("10.0.0.1:5000", ("10.0.0.1", 5000)), ("host:abc", ("host:abc", None)),
])
def test_split_host_port(value: str, expected: tuple[str, int | None]) -> None:
    assert rules.split_host_port(value) == expected


@pytest.mark.parametrize("value", ["registry.internal.example:5000", "10.0.0.11:30003", "harbor",
                                   "255250787067.dkr.ecr.ap-northeast-2.amazonaws.com"])
def test_registry_host_accepted(value: str) -> None:
    assert rules.registry_host_problem(value) is None


@pytest.mark.parametrize(("value", "needle"), [
    ("Registry.Example", "not a registry host"), ("https://r.example", "not a registry host"),
    ("r.example/path", "not a registry host"), ("r.example:0", "outside 1-65535"),
    ("r.example:70000", "outside 1-65535"), ("", "not a registry host"),
])
def test_registry_host_rejected(value: str, needle: str) -> None:
    problem = rules.registry_host_problem(value)
    assert problem is not None and needle in problem


@pytest.mark.parametrize(("name", "ok"), [
    ("kube-system", True), ("a", True), ("a" * 63, True), ("a" * 64, False), ("Kube", False), ("a.b", False),
    ("-a", False), ("", False),
])
def test_namespace_names(name: str, ok: bool) -> None:
    assert (rules.namespace_problem(name) is None) is ok


@pytest.mark.parametrize(("name", "ok"), [
    ("harbor-cache-image-rewrite", True), ("a.b.c", True), ("A.b", False), ("a..b", False), ("", False),
    (".".join(["a" * 63] * 3 + ["a" * 61]), True), (".".join(["a" * 63] * 3 + ["a" * 62]), False),
])
def test_subdomain_names(name: str, ok: bool) -> None:
    assert (rules.subdomain_problem(name) is None) is ok


@pytest.mark.parametrize(("value", "ok"), [
    ("1.18.2", True), ("v1.19.1", True), ("1.0.0-rc.1", True), ("1.0.0+build.5", True), ("1.18", False),
    ("~1.18.2", False), ("1.18.x", False), ("latest", False), ("", False), (">=1.0.0", False),
])
def test_pinned_version(value: str, ok: bool) -> None:
    assert rules.is_pinned_version(value) is ok


@pytest.mark.parametrize(("value", "ok"), [
    ("2160h", True), ("720h30m", True), ("90s", True), ("1h2m3s", True), ("1m2h", True), ("1.5h", True),
    ("0", True), ("", False), ("2160", False), ("30d", False), ("-5h", False), ("h", False), ("5 h", False),
])
def test_durations_follow_go(value: str, ok: bool) -> None:
    # Go's time.ParseDuration, as cert-manager reads them (units in any order, fractions; no days).
    assert (rules.duration_problem(value) is None) is ok


def test_duration_hints() -> None:
    assert "30d is 720h" in (rules.duration_problem("30d") or "")
    assert "give a unit, e.g. 2160h" in (rules.duration_problem("2160") or "")
    assert rules.go_duration_seconds("1m2h") == 7260.0


# --- receivers' rules (issue 14) ------------------------------------------------------------------------------

@pytest.mark.parametrize(("value", "ok"), [
    ("200Gi", True), ("1.5Gi", True), ("100G", True), ("5e9", True), ("1Ki", True), ("500M", True), ("1", True),
    ("100GB", False), ("lots", False), ("5gi", False), ("0", False), ("-1Gi", False), ("Gi", False), ("", False),
    ("1.2.3Gi", False), ("10 Gi", False),
])
def test_storage_sizes_follow_kubernetes_quantities(value: str, ok: bool) -> None:
    assert (rules.storage_size_problem(value) is None) is ok


def test_storage_size_hints() -> None:
    assert "no B: write 100G for powers of 1000 or 100Gi for 1024" in (rules.storage_size_problem("100GB") or "")
    assert "Gi, not gi" in (rules.storage_size_problem("5gi") or "")
    assert "greater than zero" in (rules.storage_size_problem("0") or "")
    assert rules.quantity_bytes("1.5Gi") == 1.5 * 2**30 and rules.quantity_bytes("2k") == 2000


@pytest.mark.parametrize(("name", "needle"), [
    ("harbor.example.com", None), ("*.example.com", None), ("Harbor.Example", None), ("a b.example", "not a DNS name"),
    ("a.*.example", "not the whole first label"), ("*foo.example", "not the whole first label"),
    ("10.0.0.1", "put it in tls.extraIpAddresses"), ("under_score.example", "not a DNS name"), ("", "not a DNS name"),
    ("x" * 64 + ".example", "not a DNS name"),
])
def test_certificate_dns_names(name: str, needle: str | None) -> None:
    problem = rules.dns_name_problem(name, wildcard=True)
    assert problem is None if needle is None else needle in (problem or "")


@pytest.mark.parametrize(("password", "needle"), [
    ("Harbor12345", None), ("Aa345678", None), ("Aa3" + "x" * 125, None), ("Ä" * 4 + "a1B", None),
    ("admin-pw-123", "no uppercase letter"), ("SHORT1a", "it has 7 characters"), ("ALLUPPER123", "no lowercase"),
    ("NoDigitsHere", "no digit"), ("Aa3" + "x" * 126, "it has 129 characters"),
])
def test_harbor_password_rule(password: str, needle: str | None) -> None:
    problem = rules.harbor_password_problem(password)
    assert problem is None if needle is None else (needle in (problem or "") and password not in (problem or ""))


@pytest.mark.parametrize(("user", "ok"), [("admin", True), ("robot$cache", True), ("a:b", False), ("a b", False),
                                          ("", False)])
def test_harbor_api_user(user: str, ok: bool) -> None:
    assert (rules.harbor_username_problem(user) is None) is ok


@pytest.mark.parametrize(("value", "ok"), [(-1, True), (1, True), (1024**5, True), (0, False), (-2, False),
                                           (1024**5 + 1, False)])
def test_storage_limit_like_harbor(value: int, ok: bool) -> None:
    assert (rules.storage_limit_problem(value) is None) is ok


@pytest.mark.parametrize(("duration", "renew", "which"), [
    ("2160h", "720h", []), ("1h", "5m", []), ("59m", "5m", ["duration"]), ("2h", "4m", ["renewBefore"]),
    ("720h", "720h", ["renewBefore"]), ("1h", "2h", ["renewBefore"]),
])
def test_cert_manager_lifetimes(duration: str, renew: str, which: list[str]) -> None:
    assert [w for w, _ in rules.lifetime_problems(duration, renew)] == which


@pytest.mark.parametrize(("ref", "ok"), [
    ("docker.io/library/busybox:1.37", True), ("busybox", True), ("10.0.0.1:5000/quickstart/hello:v1", True),
    ("r.example/a/b@sha256:" + "a" * 64, True), ("localhost:5000/x", True), ("Busybox", False),
    ("busybox:", False), ("busybox:1.37 ", False), ("http://r.example/x", False), ("", False),
])
def test_image_references(ref: str, ok: bool) -> None:
    assert (rules.image_reference_problem(ref) is None) is ok


def test_image_registry() -> None:
    assert rules.image_registry("busybox:1.37") == "docker.io"
    assert rules.image_registry("10.0.0.1:5000/quickstart/hello:v1") == "10.0.0.1:5000"
    assert rules.image_registry("quickstart/hello") == "docker.io"


@pytest.mark.parametrize(("name", "ok"), [
    ("harbor", True), ("my-harbor", True), ("cache", True), ("Harbor", False), ("1harbor", False), ("a.b", False),
    ("harbor" + "x" * 37, True), ("harbor" + "x" * 38, False), ("x" * 36, True), ("x" * 37, False),
])
def test_harbor_release_names(name: str, ok: bool) -> None:
    # Helm's rule, plus the chart's: Service names are DNS-1035 labels, StatefulSet names at most 52 characters.
    assert (rules.harbor_release_name_problem(name) is None) is ok


@pytest.mark.parametrize(("url", "ok"), [
    ("proxy.internal:3128", True), ("http://proxy:3128", True), ("socks5://p:1080", True), ("ftp://p", False),
    ("http://proxy/x", False), ("http://:3128", False), ("http://p:99999", False),
])
def test_egress_proxy_urls_as_go_reads_them(url: str, ok: bool) -> None:
    assert (rules.proxy_url_problem(url) is None) is ok


def test_no_proxy_entries_go_never_matches() -> None:
    assert rules.no_proxy_warnings("127.0.0.1,localhost,.local,*.x.io,10.0.0.0/8,host:80, ") == []
    (warning,) = rules.no_proxy_warnings("localhost,http://proxy.example")
    assert "'http://proxy.example' never matches" in warning


@pytest.mark.parametrize(("addr", "sentinel", "ok"), [
    ("redis:6379", False, True), ("a:26379,b:26379", True, True), ("a:1,b:2", False, False), ("redis", False, False),
    ("redis:0", False, False),
])
def test_redis_addresses(addr: str, sentinel: bool, ok: bool) -> None:
    assert (rules.redis_addr_problem(addr, sentinel=sentinel) is None) is ok


ED25519_HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"


@pytest.mark.parametrize(("key", "needle"), [
    (ED25519_HOST_KEY, None), (ED25519_HOST_KEY + " root@node", None), ("ssh-ed25519", "'<type> <base64>'"),
    ("ssh-dss AAAA", "not one of"), ("ssh-rsa " + ED25519_HOST_KEY.split()[1], "the key inside is ssh-ed25519"),
    ("ssh-ed25519 AAAA%%%", "damaged"),
])
def test_pinned_host_keys(key: str, needle: str | None) -> None:
    problem = rules.host_key_problem(key)
    assert problem is None if needle is None else needle in (problem or "")


def _private_keys() -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization as s
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, rsa

    none, pw = s.NoEncryption(), s.BestAvailableEncryption(b"passphrase")
    ec_key, rsa_key = ec.generate_private_key(ec.SECP256R1()), rsa.generate_private_key(65537, 2048)
    made: dict[str, tuple[Any, s.PrivateFormat, s.KeySerializationEncryption]] = {
        "ed25519-openssh": (ed25519.Ed25519PrivateKey.generate(), s.PrivateFormat.OpenSSH, none),
        "ed25519-openssh-passphrase": (ed25519.Ed25519PrivateKey.generate(), s.PrivateFormat.OpenSSH, pw),
        "ecdsa-pem": (ec_key, s.PrivateFormat.TraditionalOpenSSL, none),
        "ecdsa-pem-passphrase": (ec_key, s.PrivateFormat.TraditionalOpenSSL, pw),
        "ecdsa-pkcs8": (ec_key, s.PrivateFormat.PKCS8, none),
        "rsa-pem": (rsa_key, s.PrivateFormat.TraditionalOpenSSL, none),
        "rsa-openssh": (rsa_key, s.PrivateFormat.OpenSSH, none),
        "rsa-pkcs8-passphrase": (rsa_key, s.PrivateFormat.PKCS8, pw),
        "dsa-pem": (dsa.generate_private_key(2048), s.PrivateFormat.TraditionalOpenSSL, none),
    }
    keys = {name: key.private_bytes(s.Encoding.PEM, fmt, enc).decode() for name, (key, fmt, enc) in made.items()}
    keys["public-key"] = ED25519_HOST_KEY
    keys["truncated"] = keys["ed25519-openssh"][:120]
    return keys


def test_private_key_rule_agrees_with_the_ssh_transport() -> None:
    # The receiver is components/node_ssh.load_private_key (paramiko): the rule accepts exactly what it loads.
    from components.ssh import load_private_key

    for name, key in _private_keys().items():
        try:
            load_private_key(key)
            loads = True
        except Exception:  # noqa: BLE001 - any failure to load means the transport cannot use the key
            loads = False
        problem = rules.ssh_private_key_problem(key)
        assert (problem is None) is loads, (name, problem)
        assert problem is None or key.strip().splitlines()[1 if "\n" in key else 0][:20] not in problem


def self_signed_pem() -> str:
    """A real CA certificate (PEM)."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True).sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def test_pem_certificates_as_openssl_reads_them() -> None:
    pem = self_signed_pem()
    assert rules.pem_certificates_problem(pem) is None
    assert "not a PEM certificate" in (rules.pem_certificates_problem("hello") or "")
    assert "OpenSSL" in (rules.pem_certificates_problem(pem[:200] + "\n-----END CERTIFICATE-----\n") or "")
