"""components/rules.py: each shared rule accepts what Harbor / Kubernetes accept and rejects the rest."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from components import rules

ROOT = Path(__file__).resolve().parents[2]


def test_rules_module_is_pure() -> None:
    tree = ast.parse((ROOT / "components" / "rules.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {(node.module or "").split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"__future__", "ipaddress", "re", "typing"}


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
    assert rules.REGISTRY_TYPES == ("aws-ecr", "docker-registry", "harbor")


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
    ("2160h", True), ("720h30m", True), ("90s", True), ("1h2m3s", True), ("", False), ("2160", False),
    ("30d", False), ("1m2h", False), ("-5h", False),
])
def test_durations(value: str, ok: bool) -> None:
    assert (rules.duration_problem(value) is None) is ok
