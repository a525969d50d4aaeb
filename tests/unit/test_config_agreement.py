"""Settings and their later receivers agree: what the settings accept, no provider check or renderer refuses.

Two directions. (1) The same bad value, given to the settings and to the Harbor provider that finally receives
it (its `check`, as the engine calls it at preview): both refuse or both accept, except where the settings are
stricter on purpose (listed with the reason). (2) Stacks the settings accept go through the real program
wiring (components/specs.py, HarborUpstream under Pulumi's mocks): every provider check passes and every
renderer (node files, TLS names, chart values, Kyverno policy) builds without raising.
"""

from __future__ import annotations

import copy
from typing import Any

import pulumi
import pytest

from components import specs
from components.harbor_api.project import ProjectProvider
from components.harbor_api.registry import RegistryProvider
from components.harbor_api.replication import ReplicationPolicyProvider
from components.harbor_api.retention import ProjectRetentionProvider
from components.settings import Settings, SettingsError, validate
from components.upstream import HarborUpstream
from tests.support.pulumi_mocks import mocked_runtime
from tests.unit.test_config_receivers import ALL_SECRETS, DOCKER, HTTPS, base, with_changes

PROVIDERS = {"Registry": RegistryProvider, "Project": ProjectProvider, "ReplicationPolicy": ReplicationPolicyProvider,
             "ProjectRetention": ProjectRetentionProvider}
REPLICATION = {"replication.enabled": True}


class _Echo(pulumi.runtime.Mocks):
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        return f"{args.name}-id", {**args.inputs, "registry_id": 3, "project_id": 5, "policy_id": 7}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        return {}, None


def provider_inputs(settings: Settings, secret: str = "") -> list[tuple[str, dict[str, Any]]]:
    """(kind, inputs) of each Harbor resource the program registers for `settings`, as the engine passes them."""
    from pulumi.runtime import settings as runtime
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    with mocked_runtime(_Echo()) as monitor:
        runtime.SETTINGS.rpc_manager.clear()
        def program() -> None:
            HarborUpstream("upstream", specs.upstream_args(settings, specs.harbor_endpoint(settings), secret))

        _sync_await(run_pulumi_func(program))
        found = []
        for urn, res in monitor.get_registered_resources().items():
            kind = urn.split("::")[2].rsplit(":", 1)[-1]
            if kind in PROVIDERS:
                found.append((kind, {k: _plain(v) for k, v in res.state.items() if not k.startswith("__")}))
        return found


def _plain(value: Any) -> Any:
    if isinstance(value, dict) and "value" in value and len(value) == 2:  # the mocks' secret wrapper
        return value["value"]
    return value


