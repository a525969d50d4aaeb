"""The whole program under Pulumi mocks: resources, key properties, parent/child structure, secrets."""

from __future__ import annotations

import json
import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi.runtime import settings

from components import pinned_secrets
from components.settings import SECRET_KEYS
from tests.support.pulumi_mocks import mocked_runtime

ROOT = Path(__file__).resolve().parents[2]
# Each passes the deploy-time secret checks (Harbor's password rule; an unencrypted OpenSSH key header).
FAKE_SECRETS = {"adminPassword": "Admin-pw-123", "upstreamSecretKey": "aws-secret-456",
                "sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\n"
                                 "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAA=\n"
                                 "-----END OPENSSH PRIVATE KEY-----\n"}
SECRET_SIG = ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270")
# What PinnedSecretValues' provider would have generated at create (the mocks stand in for the provider).
FAKE_PINNED = {role: {"value": f"pinned-{role}-789"} for role in pinned_secrets.ROLES}
FAKE_DATABASE_PASSWORD = "pinned-database-789"


class ProgramMocks(pulumi.runtime.Mocks):
    """Echo inputs back; give dynamic resources and Secrets the outputs the program reads."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        state = dict(args.inputs)
        if args.typ == "pulumi-python:dynamic/harbor:Registry":
            state["registry_id"] = 3
        elif args.typ == "pulumi-python:dynamic/harbor:Project":
            state["project_id"] = 5 if state.get("registry_id") else 6
        elif args.typ == "pulumi-python:dynamic/harbor:ReplicationPolicy":
            state.update(policy_id=7, last_execution_status="Succeed")
        elif args.typ == "kubernetes:core/v1:Secret" and args.resource_id:
            state["data"] = {"ca.crt": "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0t"}  # "-----BEGIN CERTIFICATE-----"
        elif args.typ == "pulumi-python:dynamic/generated:PinnedSecretValues":
            state.update(values=FAKE_PINNED, database_password=FAKE_DATABASE_PASSWORD)
        elif args.typ == "kubernetes:helm.sh/v3:Release":
            state["status"] = {"status": "deployed"}
        return f"{args.name}-id", state

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[Any, Any], list[tuple[str, str]] | None]:
        return {}, None


def stack_config(stack: str) -> tuple[dict[str, str], list[str]]:
    doc = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    config: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in doc["config"].items():
        short = key.split(":", 1)[1]
        if short in SECRET_KEYS:
            config[key] = FAKE_SECRETS[short]
            secret_keys.append(key)
        else:
            config[key] = value if isinstance(value, str) else json.dumps(value)
    return config, secret_keys


@pytest.fixture
def run_program(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    def never(*_: Any) -> Any:
        raise AssertionError("the program generated secret values itself (only PinnedSecretValues' create may)")

    monkeypatch.setattr(pinned_secrets, "generate_pinned_values", never)

    def run(stack: str, **overrides: Any) -> dict[str, tuple[str, dict[str, Any]]]:
        """Run __main__.py on the stack's settings, with `overrides` (short key -> object) replacing some."""
        config, secret_keys = stack_config(stack)
        config.update({f"harbor-cache:{key}": json.dumps(value) for key, value in overrides.items()})
        with mocked_runtime(ProgramMocks(), stack=stack) as monitor:
            # The engine stores the outputs a resource lists in additionalSecretOutputs as secrets; so do we.
            secret_outputs: dict[str, set[str]] = {}
            register = monitor.RegisterResource

            def recording(request: Any) -> Any:
                secret_outputs[request.name] = set(request.additionalSecretOutputs)
                return register(request)

            setattr(monitor, "RegisterResource", recording)  # noqa: B010 - replaces a method on this instance
            pulumi.runtime.set_all_config(config, secret_keys)
            settings.SETTINGS.rpc_manager.clear()
            def program() -> None:
                runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")

            _sync_await(run_pulumi_func(program))
            return {urn: (urn.split("::")[2], as_stored(res.state, secret_outputs.get(urn.split("::")[-1], set())))
                    for urn, res in monitor.get_registered_resources().items()}

    yield run
    pulumi.runtime.set_all_config({}, [])


def as_stored(state: dict[str, Any], secret_keys: set[str]) -> dict[str, Any]:
    """The state with the outputs in `secret_keys` wrapped as secrets, as the engine stores them."""
    def secret(value: Any) -> Any:
        is_secret = isinstance(value, dict) and value.get(SECRET_SIG[0]) == SECRET_SIG[1]
        return value if is_secret else {SECRET_SIG[0]: SECRET_SIG[1], "value": value}

    return {k: secret(v) if k in secret_keys else v for k, v in state.items()}


def by_type(resources: dict[str, tuple[str, dict[str, Any]]], typ: str) -> list[dict[str, Any]]:
    return [state for _, (t, state) in resources.items() if t.endswith(typ)]


def test_dev_stack_builds_http_harbor_cache(run_program: Any) -> None:
    resources = run_program("dev")
    types = {t.split("$")[-1] for t, _ in resources.values()}
    assert "kubernetes:helm.sh/v3:Release" in types
    assert "kubernetes:cert-manager.io/v1:Certificate" not in types  # HTTP mode: no TLS chain
    (rel,) = by_type(resources, "kubernetes:helm.sh/v3:Release")
    values = release_values(rel)
    assert values["expose"]["tls"] == {"enabled": False}
    assert values["externalURL"] == "http://10.0.0.11:30002"
    assert rel["version"] == "1.18.4"
    nodes = by_type(resources, "pulumi-python:dynamic/nodes:ContainerdConfig")
    assert len(nodes) == 3
    (project,) = by_type(resources, "pulumi-python:dynamic/harbor:Project")
    assert project["name"] == "mif" and project["public"] is True


