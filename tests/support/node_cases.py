"""Shared inputs for tests that configure test-bed nodes through the real provider (no engine)."""

from __future__ import annotations

from typing import Any

from components.containerd import NodeMirrorSpec, UpstreamMirror, etc_hosts_line, render_certs_files
from components.node_script import ScriptParams
from components.ssh import SshTarget
from lab.testbed import HARBOR_NAME, PROJECT, UPSTREAM_HOST, Node, Testbed
from tests.support.requirements import require


def node_of(bed: Testbed, flavor: str) -> Node:
    """The first node of a flavor (skips, so fails in CI, when the bed has none)."""
    for node in bed.nodes:
        if node.flavor == flavor:
            return node
    require([f"a containerd {flavor} node"], "this test", "run scripts/build-tools containerd2")
    raise AssertionError("unreachable: require() skips")


def http_spec(bed: Testbed) -> NodeMirrorSpec:
    """Harbor-shaped endpoint over plain HTTP on its IP (nodePort-like exposure)."""
    return NodeMirrorSpec(harbor_host=bed.host_addr, harbor_port=8080, scheme="http",
                          upstreams=(UpstreamMirror(UPSTREAM_HOST, PROJECT, bed.upstream_server),))


def https_spec(bed: Testbed) -> NodeMirrorSpec:
    """HTTPS with the bed's CA, reached by name through the /etc/hosts entry (static ClusterIP mode)."""
    return NodeMirrorSpec(harbor_host=HARBOR_NAME, harbor_port=8443, scheme="https", ca_pem=bed.ca_pem,
                          static_ip=bed.host_addr,
                          upstreams=(UpstreamMirror(UPSTREAM_HOST, PROJECT, bed.upstream_server),))


def node_props(
    node: Node, spec: NodeMirrorSpec, files: dict[str, str] | None = None, **kw: Any
) -> dict[str, Any]:
    """Resource inputs for ``node`` as NodeMirror builds them, with the bed's restart/health commands."""
    params = ScriptParams(certs_dir=spec.certs_dir, state_dir=node.state_dir, restart_cmd=node.restart_cmd,
                          health_cmd=node.health_cmd, health_timeout=15)
    host_key = (node.path / "ssh_host_ed25519_key.pub").read_text().strip()
    props: dict[str, Any] = {
        **SshTarget(node.name, node.addr, host_key=host_key).to_props(),
        "files": files if files is not None else render_certs_files(spec), "hosts_line": etc_hosts_line(spec),
        "params": params.to_dict(), "script_version": "test", "timeout": 120,
    }
    props.update(kw)
    return props
