"""The ``command`` transport on real nodes: the exact command lines and stdin a ``pulumi_command.remote.Command``
would send (components/command_transport.py), run over real SSH (paramiko) against the test bed's nodes.

The pulumi-command plugin itself is not run here (it cannot be built from the Go module proxy); its contract is
"run ``create``/``update``/``delete`` with ``stdin`` over one SSH session and fail on a non-zero exit", which is
what ``run_remote`` does. tests/unit/test_command_transport.py shows the Command gets exactly these inputs.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.command_transport import command_line, node_result, node_stdin
from components.containerd import NodeMirrorSpec, etc_hosts_line, render_certs_files
from components.node_script import Mode, ScriptParams, parse_result
from components.ssh import SshTarget, run_remote
from lab.testbed import Node, Testbed
from tests.nodes.test_node_mirror import assert_served_by_mirror, pull, snapshot
from tests.support.node_cases import http_spec, https_spec, node_of

pytestmark = pytest.mark.nodes


def _target(node: Node) -> SshTarget:
    host_key = (node.path / "ssh_host_ed25519_key.pub").read_text().strip()
    return SshTarget(node.name, node.addr, host_key=host_key)


def _params(node: Node, spec: NodeMirrorSpec) -> ScriptParams:
    return ScriptParams(certs_dir=spec.certs_dir, state_dir=node.state_dir, restart_cmd=node.restart_cmd,
                        health_cmd=node.health_cmd, health_timeout=15)


def _send(bed: Testbed, node: Node, mode: Mode, stdin: str) -> dict[str, Any]:
    """What pulumi-command does for one operation: one SSH session, the command line, stdin; exit 0 or fail.
    Returns the script's result with ``outputs``: what NodeMirror reports for the node from the stdout."""
    target = _target(node)
    code, out, err, _ = run_remote(target, bed.client_key.read_text(), command_line(target, mode), stdin, 120)
    assert code == 0, f"{mode} exited {code}: {err[-800:]}"
    result = parse_result(out)
    assert result is not None and result["ok"] is True and result["mode"] == mode, out[-800:]
    return {**result, "outputs": node_result(out)}


@pytest.mark.parametrize("flavor", ["1.6", "2"])
def test_create_update_delete_as_the_command_sends_them(bed: Testbed, flavor: str) -> None:
    node = node_of(bed, flavor)
    node.reset(node.stock_config())
    before = snapshot(node)
    spec = http_spec(bed)
    files = render_certs_files(spec)
    stdin = node_stdin(_params(node, spec), files, etc_hosts_line(spec))

    created = _send(bed, node, "apply", stdin)  # create
    assert created["restarted"] is True and created["outputs"]["restarted"] is True
    assert created["outputs"]["containerd_version"].startswith(flavor[0])
    certs = node.path / "etc-containerd" / "certs.d"
    for rel, content in files.items():
        assert (certs / rel).read_text() == content
    pull(bed, node)
    assert_served_by_mirror(bed, node)

    again = _send(bed, node, "apply", stdin)  # update with the same stdin: nothing to do
    assert again["changed"] == [] and again["restarted"] is False

    https = https_spec(bed)  # update with new files: a stdin change is an update, applied in place
    new_stdin = node_stdin(_params(node, https), render_certs_files(https), etc_hosts_line(https))
    updated = _send(bed, node, "apply", new_stdin)
    assert updated["changed"] and (certs / "harbor.test:8443" / "ca.crt").read_text().strip() == bed.ca_pem.strip()
    assert "harbor.test # harbor-cache" in (node.path / "etc-hosts").read_text()

    _send(bed, node, "remove", new_stdin)  # delete runs with the stdin recorded at the last update
    assert snapshot(node) == before, "remove must restore /etc/containerd and /etc/hosts byte for byte"
    assert node.containerd_running()


def test_a_failing_apply_exits_non_zero_so_the_command_fails(bed: Testbed) -> None:
    """pulumi-command fails an operation only on a non-zero exit: the script must exit non-zero when it refuses."""
    node = node_of(bed, "1.6")
    original = ('version = 2\n\n[plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]\n'
                '  endpoint = ["https://mirror.example"]\n')
    node.reset(original)
    before = snapshot(node)
    spec = http_spec(bed)
    stdin = node_stdin(_params(node, spec), render_certs_files(spec), None)
    target = _target(node)
    code, out, _, _ = run_remote(target, bed.client_key.read_text(), command_line(target, "apply"), stdin, 120)
    result = parse_result(out)
    assert code != 0 and result is not None and result["ok"] is False and "mirrors" in result["error"]
    assert snapshot(node) == before