def test_prod_stack_builds_https_chain_and_replication(run_program: Any) -> None:
    resources = run_program("prod")
    certs = by_type(resources, "kubernetes:cert-manager.io/v1:Certificate")
    issuers = by_type(resources, "kubernetes:cert-manager.io/v1:Issuer")
    assert len(certs) == 2 and len(issuers) == 2
    leaf = next(c for c in certs if not c["spec"].get("isCA"))
    assert "10.20.0.11" in leaf["spec"]["ipAddresses"]
    assert "harbor.prod.example.internal" in leaf["spec"]["dnsNames"]
    (rel,) = by_type(resources, "kubernetes:helm.sh/v3:Release")
    assert release_values(rel)["expose"]["tls"]["certSource"] == "secret"
    assert release_values(rel)["externalURL"] == "https://10.20.0.11:30003"
    (policy,) = by_type(resources, "pulumi-python:dynamic/harbor:ReplicationPolicy")
    assert policy["dest_namespace_replace_count"] == 0
    # pulumi itself calls Harbor over https and trusts the CA the Tls component issued
    (registry,) = by_type(resources, "pulumi-python:dynamic/harbor:Registry")
    assert registry["harbor"]["url"] == "https://10.20.0.11:30003"
    assert registry["harbor"]["ca_pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert policy["dest_namespace"] == "mif-replica"


def test_image_rewrite_installs_kyverno_and_the_rewrite_policy(run_program: Any) -> None:
    resources = run_program("dev", imageRewrite={"enabled": True, "installKyverno": True})
    (policy,) = by_type(resources, "kubernetes:kyverno.io/v1:ClusterPolicy")
    assert "10.0.0.11:30002/mif/" in json.dumps(policy["spec"])  # the rewrite target is the image prefix
    releases = {rel["name"]: rel for rel in by_type(resources, "kubernetes:helm.sh/v3:Release")}
    assert releases["kyverno"]["namespace"] == "kyverno" and releases["kyverno"]["version"] == "3.9.0"


def release_values(rel: dict[str, Any]) -> dict[str, Any]:
    """The Release's values: secret as a whole, as the SDK sends a dict with a secret inside (the internal
    database password)."""
    values = rel["values"]
    assert values.get(SECRET_SIG[0]) == SECRET_SIG[1], "the values hold the database password: must be secret"
    return dict(values["value"])


def test_internal_database_password_is_the_pinned_one(run_program: Any) -> None:
    (rel,) = by_type(run_program("dev"), "kubernetes:helm.sh/v3:Release")
    assert release_values(rel)["database"]["internal"]["password"] == FAKE_DATABASE_PASSWORD


def test_components_parent_their_children(run_program: Any) -> None:
    resources = run_program("prod")
    parents = {t.split("$")[-2] if "$" in t else "" for t, _ in resources.values()}
    assert {"harbor-cache:index:Tls", "harbor-cache:index:HarborRelease", "harbor-cache:index:HarborUpstream",
            "harbor-cache:index:NodeMirror"} <= parents



def without_secrets(value: Any) -> Any:
    """The value with every Pulumi-secret-wrapped part removed (what would be plaintext in state)."""
    if isinstance(value, dict):
        if value.get(SECRET_SIG[0]) == SECRET_SIG[1]:
            return "[secret]"
        return {k: without_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_secrets(v) for v in value]
    return value


def test_secrets_are_pulumi_secrets_wherever_they_appear(run_program: Any) -> None:
    resources = run_program("dev")
    everything = json.dumps({urn: state for urn, (_, state) in resources.items()}, default=str)
    assert FAKE_SECRETS["adminPassword"] in everything  # it is there (in the admin Secret) ...
    plain = json.dumps({urn: without_secrets(state) for urn, (_, state) in resources.items()}, default=str)
    for value in [*FAKE_SECRETS.values(), *(data["value"] for data in FAKE_PINNED.values()), FAKE_DATABASE_PASSWORD]:
        assert value not in plain  # ... but only inside secret-wrapped values
    (rel,) = by_type(resources, "kubernetes:helm.sh/v3:Release")
    assert FAKE_SECRETS["adminPassword"] not in json.dumps(rel["values"])


def test_pinned_secrets_come_from_values_made_at_create(run_program: Any) -> None:
    resources = run_program("dev")
    (generated,) = [(name, state) for name, (t, state) in resources.items() if t.endswith(":PinnedSecretValues")]
    assert generated[1]["release"] == "harbor"
    secrets = {state["metadata"]["name"]: state for _, (t, state) in resources.items()
               if t.endswith("kubernetes:core/v1:Secret") and "stringData" in state}
    pinned = {name: state for name, state in secrets.items() if name != "harbor-pinned-admin"}
    assert len(pinned) == len(pinned_secrets.ROLES)
    assert {json.dumps(state["stringData"]) for state in pinned.values()} == {
        json.dumps({SECRET_SIG[0]: SECRET_SIG[1], "value": data}) for data in FAKE_PINNED.values()}
