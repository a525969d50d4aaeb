"""The ``command`` transport: the command lines and stdin it sends, and its resource graph under Pulumi's mocks.

The pulumi-command plugin itself is not run (it cannot be built here); tests/nodes/test_command_transport.py runs
the exact command lines and stdin over real SSH against the test bed's nodes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pulumi
import pytest
from pulumi.runtime import rpc

from components.command_transport import MODE_FROM_ARGUMENT, command_line, node_result, node_stdin
from components.containerd import NodeMirrorSpec, UpstreamMirror, render_certs_files
from components.node_script import RESULT_PREFIX, ScriptParams
from components.nodes import NodeMirror, NodeMirrorArgs
from components.ssh import SshTarget
from tests.support.pulumi_mocks import RecordingMocks, mocked_runtime

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nsandbox-only\n-----END OPENSSH PRIVATE KEY-----\n"
COMMAND = "command:remote:Command"
# pulumi_command.remote imports its deprecated CopyFile resource, which warns on import.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def spec() -> NodeMirrorSpec:
    return NodeMirrorSpec(harbor_host="harbor.example", harbor_port=30003, scheme="https",
                          upstreams=(UpstreamMirror(host="registry.example", project="mif"),), ca_pem=PEM)


def test_command_lines_carry_only_the_mode() -> None:
    assert command_line(SshTarget("a", "10.0.0.1"), "apply") == "sh -s apply"
    assert command_line(SshTarget("a", "10.0.0.1", user="ops"), "remove") == "sudo -n sh -s remove"
    with pytest.raises(ValueError, match="apply or remove"):
        command_line(SshTarget("a", "10.0.0.1"), "check")


def test_stdin_is_the_node_script_with_the_mode_from_its_argument() -> None:
    stdin = node_stdin(ScriptParams(), {"registry.example/hosts.toml": "server = 'x'\n"}, None)
    assert MODE_FROM_ARGUMENT in stdin.splitlines()
    assert not [line for line in stdin.splitlines() if line.startswith("HC_MODE=") and line != MODE_FROM_ARGUMENT]
    assert "registry.example/hosts.toml\t" in stdin  # the files travel inside the script


def test_node_result_reads_the_script_summary() -> None:
    out = f'noise\n{RESULT_PREFIX}{{"ok":true,"containerd":"1.6.20","changed":["/etc/x"],"restarted":true}}\n'
    assert node_result(out) == {"containerd_version": "1.6.20", "changed": ["/etc/x"], "restarted": True,
                                "in_sync": None}
    assert node_result(None)["containerd_version"] == ""


class _Mocks(RecordingMocks):
    def outputs(self, args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
        if args.typ == COMMAND:
            return {"stdout": f'{RESULT_PREFIX}{{"ok":true,"containerd":"2.2.9","changed":[],"restarted":false}}'}
        return {}


@pytest.fixture
def mocks() -> Iterator[_Mocks]:
    m = _Mocks()
    with mocked_runtime(m):
        yield m


@pulumi.runtime.test
def test_one_command_per_node_with_apply_update_remove_and_the_script_on_stdin(mocks: _Mocks) -> Any:
    jump = SshTarget("bastion", "jump.example", user="ops", host_key="ssh-ed25519 BBBB")
    targets = [SshTarget("a", "10.0.0.1", user="ops", host_key="ssh-ed25519 AAAA", bastion=jump),
               SshTarget("b", "10.0.0.2")]
    nm = NodeMirror("nm", NodeMirrorArgs(spec=replace(spec(), ca_pem=None), transport="command", ca_pem=PEM,
                                         ssh_targets=targets, ssh_private_key=pulumi.Output.secret(KEY),
                                         check_realm=False))

    def check(nodes: dict[str, Any]) -> None:
        commands = sorted((r for r in mocks.resources if r.typ == COMMAND), key=lambda r: r.name)
        assert [r.name for r in commands] == ["nm-a", "nm-b"]  # registered in any order (their stdin is an Output)
        a, b = (r.inputs for r in commands)
        assert (a["create"], a["update"], a["delete"]) == ("sudo -n sh -s apply",) * 2 + ("sudo -n sh -s remove",)
        assert (b["create"], b["update"], b["delete"]) == ("sh -s apply", "sh -s apply", "sh -s remove")
        assert MODE_FROM_ARGUMENT in a["stdin"] and "harbor.example:30003/ca.crt\t" in a["stdin"]
        # exactly what tests/nodes/test_command_transport.py runs on real nodes
        files = render_certs_files(replace(spec(), ca_pem=PEM))
        assert a["stdin"] == b["stdin"] == node_stdin(ScriptParams(certs_dir=spec().certs_dir), files, None)
        assert a["create"] == command_line(targets[0], "apply") and a["delete"] == command_line(targets[0], "remove")
        wrapped = a["connection"]  # pulumi-command marks the whole connection secret (encrypted in state)
        assert wrapped[rpc._special_sig_key] == rpc._special_secret_sig
        conn = wrapped["value"]
        assert (conn["host"], conn["port"], conn["user"], conn["hostKey"]) == ("10.0.0.1", 22, "ops",
                                                                               "ssh-ed25519 AAAA")
        assert conn["proxy"]["host"] == "jump.example" and conn["proxy"]["hostKey"] == "ssh-ed25519 BBBB"
        assert conn["privateKey"] == KEY and conn["proxy"]["privateKey"] == KEY
        for r in commands:  # the key goes only into the (secret) connection, never a command line or stdin
            assert all(KEY not in str(r.inputs[k]) for k in ("create", "update", "delete", "stdin", "triggers"))
            assert "environment" not in r.inputs
        assert a["triggers"] == ["node a (ops@10.0.0.1:22 via ops@jump.example:22)"]
        assert not [r for r in mocks.resources if "dynamic/nodes:ContainerdConfig" in r.typ]
        assert nodes["a"] == {"containerd_version": "2.2.9", "changed": [], "restarted": False, "in_sync": None}

    return nm.nodes.apply(check)


@pulumi.runtime.test
def test_command_transport_without_a_key_argument_reads_the_stack_secret(mocks: _Mocks) -> Any:
    pulumi.runtime.set_config("harbor-cache:sshPrivateKey", KEY)
    nm = NodeMirror("nm", NodeMirrorArgs(spec=spec(), transport="command", ssh_targets=[SshTarget("a", "h")],
                                         check_realm=False))

    def check(_: Any) -> None:
        command = next(r for r in mocks.resources if r.typ == COMMAND)
        assert command.inputs["connection"]["value"]["privateKey"] == KEY

    return nm.nodes.apply(check)


def test_replacing_a_node_command_deletes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    """A replacement that created first would apply on the node, then run the old resource's remove."""
    from components import command_transport

    seen: dict[str, Any] = {}

    def record(name: str, **kwargs: Any) -> str:
        seen.update(kwargs, name=name)
        return name

    monkeypatch.setattr(command_transport.remote, "Command", record)
    command_transport.node_command("x", target=SshTarget("a", "10.0.0.1"), private_key=KEY, files={},
                                   params=ScriptParams(), hosts_line=None,
                                   opts=pulumi.ResourceOptions(protect=False))
    assert seen["opts"].delete_before_replace is True and seen["create"] == "sh -s apply"


