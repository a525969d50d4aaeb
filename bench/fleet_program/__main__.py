"""Fleet fan-out program: one ``NodeContainerdConfig`` per node, files from harbor-cache's renderers.

Config (project ``harbor-cache``, so the provider finds ``harbor-cache:sshPrivateKey``): ``nodes`` (a list of
``{name, address}``), ``harborHost``, ``harborPort``, ``upstreamHost``, ``upstreamServer``, ``restartCommand``,
``healthCommand``.
"""

import pulumi

from components.containerd import NodeMirrorSpec, UpstreamMirror, etc_hosts_line, render_certs_files
from components.node_script import ScriptParams
from components.node_ssh import NodeContainerdConfig
from components.ssh import SshTarget

config = pulumi.Config()
spec = NodeMirrorSpec(
    harbor_host=config.require("harborHost"), harbor_port=config.require_int("harborPort"), scheme="http",
    upstreams=(UpstreamMirror(config.require("upstreamHost"), "mif", config.require("upstreamServer")),))
params = ScriptParams(certs_dir=spec.certs_dir, restart_cmd=config.require("restartCommand"),
                      health_cmd=config.require("healthCommand"), health_timeout=60)
files = render_certs_files(spec)
for node in config.require_object("nodes"):
    NodeContainerdConfig(f"node-{node['name']}", target=SshTarget(node["name"], node["address"]), files=files,
                         hosts_line=etc_hosts_line(spec), params=params, timeout=300)
