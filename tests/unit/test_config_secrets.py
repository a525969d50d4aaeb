"""The secrets: their values checked at deploy time (never repeated), what the offline check says it cannot see."""

from __future__ import annotations

import json
import runpy
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.settings import SettingsError, check_settings, load_from_pulumi
from tests.unit.test_config_receivers import ALL_SECRETS, base, with_changes
from tests.unit.test_rules import _private_keys

ROOT = Path(__file__).resolve().parents[2]
GOOD = {"adminPassword": "Harbor12345", "upstreamSecretKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}


def errors_with(values: dict[str, str], changes: dict[str, Any] | None = None) -> list[str]:
    with pytest.raises(SettingsError) as info:
        check_settings(with_changes(changes or {}), ALL_SECRETS, values)
    return info.value.errors


@pytest.mark.parametrize("password", ["admin-pw-123", "Short1", "NOLOWER123", "NoDigitsAtAll", "A1" + "b" * 127])
def test_admin_password_follows_harbors_rule_at_deploy(password: str) -> None:
    (error,) = errors_with({**GOOD, "adminPassword": password})
    assert error.startswith("harbor-cache:adminPassword breaks Harbor's password rule (8 to 128 characters")
    assert "pulumi config set --secret harbor-cache:adminPassword" in error
    assert password not in error


def test_admin_password_of_an_existing_harbor_is_not_judged() -> None:
    # install: false: the password is whatever that Harbor has; a wrong one gets Harbor's 401, naming the key.
    changes = {"harbor.install": False, "harbor.expose": None, "harbor.url": "http://harbor.example"}
    check_settings(with_changes(changes), ALL_SECRETS, {**GOOD, "adminPassword": "weak"})


def test_upstream_secret_key_at_deploy() -> None:
    (error,) = errors_with({**GOOD, "upstreamSecretKey": "  "})
    assert error == "harbor-cache:upstreamSecretKey is empty: set the secret for upstream.accessKeyId"
    loaded = check_settings(base(), ALL_SECRETS, {**GOOD, "upstreamSecretKey": "wJalrXUtnFEMI K7MDENG"})
    (warning,) = loaded.warnings
    assert warning.startswith("harbor-cache:upstreamSecretKey does not look like an AWS secret access key")
    assert "K7MDENG" not in warning


@pytest.mark.parametrize(("name", "needle"), [
    ("ed25519-openssh-passphrase", "is protected by a passphrase"), ("ecdsa-pkcs8", "is a PKCS#8 key"),
    ("dsa-pem", "is a DSA key"), ("public-key", "is not a private key"), ("truncated", "is not a private key"),
])
def test_ssh_private_key_at_deploy(name: str, needle: str) -> None:
    key = _private_keys()[name]
    (error,) = errors_with({**GOOD, "sshPrivateKey": key})
    assert error.startswith(f"harbor-cache:sshPrivateKey {needle}")
    assert all(line not in error for line in key.splitlines()[1:-1] if len(line) > 8)


def test_good_secret_values_pass() -> None:
    check_settings(base(), ALL_SECRETS, {**GOOD, "sshPrivateKey": _private_keys()["ed25519-openssh"]})


def test_secret_set_without_what_uses_it() -> None:
    # The Registry provider refuses a secret key without a key id; the settings say it first.
    raw = with_changes({"upstream.ambientCredentials": True, "upstream.accessKeyId": ""})
    with pytest.raises(SettingsError) as info:
        check_settings(raw, ALL_SECRETS)
    assert any(e.startswith("harbor-cache:upstreamSecretKey is set but harbor-cache:upstream.accessKeyId is empty")
               for e in info.value.errors)


@pytest.fixture
def stack_config() -> Iterator[Any]:
    def apply(raw: dict[str, Any], secrets: dict[str, str]) -> None:
        config = {f"harbor-cache:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in raw.items()}
        config |= {f"harbor-cache:{k}": v for k, v in secrets.items()}
        pulumi.runtime.set_all_config(config, [f"harbor-cache:{k}" for k in secrets])

    yield apply
    pulumi.runtime.set_all_config({}, [])


def test_the_program_checks_the_secret_values_it_reads(stack_config: Any) -> None:
    key = _private_keys()["ed25519-openssh"]
    stack_config({**base(), "production": "false"}, {**GOOD, "sshPrivateKey": key})
    settings, warnings = load_from_pulumi()
    assert settings.nodes.transport == "ssh" and warnings == []
    stack_config(base(), {**GOOD, "adminPassword": "harbor12345", "sshPrivateKey": key})
    with pytest.raises(SettingsError) as info:
        load_from_pulumi()
    assert [e.split(" ")[0] for e in info.value.errors] == ["harbor-cache:adminPassword"]
    assert "harbor12345" not in str(info.value)


def test_the_program_logs_each_warning(stack_config: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from pulumi.runtime import settings
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    from tests.support.pulumi_mocks import mocked_runtime
    from tests.unit.test_program_mocks import ProgramMocks

    logged: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *_, **__: logged.append(message))
    raw = with_changes({"proxyProject.public": False, "harbor.values": {"trivvy": {}}})
    with mocked_runtime(ProgramMocks(), stack="warned"):
        stack_config(raw, {**GOOD, "sshPrivateKey": _private_keys()["ed25519-openssh"]})
        settings.SETTINGS.rpc_manager.clear()
        def program() -> None:
            runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")

        _sync_await(run_pulumi_func(program))
    assert any(m.startswith("harbor-cache:proxyProject.public is false") for m in logged), logged
    assert any(m.startswith("harbor-cache:harbor.values.trivvy is not a value the Harbor chart reads") for m in logged)


def test_check_says_it_cannot_read_encrypted_secrets() -> None:
    result = subprocess.run([sys.executable, "-m", "components.settings", "check", "Pulumi.dev.yaml"], cwd=ROOT,
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout
    assert ("  ! harbor-cache:adminPassword is encrypted, so this check cannot read it: Harbor's password rule "
            "(8 to 128 characters") in result.stdout
    assert "  ! harbor-cache:sshPrivateKey is encrypted" in result.stdout