def _settings_raw(nodes: dict[str, Any]) -> dict[str, Any]:
    return {"harbor": {"tlsMode": "http", "expose": {"type": "nodePort", "nodeAddress": "10.0.0.11"}},
            "upstream": {"url": "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com",
                         "accessKeyId": "AKIAIOSFODNN7EXAMPLE"}, "nodes": nodes}


def test_settings_command_transport_needs_hosts_and_the_ssh_key() -> None:
    from components import specs
    from components.settings import SettingsError, validate

    secrets = {"adminPassword": True, "upstreamSecretKey": True}
    hosts = [{"name": "a", "address": "10.0.0.21"}]
    with pytest.raises(SettingsError, match=r"harbor-cache:nodes.hosts.*transport command needs at least one"):
        validate(_settings_raw({"transport": "command", "hosts": []}), {**secrets, "sshPrivateKey": True})
    with pytest.raises(SettingsError, match=r"harbor-cache:sshPrivateKey must be set as a secret"):
        validate(_settings_raw({"transport": "command", "hosts": hosts}), secrets)
    settings = validate(_settings_raw({"transport": "command", "hosts": hosts}), {**secrets, "sshPrivateKey": True})
    args = specs.node_mirror_args(settings, None)
    assert args.transport == "command" and [t.name for t in args.ssh_targets] == ["a"]