def failures(inputs: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [f.reason for kind, news in inputs for f in (PROVIDERS[kind]().check({}, news).failures or [])]


def _settings_ok(changes: dict[str, Any]) -> bool:
    try:
        validate(with_changes(changes), ALL_SECRETS)
    except SettingsError:
        return False
    return True


# The same value for the settings (changes) and the provider input it becomes (kind, input overrides).
SAME_VALUES = [
    ("registry-name-64", {"upstream.name": "r" * 64}, "Registry", {"name": "r" * 64}),
    ("registry-name-65", {"upstream.name": "r" * 65}, "Registry", {"name": "r" * 65}),
    ("registry-type", {"upstream.type": "quay"}, "Registry", {"type": "quay"}),
    ("ecr-url-path", {"upstream.url": "https://1.dkr.ecr.us-east-1.amazonaws.com/x"}, "Registry",
     {"url": "https://1.dkr.ecr.us-east-1.amazonaws.com/x"}),
    ("ecr-public", {"upstream.url": "https://1.dkr.ecr-public.us-east-1.amazonaws.com"}, "Registry",
     {"url": "https://1.dkr.ecr-public.us-east-1.amazonaws.com"}),
    ("ecr-no-key", {"upstream.accessKeyId": ""}, "Registry", {"access_key_id": "", "access_secret": ""}),
    ("ambient-docker", {**DOCKER, "upstream.accessKeyId": "", "upstream.ambientCredentials": True}, "Registry",
     {"type": "docker-registry", "url": "https://registry.example", "access_key_id": "", "access_secret": "",
      "ambient_credentials": True}),
    ("ambient-with-key", {"upstream.ambientCredentials": True}, "Registry", {"ambient_credentials": True}),
    ("project-name", {"proxyProject.name": "Mif"}, "Project", {"name": "Mif"}),
    ("project-name-255", {"proxyProject.name": "m" * 255}, "Project", {"name": "m" * 255}),
    ("storage-limit-max", {"proxyProject.storageLimitBytes": 1024**5}, "Project", {"storage_limit": 1024**5}),
    ("storage-limit-over", {"proxyProject.storageLimitBytes": 1024**5 + 1}, "Project",
     {"storage_limit": 1024**5 + 1}),
    ("storage-limit-minus-2", {"proxyProject.storageLimitBytes": -2}, "Project", {"storage_limit": -2}),
    ("speed-minus-2", {"proxyProject.speedKb": -2}, "Project", {"proxy_speed_kb": -2}),
    ("speed-zero", {"proxyProject.speedKb": 0}, "Project", {"proxy_speed_kb": 0}),
    ("retention-off", {"proxyProject.retentionDays": None}, "ProjectRetention", {"days": None}),
    ("cron-hour-25", {**REPLICATION, "replication.trigger": "0 0 25 * * *"}, "ReplicationPolicy",
     {"trigger": "scheduled", "cron": "0 0 25 * * *"}),
    ("cron-5-fields", {**REPLICATION, "replication.trigger": "0 */6 * * *"}, "ReplicationPolicy",
     {"trigger": "scheduled", "cron": "0 */6 * * *"}),
    ("replica-name", {**REPLICATION, "replication.project": "Replica"}, "ReplicationPolicy",
     {"dest_namespace": "Replica"}),
    ("policy-name-256", {**REPLICATION, "replication.project": "p" * 241}, "ReplicationPolicy",
     {"name": "p" * 241 + "-from-moreh-ecr"}),
    ("policy-name-257", {**REPLICATION, "replication.project": "p" * 242}, "ReplicationPolicy",
     {"name": "p" * 242 + "-from-moreh-ecr"}),
    ("replication-speed", {**REPLICATION, "replication.speedKb": -2}, "ReplicationPolicy", {"speed": -2}),
]
# Settings stricter than the provider, on purpose: value -> why.
STRICTER = {
    "retention-zero": "0 is the provider's 'off' but reads as '0 days'; the settings ask for null",
}
SAME_VALUES += [
    ("storage-limit-zero", {"proxyProject.storageLimitBytes": 0}, "Project", {"storage_limit": 0}),
    ("retention-zero", {"proxyProject.retentionDays": 0}, "ProjectRetention", {"days": 0}),
    ("retention-minus-1", {"proxyProject.retentionDays": -1}, "ProjectRetention", {"days": -1}),
]


@pytest.fixture(scope="module")
def valid_inputs() -> dict[str, dict[str, Any]]:
    settings = validate(with_changes(REPLICATION), ALL_SECRETS)
    inputs = provider_inputs(settings, "aws-secret")
    by_kind = {kind: news for kind, news in inputs if kind != "Project" or news.get("registry_id") is not None}
    assert failures(inputs) == [] and set(by_kind) == set(PROVIDERS)
    return by_kind


@pytest.mark.parametrize(("changes", "kind", "overrides"), [pytest.param(*v[1:], id=v[0]) for v in SAME_VALUES])
def test_settings_and_provider_agree_on_the_same_value(valid_inputs: dict[str, dict[str, Any]],
                                                       changes: dict[str, Any], kind: str,
                                                       overrides: dict[str, Any]) -> None:
    news = {**copy.deepcopy(valid_inputs[kind]), **overrides}
    provider_problems = [f.reason for f in PROVIDERS[kind]().check({}, news).failures or []]
    settings_ok = _settings_ok({**REPLICATION, **changes})
    case = next(v[0] for v in SAME_VALUES if v[1] == changes)
    if case in STRICTER:
        assert not settings_ok and provider_problems == [], STRICTER[case]
    else:
        assert settings_ok == (provider_problems == []), provider_problems
    # A provider's failure names the stack setting, as the settings' errors do.
    assert all(r.startswith("harbor-cache:") for r in provider_problems), provider_problems


ACCEPTED = [
    {},
    {**REPLICATION, "replication.trigger": "0 30 2 * * MON-FRI", "replication.speedKb": -1},
    {"proxyProject.storageLimitBytes": 1024**5, "proxyProject.retentionDays": None, "proxyProject.speedKb": 1},
    {**DOCKER, "upstream.url": "http://registry.example:5000", "upstream.insecure": True,
     "upstream.mirrorHosts": ["mirror.example:5000"]},
    {"upstream.ambientCredentials": True, "upstream.accessKeyId": ""},
    {**HTTPS, "tls.extraDnsNames": ["*.harbor.example"], "tls.extraIpAddresses": ["10.0.0.99", "fd00::9"]},
    {"harbor.expose": {"type": "clusterIP", "clusterIP": "10.96.0.50", "hostname": "harbor.internal"}},
    {"harbor.expose": {"type": "loadBalancer", "loadBalancerHost": "harbor.lb.example"}, **HTTPS},
    {"nodes": {"transport": "daemonset"}, "imageRewrite.enabled": True},
    {"upstream.name": "u" * 64, "proxyProject.name": "m" * 255},
]


@pytest.mark.parametrize("changes", ACCEPTED, ids=[str(i) for i in range(len(ACCEPTED))])
def test_accepted_settings_pass_every_receiver(changes: dict[str, Any]) -> None:
    raw = with_changes(changes)
    secrets = {k: v for k, v in ALL_SECRETS.items() if k != "upstreamSecretKey" or raw["upstream"]["accessKeyId"]}
    settings = validate(raw, secrets)
    secret = "aws-secret" if settings.upstream_list[0].settings.access_key_id else ""
    assert failures(provider_inputs(settings, secret)) == []
    specs.node_mirror_spec(settings)  # the renderer's own checks (components/containerd.py validate_spec)
    specs.tls_args(settings)
    from components.harbor_values import PinnedSecretNames, harbor_values

    harbor_values(settings, PinnedSecretNames.for_release(settings.harbor.release_name), "harbor-tls")
    if settings.image_rewrite.enabled:
        from components.rewrite_policy import build_rewrite_policy

        build_rewrite_policy(specs.rewrite_spec(settings))


def test_mirror_hosts_fall_back_with_the_upstreams_scheme() -> None:
    from components.containerd import render_certs_files

    changes = {**DOCKER, "upstream.url": "http://registry.example:5000", "upstream.insecure": True,
               "upstream.mirrorHosts": ["mirror.example:5000", "docker.io"]}
    files = render_certs_files(specs.node_mirror_spec(validate(with_changes(changes), ALL_SECRETS)))
    assert 'server = "http://registry.example:5000"' in files["registry.example:5000/hosts.toml"]
    assert 'server = "http://mirror.example:5000"' in files["mirror.example:5000/hosts.toml"]
    assert 'server = "http://docker.io"' in files["docker.io/hosts.toml"]
    https = render_certs_files(specs.node_mirror_spec(validate(with_changes(
        {"upstream.mirrorHosts": ["mirror.example", "docker.io"]}), ALL_SECRETS)))
    assert 'server = "https://mirror.example"' in https["mirror.example/hosts.toml"]
    assert 'server = "https://registry-1.docker.io"' in https["docker.io/hosts.toml"]
    assert base()["upstream"]["url"].startswith("https://")
