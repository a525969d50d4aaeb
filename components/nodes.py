"""NodeMirror: make containerd on every node pull through Harbor, with one of three transports.

All transports run the same POSIX script (components/node_script/): it sets ``config_path`` in the table the
node's containerd version reads (editing the existing table in place), writes the rendered hosts.toml/CA
files atomically with backups, validates with ``containerd config dump``, restarts containerd only when
config.toml changed, rolls back a failed restart, and can restore the node (``remove``).

``ssh`` (one ``NodeContainerdConfig`` dynamic resource per listed node, components/node_ssh.py)
    + per-node outputs (containerd version, changed files, restarted) and per-node errors naming the node;
    + ``pulumi destroy`` restores every node; ``pulumi refresh`` reports drift on a node;
    + works before the cluster can schedule pods (no image pull, no CNI, no API access needed);
    - needs SSH access (key in the stack secret ``harbor-cache:sshPrivateKey``) and an up-to-date node list:
      nodes that join later (autoscaling) are not configured until the list is updated;
    - nodes are configured in parallel, up to ``pulumi up --parallel`` at a time (the engine's default is 4 per
      core: pass ``--parallel <number of nodes>`` for a large fleet; the provider process runs up to 64 node
      sessions at once, components/provider_pool.py); one unreachable node
      fails its resource while in-flight nodes still finish; use ``pulumi up --continue-on-error`` to let all
      other nodes converge in large fleets.

``command`` (one ``pulumi_command.remote.Command`` per listed node, components/command_transport.py)
    + the same script and SSH reach as ``ssh``, for users who standardise on pulumi-command;
    + ``pulumi destroy`` restores every node (the Command's delete runs the script's ``remove``);
    - no drift on ``refresh`` (a Command cannot read a node back), ``in_sync`` is unknown;
    - the SSH key is part of the Command's ``connection`` (encrypted in state), needs the pulumi-command plugin.

``daemonset`` (a privileged DaemonSet running the script in the host's namespaces via ``nsenter -t 1``)
    + reaches every node including nodes that join later, re-applies periodically (drift heals itself);
    + no SSH keys; the script and files travel in a Secret mounted into the pod and are fed on stdin;
    - needs a pullable image (it must not itself depend on the mirror being configured) and a policy that
      admits privileged, hostPID pods; it gives no per-node outputs (read the pods' ``HARBOR_CACHE_RESULT``
      log lines; the pods turn Ready only after a successful run, so the rollout fails when nodes fail);
    - deleting the DaemonSet does not restore nodes: set ``mode="remove"``, ``pulumi up``, wait for the
      pods to be Ready, then remove it.

Before any node is configured, ``RealmCheck`` (components/realm.py) reads the token realm from the node
endpoint's ``/v2/`` answer and stops the update when nodes could never use it.

Optional verification: after the configuration, on the first listed node, the image is pulled by Harbor's
name (no fallback exists for it), the artifact is looked up in the proxy project through Harbor's API, and
the image is pulled by its upstream name (components/verification.py); a bypassed cache fails the update
with the broken link. The result (ok, image id, harbor_image, digest, message) is the ``verification`` output.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import pulumi

from components.containerd import NodeMirrorSpec, etc_hosts_line, harbor_authority, render_certs_files
from components.node_script import ScriptParams, render_script
from components.node_ssh import NodeContainerdConfig, NodePullCheck
from components.realm import RealmCheck
from components.ssh import SshTarget

Transport = Literal["ssh", "command", "daemonset"]
SSH_KEY_SETTING = "sshPrivateKey"  # the stack secret both SSH-based transports use


@dataclass(frozen=True)
class DaemonSetOptions:
    """The daemonset transport: where, with which image, how often, apply or remove."""

    namespace: str = "harbor-cache"
    image: str = "docker.io/library/busybox:1.37"
    interval_seconds: int = 600
    mode: Literal["apply", "remove"] = "apply"
    node_selector: Mapping[str, str] = field(default_factory=dict)
    image_pull_secrets: tuple[str, ...] = ()


@dataclass(frozen=True)
class NodeMirrorArgs:
    """What NodeMirror needs (built from the settings by components/specs.py ``node_mirror_args``).

    spec: what every node gets; ``spec.certs_dir`` wins over ``params.certs_dir`` (config.toml's config_path and
    the hosts.toml ``ca`` paths must name the same directory). ca_pem: the CA as a deploy-time output (the Tls
    component's), used instead of ``spec.ca_pem`` when set. ssh_targets: the nodes for the ssh transport, each
    with its bastion if any; the first one also runs the optional ``verify_image`` pull (with ``verify_crictl``),
    confirmed through Harbor's API at ``verify_api_url`` (direct access; empty: the pull by Harbor's name alone).
    check_realm: judge the node endpoint's token realm before configuring nodes (RealmCheck).
    """

    spec: NodeMirrorSpec
    transport: Transport
    ca_pem: pulumi.Input[str] | None = None
    ssh_targets: Sequence[SshTarget] = ()
    params: ScriptParams = field(default_factory=ScriptParams)
    daemonset: DaemonSetOptions = field(default_factory=DaemonSetOptions)
    verify_image: str | None = None
    verify_crictl: str = "crictl"
    verify_api_url: str = ""
    check_realm: bool = True
    ssh_private_key: pulumi.Input[str] | None = None  # command transport; None: the stack secret sshPrivateKey

    def __post_init__(self) -> None:
        """Reject a transport without what it needs."""
        if self.transport not in ("ssh", "command", "daemonset"):
            raise ValueError(f"transport must be ssh, command or daemonset, not {self.transport!r}")
        if self.transport in ("ssh", "command") and not self.ssh_targets:
            raise ValueError(f"transport {self.transport} needs at least one node")


def _sha(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def daemonset_loop(interval_seconds: int) -> str:
    """The container's shell loop: run the script in the host's namespaces, mark Ready after success."""
    return (
        "set -u\n"
        "while :; do\n"
        "  if nsenter -t 1 -m -u -i -n -- sh -s </harbor-cache/node-script.sh\n"
        "  then touch /tmp/harbor-cache-ok\n"
        "  else rm -f /tmp/harbor-cache-ok; echo 'harbor-cache: node script failed' >&2\n"
        "  fi\n"
        f"  sleep {int(interval_seconds)}\n"
        "done\n"
    )


def daemonset_manifest(
    name: str, opts: DaemonSetOptions, script_secret: str, checksum: str
) -> dict[str, Any]:
    """The DaemonSet body (pure; returned as a dict so tests can inspect it)."""
    labels = {"app.kubernetes.io/name": "harbor-cache-node", "app.kubernetes.io/instance": name}
    pod_spec: dict[str, Any] = {
        "hostPID": True,
        "hostNetwork": True,  # runs before/without CNI, on nodes that just joined
        "dnsPolicy": "ClusterFirstWithHostNet",
        "tolerations": [{"operator": "Exists"}],
        "terminationGracePeriodSeconds": 5,
        "containers": [{
            "name": "configure",
            "image": opts.image,
            "command": ["sh", "-c", daemonset_loop(opts.interval_seconds)],
            "securityContext": {"privileged": True},
            "readinessProbe": {"exec": {"command": ["test", "-f", "/tmp/harbor-cache-ok"]},
                               "periodSeconds": 5},
            "resources": {"requests": {"cpu": "5m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}},
            "volumeMounts": [{"name": "script", "mountPath": "/harbor-cache", "readOnly": True}],
        }],
        "volumes": [{"name": "script", "secret": {"secretName": script_secret, "defaultMode": 0o400}}],
    }
    if opts.node_selector:
        pod_spec["nodeSelector"] = dict(opts.node_selector)
    if opts.image_pull_secrets:
        pod_spec["imagePullSecrets"] = [{"name": s} for s in opts.image_pull_secrets]
    return {
        "metadata": {"name": name, "namespace": opts.namespace, "labels": labels},
        "spec": {
            "selector": {"matchLabels": labels},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%"}},
            "template": {"metadata": {"labels": labels, "annotations": {"harbor-cache/script-sha": checksum}},
                         "spec": pod_spec},
        },
    }


class NodeMirror(pulumi.ComponentResource):
    """containerd on the nodes pulls through Harbor (type ``harbor-cache:index:NodeMirror``).

    Outputs: ``nodes`` (ssh and command: node name -> {containerd_version, changed, restarted, in_sync}),
    ``verification`` (the pull check's result, or None), ``daemonset_name`` (daemonset transport, else None).
    """

    nodes: pulumi.Output[dict[str, dict[str, Any]]]
    verification: pulumi.Output[dict[str, Any] | None]
    daemonset_name: pulumi.Output[str | None]

    def __init__(self, name: str, args: NodeMirrorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("harbor-cache:index:NodeMirror", name, None, opts)
        spec = args.spec
        params = replace(args.params, certs_dir=spec.certs_dir)
        child = pulumi.ResourceOptions(parent=self)
        files: pulumi.Output[dict[str, str]] = pulumi.Output.from_input(args.ca_pem).apply(
            lambda pem: render_certs_files(replace(spec, ca_pem=pem) if pem else spec))
        hosts_line = etc_hosts_line(spec)
        self._resources: list[pulumi.Resource] = []
        node_endpoint = harbor_authority(spec)
        if args.check_realm:
            realm = RealmCheck(f"{name}-realm", endpoint=f"{spec.scheme}://{node_endpoint}", ca_pem=args.ca_pem,
                               opts=child)
            child = pulumi.ResourceOptions(parent=self, depends_on=[realm])
        nodes_out: pulumi.Output[dict[str, dict[str, Any]]] = pulumi.Output.from_input({})
        ds_name: pulumi.Output[str | None] = pulumi.Output.from_input(None)
        if args.transport == "ssh":
            nodes_out = self._ssh(name, args.ssh_targets, files, hosts_line, params, child)
        elif args.transport == "command":
            key = args.ssh_private_key or pulumi.Config("harbor-cache").require_secret(SSH_KEY_SETTING)
            nodes_out = self._command(name, args.ssh_targets, key, files, hosts_line, params, child)
        else:
            ds_name = self._daemonset(name, args.daemonset, files, hosts_line, params, child)
        verification: pulumi.Output[dict[str, Any] | None] = pulumi.Output.from_input(None)
        verify_image = args.verify_image
        if verify_image and args.ssh_targets:
            first = args.ssh_targets[0]
            project = spec.upstreams[0].project if spec.upstreams else ""
            check = NodePullCheck(f"{name}-verify", target=first, image=verify_image, crictl=args.verify_crictl,
                                  trigger=files.apply(_sha), node_endpoint=node_endpoint, project=project,
                                  api_url=args.verify_api_url, ca_pem=args.ca_pem,
                                  opts=pulumi.ResourceOptions(parent=self, depends_on=self._resources))
            verification = pulumi.Output.all(check.ok, check.image_id, check.message, check.through_harbor,
                                             check.harbor_image, check.digest).apply(
                lambda v: {"node": first.name, "image": verify_image, "ok": v[0], "image_id": v[1],
                           "message": v[2], "through_harbor": v[3], "harbor_image": v[4], "digest": v[5]})
        elif verify_image:
            pulumi.log.warn("verify_image needs at least one SSH node to pull on; skipped", resource=self)
        self.nodes = nodes_out
        self.verification = verification
        self.daemonset_name = ds_name
        self.register_outputs({"nodes": nodes_out, "verification": verification, "daemonset_name": ds_name})

    def _ssh(self, name: str, targets: Sequence[SshTarget], files: pulumi.Output[dict[str, str]],
             hosts_line: str | None, params: ScriptParams,
             child: pulumi.ResourceOptions) -> pulumi.Output[dict[str, dict[str, Any]]]:
        per_node = {}
        for node in targets:
            res = NodeContainerdConfig(f"{name}-{node.name}", target=node, files=files, hosts_line=hosts_line,
                                       params=params, opts=child)
            self._resources.append(res)
            per_node[node.name] = pulumi.Output.all(res.containerd_version, res.changed, res.restarted,
                                                    res.in_sync).apply(
                lambda v: {"containerd_version": v[0], "changed": v[1], "restarted": v[2], "in_sync": v[3]})
        return pulumi.Output.all(**per_node).apply(dict) if per_node else pulumi.Output.from_input({})

    def _command(self, name: str, targets: Sequence[SshTarget], key: pulumi.Input[str],
                 files: pulumi.Output[dict[str, str]], hosts_line: str | None, params: ScriptParams,
                 child: pulumi.ResourceOptions) -> pulumi.Output[dict[str, dict[str, Any]]]:
        # Imported here: pulumi_command's SDK is needed only by this transport (it slows every program start).
        from components.command_transport import node_command, node_result

        per_node = {}
        for node in targets:
            res = node_command(f"{name}-{node.name}", target=node, private_key=key, files=files, params=params,
                               hosts_line=hosts_line, opts=child)
            self._resources.append(res)
            per_node[node.name] = res.stdout.apply(node_result)
        return pulumi.Output.all(**per_node).apply(dict)

    def _daemonset(self, name: str, ds: DaemonSetOptions, files: pulumi.Output[dict[str, str]],
                   hosts_line: str | None, params: ScriptParams,
                   child: pulumi.ResourceOptions) -> pulumi.Output[str | None]:
        from pulumi_kubernetes.apps.v1 import DaemonSet
        from pulumi_kubernetes.core.v1 import Secret

        script: pulumi.Output[str] = files.apply(lambda f: render_script(ds.mode, params, f, hosts_line))
        secret_name = f"{name}-node-script"
        secret_data: dict[str, pulumi.Input[str]] = {"node-script.sh": script.apply(pulumi.Output.secret)}
        secret = Secret(f"{name}-node-script", metadata={"name": secret_name, "namespace": ds.namespace},
                        string_data=secret_data, opts=child)
        manifest = script.apply(lambda s: daemonset_manifest(f"{name}-node", ds, secret_name,
                                                             hashlib.sha256(s.encode()).hexdigest()[:16]))
        daemon = DaemonSet(f"{name}-node", metadata=manifest["metadata"], spec=manifest["spec"],
                           opts=pulumi.ResourceOptions(parent=self, depends_on=[secret]))
        self._resources.append(daemon)
        return daemon.metadata.apply(lambda m: m.name if m else None)
