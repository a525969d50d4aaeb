"""Many upstreams: `upstream` stays the one-element case, `upstreams` adds one registry + project + hosts each,
Docker Hub's names, the per-upstream secrets, and the image rewrite per upstream (docs/settings.md cites these)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from components import specs
from components.containerd import render_certs_files
from components.harbor_api.endpoint import HarborEndpoint
from components.rewrite_policy import RewritePolicySpec, _rewrites
from components.settings import SettingsError, check_settings, validate
from components.settings.check import check_file
from components.settings.stackfile import read_stack_file
from tests.unit.test_config_receivers import ALL_SECRETS, base

ECR_HOST = "255250787067.dkr.ecr.ap-northeast-2.amazonaws.com"
HUB = {"name": "hub", "type": "docker-hub", "project": "hub"}
QUAY = {"name": "quay", "type": "docker-registry", "url": "https://quay.io", "project": "quay",
        "mirrorHosts": ["registry.k8s.io"]}
GHCR = {"name": "ghcr", "type": "github-ghcr", "url": "https://ghcr.io", "project": "ghcr", "accessKeyId": "bot"}
SECRETS = {**ALL_SECRETS, "upstreamSecrets": True}


def three() -> dict[str, Any]:
    """base() (an ECR `upstream`, project mif) plus Docker Hub and quay.io in `upstreams`."""
    return {**base(), "upstreams": [HUB, QUAY]}


def test_single_upstream_is_the_one_element_case() -> None:
    settings = validate(base(), ALL_SECRETS)
    (only,) = settings.upstream_list
    assert (only.key, only.resource_name, only.project) == ("upstream", "upstream", "mif")
    assert settings.image_prefixes == {ECR_HOST: "10.0.0.11:30002/mif"}
    args = specs.upstream_args(settings, HarborEndpoint(url="http://h"), "s")
    assert (args.registry_name, args.proxy and args.proxy.name) == ("moreh-ecr", "mif")


def test_each_upstream_gets_its_registry_project_hosts_and_prefix() -> None:
    settings = validate(three(), ALL_SECRETS)
    assert [(u.key, u.resource_name, u.project) for u in settings.upstream_list] == [
        ("upstream", "upstream", "mif"), ("upstreams[0]", "upstream-hub", "hub"),
        ("upstreams[1]", "upstream-quay", "quay")]
    assert settings.cache_projects == ["mif", "hub", "quay"]
    assert settings.image_prefixes == {ECR_HOST: "10.0.0.11:30002/mif", "docker.io": "10.0.0.11:30002/hub",
                                       "quay.io": "10.0.0.11:30002/quay", "registry.k8s.io": "10.0.0.11:30002/quay"}
    files = render_certs_files(specs.node_mirror_spec(settings))
    assert sorted(files) == sorted([f"{ECR_HOST}/hosts.toml", "docker.io/hosts.toml", "quay.io/hosts.toml",
                                    "registry.k8s.io/hosts.toml", "10.0.0.11:30002/hosts.toml"])
    assert '[host."http://10.0.0.11:30002/v2/quay"]' in files["registry.k8s.io/hosts.toml"]
    assert 'server = "https://registry.k8s.io"' in files["registry.k8s.io/hosts.toml"]
    endpoint = HarborEndpoint(url="http://h")
    quay = specs.upstream_args(settings, endpoint, "", upstream=settings.upstream_list[2])
    assert (quay.registry_type, quay.registry_url, quay.proxy and quay.proxy.name) == (
        "docker-registry", "https://quay.io", "quay")
    assert quay.replication is None


def test_docker_hub_names() -> None:
    settings = validate(three(), ALL_SECRETS)
    hub = settings.upstream_list[1]
    args = specs.upstream_args(settings, HarborEndpoint(url="http://h"), "", upstream=hub)
    assert (args.registry_type, args.registry_url) == ("docker-hub", "https://hub.docker.com")
    toml = render_certs_files(specs.node_mirror_spec(settings))["docker.io/hosts.toml"]
    # containerd asks for docker.io, falls back to registry-1.docker.io, and pulls through the hub project;
    # containerd itself adds library/ to official images (docker.io/nginx is docker.io/library/nginx).
    assert 'server = "https://registry-1.docker.io"' in toml
    assert '[host."http://10.0.0.11:30002/v2/hub"]' in toml and "override_path = true" in toml


def test_docker_hub_without_an_account_warns_about_its_rate_limit() -> None:
    loaded = check_settings(three(), ALL_SECRETS)
    (warning,) = [w for w in loaded.warnings if "upstreams[0]" in w]
    assert warning.startswith("harbor-cache:upstreams[0].accessKeyId is empty: Harbor pulls from Docker Hub "
                              "anonymously, which Docker Hub rate-limits the most")
    assert "upstreamSecrets.hub" in warning
    with_account = {**base(), "upstreams": [{**HUB, "accessKeyId": "me"}]}
    assert not [w for w in check_settings(with_account, SECRETS).warnings if "Docker Hub" in w]


def test_upstreams_alone_need_no_upstream() -> None:
    raw = {k: v for k, v in three().items() if k not in ("upstream", "proxyProject")}
    settings = validate(raw, {"adminPassword": True, "sshPrivateKey": True})
    assert [u.resource_name for u in settings.upstream_list] == ["upstream-hub", "upstream-quay"]
    assert settings.image_prefix == "10.0.0.11:30002/hub"
    loaded = check_settings({**raw, "proxyProject": {"name": "mif", "public": True}}, {"adminPassword": True,
                                                                                        "sshPrivateKey": True})
    assert [w for w in loaded.warnings if "proxyProject" in w] == [
        "harbor-cache:proxyProject.name is not used without upstream: each upstreams entry names its own project "
        "(its other options, public, retentionDays, ..., apply to every proxy-cache project)"]


def test_upstream_secrets_presence() -> None:
    raw = {**base(), "upstreams": [GHCR]}
    with pytest.raises(SettingsError) as info:
        validate(raw, ALL_SECRETS)
    assert info.value.errors == [
        "harbor-cache:upstreamSecrets.ghcr must be set as a secret (the secret for upstreams[ghcr].accessKeyId): "
        "pulumi config set --secret --path 'harbor-cache:upstreamSecrets.ghcr' '<secret>'"]
    with pytest.raises(SettingsError) as info:
        validate(raw, {**ALL_SECRETS, "upstreamSecrets": False})
    assert info.value.errors[0].startswith("harbor-cache:upstreamSecrets is stored in plaintext")
    named = {**raw, "upstreamSecrets": {"ghrc": "<encrypted>"}}
    with pytest.raises(SettingsError) as info:
        validate(named, SECRETS)
    assert sorted(e.split(" ")[0] for e in info.value.errors) == ["harbor-cache:upstreamSecrets.ghcr",
                                                                  "harbor-cache:upstreamSecrets.ghrc"]
    assert "is not the name of an upstreams entry" in " ".join(info.value.errors)
    validate({**raw, "upstreamSecrets": {"ghcr": "<encrypted>"}}, SECRETS)


def test_upstream_secrets_at_deploy() -> None:
    raw = {**base(), "upstreams": [GHCR]}
    with pytest.raises(SettingsError) as info:
        check_settings(raw, SECRETS, {"upstreamSecrets": json.dumps({"ghcr": " "})})
    assert info.value.errors == ["harbor-cache:upstreamSecrets.ghcr is empty: set the secret for that upstream's "
                                 "accessKeyId"]
    with pytest.raises(SettingsError) as info:
        check_settings(raw, SECRETS, {"upstreamSecrets": "token"})
    assert info.value.errors[0].startswith("harbor-cache:upstreamSecrets must be an object of one secret")
    check_settings(raw, SECRETS, {"upstreamSecrets": json.dumps({"ghcr": "ghp_x"})})


def test_stack_file_with_per_upstream_secrets(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.x.yaml"
    stack.write_text("""config:
  harbor-cache:adminPassword: {secure: v1:abc}
  harbor-cache:harbor: {tlsMode: http, expose: {type: nodePort, nodeAddress: 10.0.0.11}}
  harbor-cache:upstreams:
    - {name: ghcr, type: github-ghcr, url: "https://ghcr.io", project: ghcr, accessKeyId: bot}
  harbor-cache:upstreamSecrets:
    ghcr: {secure: v1:def}
