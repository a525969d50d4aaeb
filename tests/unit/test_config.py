"""Settings validation: the example stacks pass, each rejected input fails with a message naming its key."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from components.settings import SettingsError, load_stack_file, validate

ROOT = Path(__file__).resolve().parents[2]
ECR = "https://255250787067.dkr.ecr.ap-northeast-2.amazonaws.com"
ALL_SECRETS = {"adminPassword": True, "upstreamSecretKey": True, "sshPrivateKey": True}


def base() -> dict[str, Any]:
    return {
        "harbor": {"tlsMode": "http", "expose": {"type": "nodePort", "nodeAddress": "10.0.0.11"}},
        "upstream": {"name": "moreh-ecr", "url": ECR, "accessKeyId": "AKIAIOSFODNN7EXAMPLE"},
        "proxyProject": {"name": "mif"},
        "nodes": {"transport": "ssh", "hosts": [{"name": "n1", "address": "10.0.0.11"},
                                                 {"name": "n2", "address": "10.0.0.12"}]},
    }


def errors_of(raw: dict[str, Any], secrets: dict[str, bool] | None = None) -> list[str]:
    with pytest.raises(SettingsError) as info:
        validate(raw, ALL_SECRETS if secrets is None else secrets)
    return info.value.errors


def test_base_settings_are_valid_and_derive_endpoints() -> None:
    settings = validate(base(), ALL_SECRETS)
    assert settings.node_endpoint == "10.0.0.11:30002"
    assert settings.external_url == "http://10.0.0.11:30002"
    assert settings.image_prefix == "10.0.0.11:30002/mif"
    assert settings.upstream_hosts == ["255250787067.dkr.ecr.ap-northeast-2.amazonaws.com"]


@pytest.mark.parametrize("stack", ["dev", "prod", "sandbox"])
def test_example_stacks_validate(stack: str) -> None:
    path = ROOT / f"Pulumi.{stack}.yaml"
    if stack == "sandbox" and not path.exists():
        pytest.fail("Pulumi.sandbox.yaml is missing")
    raw, secrets = load_stack_file(path)
    validate(raw, secrets)


def test_cli_check_accepts_examples_and_rejects_bad_file(tmp_path: Path) -> None:
    ok = subprocess.run([sys.executable, "-m", "components.settings", "check", "Pulumi.dev.yaml", "Pulumi.prod.yaml"],
                        cwd=ROOT, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text("config:\n  harbor-cache:adminPassword: plain\n  harbor-cache:upstream:\n    url: http://x\n")
    result = subprocess.run([sys.executable, "-m", "components.settings", "check", str(bad)],
                            cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "harbor-cache:adminPassword is stored in plaintext" in result.stdout
    assert "harbor-cache:harbor must be set" in result.stdout


def test_old_check_command_still_works() -> None:
    # `python -m components.config check` is kept as an alias of `python -m components.settings check`.
    ok = subprocess.run([sys.executable, "-m", "components.config", "check", "Pulumi.dev.yaml"],
                        cwd=ROOT, capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert ok.stdout.startswith("Pulumi.dev.yaml: ok"), ok.stdout
    usage = subprocess.run([sys.executable, "-m", "components.settings"], cwd=ROOT, capture_output=True, text=True,
                           check=False)
    assert usage.returncode == 2 and "usage: python -m components.settings check" in usage.stderr


def test_settings_validation_does_not_import_pulumi() -> None:
    # Checking a stack file offline needs neither Pulumi nor pulumi_kubernetes.
    code = ("import sys; from components.settings import load_stack_file, validate; "
            "validate(*load_stack_file('Pulumi.prod.yaml')); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_kubernetes')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_missing_admin_password() -> None:
    errors = errors_of(base(), {"upstreamSecretKey": True, "sshPrivateKey": True})
    assert any("harbor-cache:adminPassword must be set as a secret" in e and "pulumi config set --secret" in e
               for e in errors)


def test_plaintext_admin_password() -> None:
    errors = errors_of(base(), {**ALL_SECRETS, "adminPassword": False})
    assert any(e.startswith("harbor-cache:adminPassword is stored in plaintext") for e in errors)


def test_missing_upstream_secret_key() -> None:
    errors = errors_of(base(), {"adminPassword": True, "sshPrivateKey": True})
    assert any("harbor-cache:upstreamSecretKey must be set as a secret" in e for e in errors)


def test_plaintext_upstream_secret_key() -> None:
    errors = errors_of(base(), {**ALL_SECRETS, "upstreamSecretKey": False})
    assert any(e.startswith("harbor-cache:upstreamSecretKey is stored in plaintext") for e in errors)


def test_plaintext_ssh_key() -> None:
    errors = errors_of(base(), {**ALL_SECRETS, "sshPrivateKey": False})
    assert any(e.startswith("harbor-cache:sshPrivateKey is stored in plaintext") for e in errors)


def test_upstream_url_not_https() -> None:
    raw = base()
    raw["upstream"]["url"] = ECR.replace("https", "http")
    assert any(e.startswith("harbor-cache:upstream") and "must be https://" in e for e in errors_of(raw))


def test_upstream_url_not_a_registry_host() -> None:
    raw = base()
    raw["upstream"]["url"] = ECR + "/v2/quickstart"
    assert any(e.startswith("harbor-cache:upstream.url:") and "must not have a path" in e for e in errors_of(raw))
    raw["upstream"]["url"] = "https://example.com"
    assert any("is not an Amazon ECR registry endpoint" in e for e in errors_of(raw))


@pytest.mark.parametrize("name", ["MIF", "-mif", "mif-", "mi__f", "", "a" * 256, "m if", "mif/x"])
def test_project_names_harbor_refuses(name: str) -> None:
    raw = base()
    raw["proxyProject"]["name"] = name
    assert any(e.startswith("harbor-cache:") and "proxyProject.name" in e and "not a valid Harbor project name" in e
               for e in errors_of(raw))


def test_valid_project_names() -> None:
    for name in ("mif", "a", "my.proj-1_x", "123"):
        raw = base()
        raw["proxyProject"]["name"] = name
        validate(raw, ALL_SECRETS)


def test_duplicate_node_names_and_addresses() -> None:
    raw = base()
    raw["nodes"]["hosts"][1]["name"] = "n1"
    assert "harbor-cache:nodes.hosts[1].name: 'n1' is also hosts[0]'s name: each node must be listed once" \
        in errors_of(raw)
    raw = base()
    raw["nodes"]["hosts"][1]["address"] = "10.0.0.11"
    assert any(e.startswith("harbor-cache:nodes.hosts[1].address: '10.0.0.11' is also") for e in errors_of(raw))


def test_proxy_project_as_replication_destination() -> None:
    raw = base()
    raw["replication"] = {"enabled": True, "project": "mif"}
    assert any("replication.project 'mif' is the proxy-cache project" in e for e in errors_of(raw))


def test_http_on_production_stack() -> None:
    raw = base()
    raw["production"] = True
    assert any("harbor.tlsMode is http on a stack marked production" in e for e in errors_of(raw))


@pytest.mark.parametrize("version", ["", "latest", "^1.18.0", "1.18.x", "~1.18", ">=1.18.2", "1.18"])
def test_chart_version_not_pinned(version: str) -> None:
    raw = base()
    raw["harbor"]["chart"] = {"version": version}
    assert any(e.startswith("harbor-cache:harbor.chart.version") and "not a pinned chart version" in e
               for e in errors_of(raw))


@pytest.mark.parametrize(("section", "typo"), [
    ("harbor", "tlsmode"), ("upstream", "accesKeyId"), ("proxyProject", "retentionDay"),
    ("nodes", "host"), ("replication", "enable"), ("imageRewrite", "enabeld"), ("tls", "caDurration"),
])
def test_unknown_keys_in_any_section(section: str, typo: str) -> None:
    raw = base()
    raw.setdefault(section, {})[typo] = "x"
    assert f"harbor-cache:{section}.{typo} is not a known setting (a typo?): remove it or see README's " \
           "settings reference" in errors_of(raw)


def test_unknown_top_level_key() -> None:
    raw = base()
    raw["harbour"] = {}
    assert any(e.startswith("harbor-cache:harbour is not a known setting") for e in errors_of(raw))


def test_unknown_nested_key_in_list_item() -> None:
    raw = base()
    raw["nodes"]["hosts"][0]["adress"] = "x"
    assert any(e.startswith("harbor-cache:nodes.hosts[0].adress is not a known setting") for e in errors_of(raw))


@pytest.mark.parametrize(("trigger", "reason"), [
    ("*/5 * * * *", "must have 6 space-separated fields"),
    ("5 0 * * * *", "the 1st field (seconds) must be 0"),
    ("0 * 0 * * *", "the 2nd field (minutes) must not be *"),
    ("0 0 25 * * *", "'25' is outside 0-23"),  # accepted by settings before, refused by Harbor's check at preview
    ("0 0 0 * JAN-FOO *", "outside 1-12"),
])
def test_replication_cron_validated_like_harbor(trigger: str, reason: str) -> None:
    raw = base()
    raw["replication"] = {"enabled": True, "trigger": trigger}
    (error,) = [e for e in errors_of(raw) if "trigger" in e]
    assert error.startswith(f"harbor-cache:replication.trigger: '{trigger}' is neither 'manual' nor a cron")
    assert reason in error and "e.g. '0 0 */6 * * *'" in error


@pytest.mark.parametrize("trigger", ["manual", "0 0 */6 * * *", "0 30 2 * * MON-FRI", "0 0 0 1 * ?"])
def test_replication_triggers_harbor_accepts(trigger: str) -> None:
    raw = base()
    raw["replication"] = {"enabled": True, "trigger": trigger}
    validate(raw, ALL_SECRETS)


def test_settings_and_provider_check_share_the_cron_rule() -> None:
    from components import rules
    from components.harbor_api import replication
    from components.settings import sections

    # One parser: the settings validator and the ReplicationPolicy provider's check both call rules.cron_problem.
    assert sections.rules is rules and replication.rules is rules


@pytest.mark.parametrize(("raw_key", "value", "key"), [
    (("harbor", "namespace"), "Harbor", "harbor-cache:harbor.namespace"),
    (("imageRewrite", "excludeNamespaces"), ["kube-system", "Bad_ns"], "harbor-cache:imageRewrite.excludeNamespaces"),
])
def test_namespaces_must_be_dns_labels(raw_key: tuple[str, str], value: Any, key: str) -> None:
    raw = base()
    raw.setdefault(raw_key[0], {})[raw_key[1]] = value
    assert any(e.startswith(key) and "is not a DNS label" in e for e in errors_of(raw))


def test_cross_section_problems_are_one_error_each_naming_its_key() -> None:
    raw = base()
    raw["production"] = True
    raw["replication"] = {"enabled": True, "project": "mif"}
    errors = errors_of(raw)
    assert any(e.startswith("harbor-cache:harbor.tlsMode is http") for e in errors)
    assert any(e.startswith("harbor-cache:replication.project 'mif' is the proxy-cache project") for e in errors)


def test_expose_requires_node_reachable_address() -> None:
    raw = base()
    raw["harbor"]["expose"] = {"type": "nodePort"}
    assert any(e.startswith("harbor-cache:harbor.expose.nodeAddress: is required with type nodePort")
               for e in errors_of(raw))
    raw["harbor"]["expose"] = {"type": "clusterIP"}
    assert any(e.startswith("harbor-cache:harbor.expose.clusterIP: is required with type clusterIP")
               for e in errors_of(raw))


def test_rewrite_needs_nodes_that_trust_and_resolve_harbor() -> None:
    raw = base()
    raw["nodes"] = {"transport": "none"}
    raw["imageRewrite"] = {"enabled": True}
    assert any("imageRewrite.enabled needs nodes.transport" in e for e in errors_of(raw, {"adminPassword": True,
                                                                                          "upstreamSecretKey": True}))


def test_errors_are_collected_not_first_only() -> None:
    raw = copy.deepcopy(base())
    raw["harbor"]["chart"] = {"version": "latest"}
    raw["upstream"]["typo"] = 1
    errors = errors_of(raw, {"upstreamSecretKey": True, "sshPrivateKey": True})
    assert len(errors) >= 3


@pytest.mark.parametrize("cron", ["0 0 */6 * * *", "0 30 2 * * MON-FRI", "0 0 0 1 JAN ?", "0 0 25 * * *",
                                  "5 0 * * * *", "0 * * * * *", "0 0 * * *", "0 0 */0 * * *", "0 0 0 * FOO *"])
def test_settings_and_provider_check_agree_on_cron(cron: str) -> None:
    from components.harbor_api.client import HarborEndpoint
    from components.harbor_api.replication import ReplicationPolicyProvider

    raw = base()
    raw["replication"] = {"enabled": True, "trigger": cron}
    try:
        validate(raw, ALL_SECRETS)
        settings_ok = True
    except SettingsError:
        settings_ok = False
    news = {"harbor": HarborEndpoint(url="https://harbor.example").to_dict(), "name": "p", "registry_id": 1,
            "dest_namespace": "mif-replica", "trigger": "scheduled", "cron": cron}
    failures = ReplicationPolicyProvider().check({}, news).failures or []
    assert settings_ok == (failures == []), failures
    # Both name the stack setting the cron came from.
    assert all("harbor-cache:replication.trigger" in f.reason for f in failures), failures
