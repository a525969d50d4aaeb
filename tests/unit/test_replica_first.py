"""`replication.nodesPullFirst`: nodes ask the replicated plain project before the proxy-cache project, the way
around an upstream outage that Harbor allows (a plain project never asks the upstream; docs/faults.md)."""

from __future__ import annotations

from typing import Any

import pytest

from components.containerd import NodeMirrorSpec, UpstreamMirror, upstream_hosts_toml
from components.settings import SettingsError, validate
from components.specs import node_mirror_spec

ECR_HOST = "255250787067.dkr.ecr.ap-northeast-2.amazonaws.com"
SECRETS = {"adminPassword": True, "upstreamSecretKey": True, "sshPrivateKey": True}


def raw(**replication: Any) -> dict[str, Any]:
    return {
        "harbor": {"tlsMode": "http", "expose": {"type": "nodePort", "nodeAddress": "10.0.0.11"}},
        "upstream": {"name": "ecr", "url": f"https://{ECR_HOST}", "accessKeyId": "AKIAIOSFODNN7EXAMPLE"},
        "proxyProject": {"name": "mif"},
        "replication": replication,
        "nodes": {"transport": "ssh", "hosts": [{"name": "n1", "address": "10.0.0.11"}]},
    }


def test_replica_is_asked_first_then_the_proxy_project_then_the_upstream() -> None:
    spec = NodeMirrorSpec("10.0.0.11", (UpstreamMirror(ECR_HOST, "mif", replica_project="mif-replica"),),
                          scheme="http", harbor_port=30002)
    text = upstream_hosts_toml(spec, spec.upstreams[0])
    replica = text.index('[host."http://10.0.0.11:30002/v2/mif-replica"]')
    proxy = text.index('[host."http://10.0.0.11:30002/v2/mif"]')
    assert text.index(f'server = "https://{ECR_HOST}"') < replica < proxy
    assert text.count("override_path = true") == 2, text


def test_without_a_replica_only_the_proxy_project_is_asked() -> None:
    spec = NodeMirrorSpec("10.0.0.11", (UpstreamMirror(ECR_HOST, "mif"),), scheme="http")
    assert upstream_hosts_toml(spec, spec.upstreams[0]).count("[host.") == 1


def test_a_replica_project_name_harbor_refuses_is_rejected() -> None:
    with pytest.raises(ValueError, match="replica project"):
        NodeMirrorSpec("10.0.0.11", (UpstreamMirror(ECR_HOST, "mif", replica_project="Bad_Name"),))


@pytest.mark.parametrize(("replication", "expected"), [
    ({"enabled": True, "nodesPullFirst": True}, "mif-replica"),
    ({"enabled": True}, None),  # default: the proxy project alone, as before
    ({"enabled": True, "project": "offline", "nodesPullFirst": True}, "offline"),
])
def test_setting_reaches_the_nodes(replication: dict[str, Any], expected: str | None) -> None:
    settings = validate(raw(**replication), SECRETS)
    (up,) = node_mirror_spec(settings).upstreams
    assert (up.project, up.replica_project) == ("mif", expected)


def test_pull_first_without_replication_names_the_setting() -> None:
    with pytest.raises(SettingsError) as info:
        validate(raw(nodesPullFirst=True), SECRETS)
    assert any("harbor-cache:replication.nodesPullFirst" in e and "replication.enabled" in e
               for e in info.value.errors), info.value.errors


def test_pull_first_must_be_a_boolean() -> None:
    with pytest.raises(SettingsError) as info:
        validate(raw(enabled=True, nodesPullFirst="yes"), SECRETS)
    assert any("replication.nodesPullFirst" in e for e in info.value.errors), info.value.errors