""")
    found = read_stack_file(stack)
    assert found.secrets["upstreamSecrets"] is True and found.raw["upstreamSecrets"] == {"ghcr": "<encrypted>"}
    problems, warnings = check_file(str(stack))
    assert problems == [] and any("upstreamSecrets is encrypted" in w for w in warnings)


# --- the image rewrite, per upstream ------------------------------------------------------------------------


def _rewrite(spec: RewritePolicySpec, image: str) -> str:
    """What the policy's foreach entries do to one image (Python's re; `${1}` is group 1, as in Go)."""
    for conditions, regex, replacement, literal in _rewrites(spec):
        wanted = [(re.search(r"regex_match\('(.*)', '\{\{element.image\}\}'\)", c["key"]), c["value"])
                  for c in conditions]
        if all(bool(re.search(m.group(1), image)) == value for m, value in wanted if m):
            out = replacement if literal else replacement.replace("${1}", r"\g<1>")
            image = re.sub(regex, out.replace("\\", "\\\\") if literal else out, image, count=1)
    return image


@pytest.mark.parametrize(("image", "expected"), [
    (f"{ECR_HOST}/team/app:1", "10.0.0.11:30002/mif/team/app:1"),
    ("quay.io/org/tool:2", "10.0.0.11:30002/quay/org/tool:2"),
    ("registry.k8s.io/pause:3.10", "10.0.0.11:30002/quay/pause:3.10"),
    ("nginx:1.27", "10.0.0.11:30002/hub/library/nginx:1.27"),
    ("nginx", "10.0.0.11:30002/hub/library/nginx"),
    ("docker.io/nginx:1.27", "10.0.0.11:30002/hub/library/nginx:1.27"),
    ("index.docker.io/nginx@sha256:" + "a" * 64, "10.0.0.11:30002/hub/library/nginx@sha256:" + "a" * 64),
    ("docker.io/library/nginx:1.27", "10.0.0.11:30002/hub/library/nginx:1.27"),
    ("bitnami/redis:7", "10.0.0.11:30002/hub/bitnami/redis:7"),
    ("docker.io/bitnami/redis:7", "10.0.0.11:30002/hub/bitnami/redis:7"),
    ("localhost/app:1", "localhost/app:1"),
    ("localhost:5000/app:1", "localhost:5000/app:1"),
    ("10.0.0.11:30002/hub/library/nginx:1.27", "10.0.0.11:30002/hub/library/nginx:1.27"),
    ("ghcr.io/org/app:1", "ghcr.io/org/app:1"),
])
def test_rewrite_sends_each_upstream_to_its_project(image: str, expected: str) -> None:
    raw = {**three(), "imageRewrite": {"enabled": True}}
    spec = specs.rewrite_spec(validate(raw, ALL_SECRETS))
    assert _rewrite(spec, image) == expected
