"""Unit tests: hosts.toml renderers, script rendering, provider diff/check/pickling, NodeMirror with mocks, and a
stack state written by an older layout of components/node_ssh.py (data/state/node_ssh_ff308bf.json)."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import tomllib
from dataclasses import replace
from pathlib import Path
from typing import Any

import dill
import pulumi
import pytest
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider

from components.containerd import (
    NodeMirrorSpec,
    UpstreamMirror,
    etc_hosts_line,
    harbor_authority,
    harbor_ca_path,
    mirror_url,
    render_certs_files,
    upstream_server,
)
from components.dynamic import UNKNOWN
from components.node_script import ScriptParams, parse_result, render_script, script_template
from components.node_ssh import (
    KEY_CONFIG,
    TARGET_KEYS,
    NodeContainerdConfigProvider,
    NodePullCheckProvider,
    changed_inputs,
)
from components.nodes import DaemonSetOptions, NodeMirror, NodeMirrorArgs
from components.ssh import NodeError, SshTarget
from tests.support.pulumi_mocks import RecordingMocks

ECR = "255250787067.dkr.ecr.ap-northeast-2.amazonaws.com"
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"
HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"


def spec(**kw: Any) -> NodeMirrorSpec:
    base: dict[str, Any] = {"harbor_host": "harbor.example", "upstreams": (UpstreamMirror(ECR, "mif"),),
                            "ca_pem": PEM}
    base.update(kw)
    return NodeMirrorSpec(**base)


def test_upstream_hosts_toml_points_at_project_with_override_path() -> None:
    files = render_certs_files(spec())
    doc = tomllib.loads(files[f"{ECR}/hosts.toml"])
    assert doc["server"] == f"https://{ECR}"
    host = doc["host"]["https://harbor.example/v2/mif"]
    assert host["override_path"] is True
    assert host["capabilities"] == ["pull", "resolve"]
    assert host["ca"] == "/etc/containerd/certs.d/harbor.example/ca.crt"
    assert "skip_verify" not in host


def test_harbor_dir_has_hosts_toml_and_ca() -> None:
    files = render_certs_files(spec())
    assert set(files) == {f"{ECR}/hosts.toml", "harbor.example/hosts.toml", "harbor.example/ca.crt"}
    assert files["harbor.example/ca.crt"] == PEM + "\n"
    ca = "/etc/containerd/certs.d/harbor.example/ca.crt"
    own = tomllib.loads(files["harbor.example/hosts.toml"])
    assert own == {"server": "https://harbor.example", "ca": ca,
                   "host": {"https://harbor.example": {"capabilities": ["pull", "resolve"], "ca": ca}}}


@pytest.mark.parametrize("kw", [
    {}, {"ca_pem": None}, {"harbor_port": 30003, "dial_timeout": "2s"},
    {"scheme": "http", "harbor_port": 30002, "ca_pem": None}, {"harbor_host": "10.0.0.5", "harbor_port": 30003},
    {"static_ip": "10.96.0.50"},
])
def test_every_hosts_toml_has_an_explicit_host_table(kw: dict[str, Any]) -> None:
    """containerd 1.6 ignores a hosts.toml without a [host] table ("invalid `host` tree"), its CA included."""
    s = spec(**kw)
    for rel, text in render_certs_files(s).items():
        if not rel.endswith("hosts.toml"):
            continue
        hosts = tomllib.loads(text).get("host")
        assert isinstance(hosts, dict) and hosts, f"{rel} has no [host] table"
        for url, table in hosts.items():
            assert url.startswith(f"{s.scheme}://{harbor_authority(s)}"), url
            assert table["capabilities"] == ["pull", "resolve"]
            assert table.get("ca") == harbor_ca_path(s), rel  # the CA sits in the table containerd 1.6 reads
            assert "skip_verify" not in table
    own = tomllib.loads(render_certs_files(s)[f"{harbor_authority(s)}/hosts.toml"])
    assert list(own["host"]) == [own["server"]] == [f"{s.scheme}://{harbor_authority(s)}"]
    assert "override_path" not in own["host"][own["server"]]  # images named by Harbor carry the project path


@pytest.mark.parametrize(("scheme", "port", "authority"), [
    ("https", None, "harbor.example"), ("https", 443, "harbor.example"),
    ("https", 30003, "harbor.example:30003"),
    ("http", 80, "harbor.example"), ("http", 30002, "harbor.example:30002"),
])
def test_port_handling(scheme: str, port: int | None, authority: str) -> None:
    s = spec(scheme=scheme, harbor_port=port, ca_pem=PEM if scheme == "https" else None)
    assert harbor_authority(s) == authority
    assert mirror_url(s, "mif") == f"{scheme}://{authority}/v2/mif"
    assert f"{authority}/hosts.toml" in render_certs_files(s)


def test_http_mode_has_no_tls_options() -> None:
    s = spec(scheme="http", harbor_port=30002, ca_pem=None)
    assert harbor_ca_path(s) is None
    text = render_certs_files(s)[f"{ECR}/hosts.toml"]
    assert "ca =" not in text and "skip_verify" not in text
    assert "override_path = true" in text


def test_https_without_ca_uses_system_trust_and_never_skip_verify() -> None:
    text = render_certs_files(spec(ca_pem=None))[f"{ECR}/hosts.toml"]
    assert "skip_verify" not in text and "ca =" not in text


def test_several_upstreams_each_to_their_project() -> None:
    s = spec(upstreams=(UpstreamMirror(ECR, "mif"), UpstreamMirror("docker.io", "dockerhub"),
                        UpstreamMirror("registry.local:5000", "local", "http://registry.local:5000")))
    files = render_certs_files(s)
    hub = tomllib.loads(files["docker.io/hosts.toml"])
    assert hub["server"] == "https://registry-1.docker.io"
    assert "https://harbor.example/v2/dockerhub" in hub["host"]
    local = tomllib.loads(files["registry.local:5000/hosts.toml"])
    assert local["server"] == "http://registry.local:5000"
    assert upstream_server(UpstreamMirror(ECR, "mif")) == f"https://{ECR}"


def test_custom_certs_dir_and_dial_timeout() -> None:
    s = spec(certs_dir="/var/lib/rancher/certs.d", dial_timeout="2s")
    doc = tomllib.loads(render_certs_files(s)[f"{ECR}/hosts.toml"])
    host = doc["host"]["https://harbor.example/v2/mif"]
    assert host["ca"] == "/var/lib/rancher/certs.d/harbor.example/ca.crt"
    assert host["dial_timeout"] == "2s"


def test_etc_hosts_line_only_in_static_ip_mode() -> None:
    assert etc_hosts_line(spec()) is None
    assert etc_hosts_line(spec(static_ip="10.96.0.50")) == "10.96.0.50 harbor.example # harbor-cache"


@pytest.mark.parametrize("bad", [
    {"harbor_host": "https://harbor"}, {"harbor_host": "harbor/x"}, {"upstreams": ()},
    {"upstreams": (UpstreamMirror(ECR, "MIF"),)},
    {"upstreams": (UpstreamMirror(ECR, "a"), UpstreamMirror(ECR, "b"))},
    {"ca_pem": "not a pem"}, {"certs_dir": "relative/dir"}, {"certs_dir": "/a:/b"}, {"certs_dir": "/a\\b"},
    {"static_ip": "300.1.1.1"},
    {"harbor_host": "10.0.0.5", "static_ip": "10.96.0.50"}, {"dial_timeout": "soon"},
    {"capabilities": ("pull", "push")}, {"harbor_port": 70000},
])
def test_spec_validation(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        spec(**bad)


def test_harbor_host_cannot_be_an_upstream() -> None:
    with pytest.raises(ValueError, match="cannot also be an upstream"):
        render_certs_files(spec(upstreams=(UpstreamMirror("harbor.example", "mif"),)))


def test_rendering_is_deterministic() -> None:
    assert render_certs_files(spec()) == render_certs_files(spec())
    assert list(render_certs_files(spec())) == sorted(render_certs_files(spec()))


# ------------------------------------------------------------------------------- node script rendering

def test_script_carries_files_on_stdin_not_argv() -> None:
    files = render_certs_files(spec())
    script = render_script("apply", ScriptParams(), files, etc_hosts_line(spec(static_ip="10.96.0.50")))
    assert script.startswith("#!/bin/sh")
    assert "# @HARBOR_CACHE_INPUTS@" not in script
    assert "HC_MODE=apply" in script
    for content in files.values():
        assert base64.b64encode(content.encode()).decode() in script
    assert "HC_HOSTS_LINE='10.96.0.50 harbor.example # harbor-cache'" in script


def test_script_params_are_shell_quoted() -> None:
    p = ScriptParams(restart_cmd="rc-service containerd restart; echo 'x'")
    script = render_script("check", p, {}, None)
    assert "HC_RESTART_CMD='rc-service containerd restart; echo '\"'\"'x'\"'\"''" in script


@pytest.mark.parametrize("rel", ["../etc/passwd", "/abs/hosts.toml", "a/../../b", "a b/hosts.toml"])
def test_script_rejects_bad_file_paths(rel: str) -> None:
    with pytest.raises(ValueError):
        render_script("apply", ScriptParams(), {rel: "x"}, None)


def test_template_is_posix_sh_with_one_placeholder() -> None:
    text = script_template()
    assert text.count("# @HARBOR_CACHE_INPUTS@") == 1
    bashisms = (r"(^|[\s;])\[\[ ", r"(^|\s)local ", r"(^|\s)function \w+\s*(\(\)\s*)?\{", r"=\$'",
                "<<<", "pipefail", "declare ")
    for bashism in bashisms:
        assert not re.search(bashism, text, re.MULTILINE), bashism
    dash = shutil.which("dash")
    if dash:  # Debian's /bin/sh parses it
        assert subprocess.run([dash, "-n"], input=text, text=True, check=False).returncode == 0


def test_parse_result_takes_last_summary_line() -> None:
    out = 'noise\nHARBOR_CACHE_RESULT {"ok": false}\nHARBOR_CACHE_RESULT {"ok": true, "changed": []}\n'
    assert parse_result(out) == {"ok": True, "changed": []}
    assert parse_result("nothing") is None


def test_script_params_roundtrip_and_float_coercion() -> None:
    p = ScriptParams(state_dir="/x", health_timeout=9)
    assert ScriptParams.from_dict({**p.to_dict(), "health_timeout": 9.0, "extra": 1}) == p


def test_script_params_read_the_keys_of_older_states() -> None:
    """Before the rename, ``config`` was config.toml and ``config_path`` the certs.d directory."""
    old = {"config": "/etc/k3s/config.toml", "config_path": "/var/lib/certs.d", "state_dir": "/x"}
    assert ScriptParams.from_dict(old) == ScriptParams(config_toml="/etc/k3s/config.toml",
                                                       certs_dir="/var/lib/certs.d", state_dir="/x")
    assert "config_path" not in ScriptParams().to_dict()  # no name means two things any more


# ------------------------------------------------------------------------------- provider (no engine)

def _props(**kw: Any) -> dict[str, Any]:
    base = {"node": "n1", "host": "10.0.0.1", "port": 22.0, "user": "root", "host_key": None, "bastion": None,
            "files": {"a/hosts.toml": "x"}, "hosts_line": None, "params": ScriptParams().to_dict(),
            "script_version": "v1", "timeout": 300}
    base.update(kw)
    return base


def test_check_coerces_port_and_passes_unknowns() -> None:
    p = NodeContainerdConfigProvider()
    res = p.check({}, _props())
    assert res.inputs["port"] == 22 and isinstance(res.inputs["port"], int) and not res.failures
    assert not p.check({}, _props(host=UNKNOWN, files=UNKNOWN)).failures
    failures = p.check({}, _props(host="", host_key="junk")).failures
    assert [f.property for f in failures] == ["host", "host_key"]


def test_check_reads_host_keys_with_the_settings_rule() -> None:
    """components/rules host_key_problem, the rule of the setting nodes.hosts[].hostKey."""
    p = NodeContainerdConfigProvider()
    assert not p.check({}, _props(host_key=HOST_KEY)).failures
    (failure,) = p.check({}, _props(host_key="ssh-ed25519 AAAA")).failures
    assert failure.property == "host_key" and "damaged" in failure.reason


def test_diff_only_own_keys_and_drift() -> None:
    p = NodeContainerdConfigProvider()
    olds = {**_props(), "__provider": "old", "in_sync": True, "containerd_version": "1.6.20"}
    assert not p.diff("n1", olds, {**_props(), "__provider": "new"}).changes
    changed = p.diff("n1", olds, _props(files={"a/hosts.toml": "y"}))
    assert changed.changes and not changed.replaces
    assert p.diff("n1", {**olds, "in_sync": False}, _props()).changes
    renamed = p.diff("n1", olds, _props(node="n2"))
    assert renamed.replaces == ["node"] and renamed.delete_before_replace


def _configure(provider: Any, key: str = "-----BEGIN OPENSSH PRIVATE KEY-----\nk\n") -> Any:
    provider.configure(ConfigureRequest(Config({KEY_CONFIG: key}, "harbor-cache")))
    return provider


@pytest.mark.parametrize("cls", [NodeContainerdConfigProvider, NodePullCheckProvider])
def test_provider_pickles_by_reference_and_never_with_the_key(cls: type[Any]) -> None:
    p = _configure(cls())
    assert p.secret.startswith("-----BEGIN")
    blob = base64.b64decode(serialize_provider(p))  # even a configured instance (the guard)
    assert b"PRIVATE KEY" not in blob
    assert b"components.node_ssh" in blob and cls.__name__.encode() in blob
    loaded = dill.loads(blob)
    assert type(loaded) is cls and loaded.secret == ""


def test_missing_key_names_the_setting() -> None:
    with pytest.raises(NodeError, match=re.escape("node n1: no SSH key: run `pulumi config set --secret "
                                                  'harbor-cache:sshPrivateKey -- "$(cat ~/.ssh/id_ed25519)"`')):
        NodeContainerdConfigProvider().create(_props())


def test_target_description_names_node_and_address() -> None:
    t = SshTarget.from_props(_props(bastion={"host": "jump", "port": 2222.0, "user": "ops"}))
    assert t.describe() == "node n1 (root@10.0.0.1:22 via ops@jump:2222)"
    assert t.bastion == SshTarget("bastion", "jump", 2222, "ops")


def test_target_props_roundtrip() -> None:
    t = SshTarget("n1", "10.0.0.1", 2200, "ops", "ssh-ed25519 AAAA",
                  bastion=SshTarget("bastion", "jump", 22, "root", "ssh-ed25519 BBBB"))
    props = t.to_props()
    assert tuple(props) == TARGET_KEYS
    assert props["bastion"] == {"host": "jump", "port": 22, "user": "root", "host_key": "ssh-ed25519 BBBB"}
    assert SshTarget.from_props(props) == t
    assert t.sudo() == "sudo -n " and SshTarget("n", "h").sudo() == ""


# ------------------------------------------------------------------------------- NodeMirror with mocks

class _Mocks(RecordingMocks):
    def outputs(self, args: pulumi.runtime.MockResourceArgs) -> dict[str, Any]:
        if args.typ.endswith("ContainerdConfig"):
            return {"containerd_version": "1.6.20", "changed": ["/x"], "restarted": True, "in_sync": True}
        return {}


@pytest.fixture
def mocks() -> Any:
    m = _Mocks()
    pulumi.runtime.set_mocks(m, project="harbor-cache", stack="unit", preview=False)
    yield m
    pulumi.runtime.settings.reset_options()


def _await(output: pulumi.Output[Any]) -> Any:
    box: list[Any] = []
    output.apply(box.append)
    return box


@pytest.mark.parametrize(("kw", "message"), [
    ({"transport": "ssh"}, "at least one node"), ({"transport": "command"}, "transport command needs at least one"),
    ({"transport": "rsync"}, "ssh, command or daemonset"),
])
def test_node_mirror_args_reject_a_transport_without_what_it_needs(kw: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NodeMirrorArgs(spec=spec(), **kw)


def test_node_mirror_args_from_settings() -> None:
    from components import specs
    from components.settings import validate

    raw = {"harbor": {"tlsMode": "https", "expose": {"type": "nodePort", "nodeAddress": "10.0.0.11"}},
           "upstream": {"url": f"https://{ECR}", "accessKeyId": "AKIAIOSFODNN7EXAMPLE"},
           "nodes": {"user": "ops", "bastion": {"host": "jump.example", "port": 2222},
                     "hosts": [{"name": "a", "address": "10.0.0.21", "hostKey": HOST_KEY},
                               {"name": "b", "address": "10.0.0.22", "user": "root"}],
                     "containerd": {"configPath": "/etc/k3s/config.toml", "certsDir": "/etc/k3s/certs.d"}}}
    secrets = {"adminPassword": True, "upstreamSecretKey": True, "sshPrivateKey": True}
    args = specs.node_mirror_args(validate(raw, secrets), PEM)
    jump = SshTarget("bastion", "jump.example", 2222, "root")
    assert list(args.ssh_targets) == [SshTarget("a", "10.0.0.21", 22, "ops", HOST_KEY, bastion=jump),
                                      SshTarget("b", "10.0.0.22", 22, "root", bastion=jump)]
    assert (args.params.config_toml, args.params.certs_dir) == ("/etc/k3s/config.toml", "/etc/k3s/certs.d")
    assert args.spec.certs_dir == "/etc/k3s/certs.d" and args.ca_pem == PEM and args.transport == "ssh"


@pulumi.runtime.test
def test_node_mirror_ssh_one_resource_per_node(mocks: _Mocks) -> Any:
    jump = SshTarget("bastion", "jump.example", user="ops")
    nm = NodeMirror("nm", NodeMirrorArgs(
        spec=replace(spec(), ca_pem=None, certs_dir="/var/lib/certs.d"), transport="ssh", ca_pem=PEM,
        ssh_targets=[SshTarget("a", "10.0.0.1", bastion=jump),
                     SshTarget("b", "10.0.0.2", host_key="ssh-ed25519 AAAA", bastion=jump)],
        verify_image=f"{ECR}/app:1"))

    def check(outs: list[Any]) -> None:
        nodes, verification = outs
        assert verification["node"] == "a" and verification["image"] == f"{ECR}/app:1"
        assert set(nodes) == {"a", "b"}
        assert nodes["a"]["containerd_version"] == "1.6.20" and nodes["a"]["restarted"] is True
        typed = [r for r in mocks.resources if r.typ == "pulumi-python:dynamic/nodes:ContainerdConfig"]
        assert len(typed) == 2
        assert all("harbor.example/ca.crt" in r.inputs["files"] for r in typed)
        assert all("PRIVATE" not in str(r.inputs) for r in typed)
        assert {r.inputs["params"]["certs_dir"] for r in typed} == {"/var/lib/certs.d"}  # the spec's wins
        assert [r.inputs["bastion"]["host"] for r in typed] == ["jump.example"] * 2
        pull = [r for r in mocks.resources if r.typ == "pulumi-python:dynamic/nodes:PullCheck"]
        assert [(r.inputs["node"], r.inputs["image"]) for r in pull] == [("a", f"{ECR}/app:1")]

    return pulumi.Output.all(nm.nodes, nm.verification).apply(check)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
@pulumi.runtime.test
def test_node_mirror_daemonset_is_privileged_and_carries_script_in_secret(mocks: _Mocks) -> Any:
    nm = NodeMirror("nm", NodeMirrorArgs(
        spec=spec(static_ip="10.96.0.50"), transport="daemonset",
        daemonset=DaemonSetOptions(image="registry.example/busybox:1.37", interval_seconds=60)))

    def check(_: Any) -> None:
        ds = next(r for r in mocks.resources if r.typ == "kubernetes:apps/v1:DaemonSet")
        pod = ds.inputs["spec"]["template"]["spec"]
        assert pod["hostPID"] is True
        c = pod["containers"][0]
        assert c["securityContext"]["privileged"] is True and c["image"] == "registry.example/busybox:1.37"
        assert "nsenter -t 1 -m" in c["command"][2] and "sleep 60" in c["command"][2]
        assert {"operator": "Exists"} in pod["tolerations"]
        sec = next(r for r in mocks.resources if r.typ == "kubernetes:core/v1:Secret")
        data = sec.inputs["stringData"]
        script = data.get("value", data)["node-script.sh"]  # secret values arrive wrapped
        assert "HC_MODE=apply" in script and "10.96.0.50 harbor.example # harbor-cache" in script

    return nm.daemonset_name.apply(check)


# ------------------------------------------------------------------ a stack state written by an older layout

STATE = json.loads((Path(__file__).parent / "data" / "state" / "node_ssh_ff308bf.json").read_text())


def _recorded(typ: str) -> dict[str, Any]:
    return next(r for r in STATE["resources"] if r["type"] == f"pulumi-python:dynamic/nodes:{typ}")


class _FakeNode:
    """Stands in for run_remote: records the target, command and script, answers like the node script."""

    def __init__(self) -> None:
        self.calls: list[tuple[SshTarget, str, str]] = []

    def __call__(self, target: SshTarget, key: str, command: str, stdin: str,
                 timeout: float) -> tuple[int, str, str, str]:
        assert key.startswith("-----BEGIN")
        self.calls.append((target, command, stdin))
        out = ('HARBOR_CACHE_RESULT {"ok": true, "containerd": "1.6.20", "config": "restored", "changed": []}'
               if command.endswith("sh -s") else "Image is up to date for sha256:0123")
        return 0, out, "", "ssh-ed25519 AAAAC3Nza"


def _as_sent(value: Any) -> Any:
    """A value as the engine hands it to a provider: properties that are None are left out, at every level."""
    if isinstance(value, dict):
        return {k: _as_sent(v) for k, v in value.items() if v is not None}
    return value


def _old_provider(record: dict[str, Any]) -> Any:
    """The provider as the engine gets it back from that state: dill.loads of the recorded string."""
    return _configure(dill.loads(base64.b64decode(record["outputs"]["__provider"])))


def test_old_state_provider_loads_as_the_current_class() -> None:
    assert type(_old_provider(_recorded("ContainerdConfig"))) is NodeContainerdConfigProvider
    assert type(_old_provider(_recorded("PullCheck"))) is NodePullCheckProvider


def test_old_state_names_the_same_target_and_params_as_the_current_code() -> None:
    """Same settings, current code: no diff from the renamed params keys or the one SSH target type."""
    old = _recorded("ContainerdConfig")["outputs"]
    target = SshTarget("node-a", "10.0.0.11", 2222, "ops", "ssh-ed25519 AAAAC3Nza",
                       bastion=SshTarget("bastion", "jump.example", user="jump"))
    params = ScriptParams(config_toml="/etc/k3s/containerd/config.toml", state_dir="/var/lib/hc",
                          restart_cmd="rc-service containerd restart", health_timeout=30)
    assert SshTarget.from_props(old) == target
    news = _as_sent({**old, **target.to_props(), "params": params.to_dict()})
    assert changed_inputs(old, news) == []
    assert not _old_provider(_recorded("ContainerdConfig")).diff(old["node"], old, news).changes


def test_old_state_delete_restores_the_node_with_its_recorded_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    node = _FakeNode()
    monkeypatch.setattr("components.node_ssh.run_remote", node)
    old = _recorded("ContainerdConfig")["outputs"]
    _old_provider(_recorded("ContainerdConfig")).delete(old["node"], old)
    ((target, command, script),) = node.calls
    assert target.describe() == "node node-a (ops@10.0.0.11:2222 via jump@jump.example:22)"
    assert command == "sudo -n sh -s"
    for line in ("HC_MODE=remove", "HC_CONFIG_TOML=/etc/k3s/containerd/config.toml",
                 "HC_CERTS_DIR=/etc/containerd/certs.d", "HC_STATE_DIR=/var/lib/hc",
                 "HC_RESTART_CMD='rc-service containerd restart'", "HC_HEALTH_TIMEOUT=30"):
        assert f"\n{line}\n" in script, line


def test_old_state_pull_check_still_diffs_and_pulls(monkeypatch: pytest.MonkeyPatch) -> None:
    node = _FakeNode()
    monkeypatch.setattr("components.node_ssh.run_remote", node)
    record = _recorded("PullCheck")
    provider = _old_provider(record)
    assert not provider.diff("id", record["outputs"], record["inputs"]).changes
    outs = provider.update("id", record["outputs"], record["inputs"]).outs
    assert outs["ok"] is True and outs["image_id"] == "sha256:0123"
    assert {k: outs[k] for k in ("node", "host", "bastion")} == {k: record["inputs"][k]
                                                                 for k in ("node", "host", "bastion")}
    ((target, command, _),) = node.calls
    assert target.name == "node-a" and target.bastion is not None and target.bastion.host == "jump.example"
    assert command.startswith("sudo -n crictl ") and command.endswith(f"pull {record['inputs']['image']}")
