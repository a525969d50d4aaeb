"""SSH transport: one dynamic resource per node runs the node script over SSH (paramiko).

``NodeContainerdConfig`` (type ``pulumi-python:dynamic/nodes:ContainerdConfig``): create and update run the
script in ``apply`` mode, delete runs ``remove`` (the node goes back to its prior state), read runs ``check``
so ``pulumi refresh`` shows drift on the node (and the next ``up`` re-applies). The rendered script, with the
desired files, goes to ``sh -s`` on stdin; the command line is only ``sh -s`` (or ``sudo -n sh -s``).
``NodePullCheck`` (``pulumi-python:dynamic/nodes:PullCheck``) proves on one node that pulls come through Harbor.

The SSH connection itself is components/ssh.py. The SSH private key is the stack secret
``harbor-cache:sshPrivateKey``, read in ``configure()`` in the provider process (components/dynamic.py): it is
never an input, never pickled into state and never logged.
The module path, the class names and the property names (``node``, ``host``, ``port``, ``user``,
``host_key``, ``bastion``, ``params`` ...) are part of the state format: do not move or rename them
(tests/unit/test_containerd.py loads a state written before the last change of this module).
"""

from __future__ import annotations

import hashlib
import shlex
import time
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    ConfigureRequest,
    CreateResult,
    DiffResult,
    ReadResult,
    Resource,
    UpdateResult,
)

from components.dynamic import SecretConfiguredProvider, known
from components.node_script import Mode, ScriptParams, parse_result, render_script, script_template
from components.provider_pool import widen_rpc_pool
from components.rules import host_key_problem
from components.ssh import NodeError, SshTarget, run_remote
from components.verification import VerificationError, artifact_in_project, harbor_image, pull_failure

KEY_CONFIG = "harbor-cache:sshPrivateKey"
TARGET_KEYS = ("node", "host", "port", "user", "host_key", "bastion")
INPUT_KEYS = (*TARGET_KEYS, "files", "hosts_line", "params", "script_version", "timeout")
PULL_KEYS = (*TARGET_KEYS, "image", "crictl", "trigger", "node_endpoint", "project", "api_url", "ca_pem")
CRI_ENDPOINT = "unix:///run/containerd/containerd.sock"


def script_version() -> str:
    """Hash of the shipped node script: a changed script re-applies on every node."""
    return hashlib.sha256(script_template().encode()).hexdigest()[:16]


def run_node_script(props: Mapping[str, Any], private_key: str, mode: Mode) -> dict[str, Any]:
    """Render the script for ``props`` and run it on the node; returns its summary (raises NodeError)."""
    target = SshTarget.from_props(props)
    params = ScriptParams.from_dict(props.get("params") or {})
    script = render_script(mode, params, props.get("files") or {}, props.get("hosts_line") or None)
    timeout = float(props.get("timeout") or 300)
    code, out, err, seen = run_remote(target, private_key, f"{target.sudo()}sh -s", script, timeout)
    result = parse_result(out)
    if result is None:
        tail = " | ".join(err.strip().splitlines()[-3:])
        raise NodeError(f"{target.describe()}: node script ({mode}) exited {code} without a result: {tail}")
    if code != 0 or not result.get("ok"):
        raise NodeError(f"{target.describe()}: {mode} failed: {result.get('error') or f'exit {code}'}"
                        + (" (config.toml rolled back)" if result.get("rolled_back") else ""))
    result["observed_host_key"] = seen
    return result


def crictl_pull(target: SshTarget, private_key: str, image: str, crictl: str = "crictl",
                endpoint: str = CRI_ENDPOINT, timeout: float = 300) -> dict[str, Any]:
    """Pull ``image`` through the node's CRI (as kubelet would); returns ok, image id and a short message."""
    cmd = (f"{target.sudo()}{shlex.quote(crictl)} --runtime-endpoint {shlex.quote(endpoint)} "
           f"--image-endpoint {shlex.quote(endpoint)} pull {shlex.quote(image)}")
    started = time.monotonic()
    code, out, err, _ = run_remote(target, private_key, cmd, "", timeout)
    message = (out.strip() or err.strip()).splitlines()[-1:] or [""]
    image_id = out.strip().rsplit(" ", 1)[-1] if code == 0 else ""
    return {"image": image, "node": target.name, "ok": code == 0, "image_id": image_id,
            "message": _shorten(message[0]), "seconds": round(time.monotonic() - started, 1)}


def _shorten(line: str, head: int = 150, tail: int = 450) -> str:
    """A long containerd error with its start (what failed) and its end (why: x509, token, refused ...)."""
    return line if len(line) <= head + tail + 5 else f"{line[:head]} ... {line[-tail:]}"


# ------------------------------------------------------------------------------------------ providers

class _SshProvider(SecretConfiguredProvider):
    """A provider that reaches nodes with the stack's SSH key (never stored on the pickled instance)."""

    secret_config_key = KEY_CONFIG
    config_value_example = '-- "$(cat ~/.ssh/id_ed25519)"'

    def configure(self, req: ConfigureRequest) -> None:
        """Read the key; let the provider process run many node sessions at once (components/provider_pool.py)."""
        super().configure(req)
        widen_rpc_pool()

    def _key(self, props: Mapping[str, Any]) -> str:
        if not self.secret:
            raise NodeError(f"node {props.get('node')}: no SSH key: {self.how_to_set_secret()}")
        return self.secret


def _inputs(props: Mapping[str, Any]) -> dict[str, Any]:
    return {k: props.get(k) for k in INPUT_KEYS}


def _outs(props: Mapping[str, Any], result: Mapping[str, Any]) -> dict[str, Any]:
    return {
        **_inputs(props),
        "containerd_version": result.get("containerd") or "",
        "config_version": result.get("config_version"),
        "config_action": result.get("config") or "",
        "changed": list(result.get("changed") or []),
        "restarted": bool(result.get("restarted")),
        "in_sync": not result.get("drift"),
        "drift": list(result.get("drift") or []),
        "warnings": list(result.get("warnings") or []),
        "observed_host_key": result.get("observed_host_key") or "",
    }


def changed_inputs(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    """This resource's own inputs that differ (``params`` compared by meaning: old states use older keys)."""
    changed = []
    for key in INPUT_KEYS:
        old, new = olds.get(key), news.get(key)
        if key == "params" and isinstance(old, Mapping) and isinstance(new, Mapping):
            old, new = ScriptParams.from_dict(old), ScriptParams.from_dict(new)
        if old != new:
            changed.append(key)
    return changed


class NodeContainerdConfigProvider(_SshProvider):
    """CRUD for one node's containerd mirror configuration."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        """Validate inputs (unknowns pass) and coerce numbers the engine sends as floats."""
        failures = []
        out = dict(news)
        for key in ("node", "host"):
            value = out.get(key)
            if known(value) and not (isinstance(value, str) and value):
                failures.append(CheckFailure(key, f"{key} must be a non-empty string"))
        for key in ("port", "timeout"):
            if out.get(key) is not None and known(out.get(key)):
                try:
                    out[key] = int(out[key])
                except (TypeError, ValueError):
                    failures.append(CheckFailure(key, f"{key} must be an integer"))
        hk = out.get("host_key")
        if hk not in (None, "") and known(hk):
            problem = host_key_problem(hk) if isinstance(hk, str) else "must be a string"
            if problem is not None:  # the rule the setting nodes.hosts[].hostKey is checked with
                failures.append(CheckFailure("host_key", f"host_key {problem}"))
        files = out.get("files")
        if files is not None and known(files) and not isinstance(files, dict):
            failures.append(CheckFailure("files", "files must map certs.d-relative paths to contents"))
        return CheckResult(out, failures)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Compare only this resource's own inputs; a refresh that found drift also asks for an update."""
        changed = changed_inputs(olds, news)
        if olds.get("in_sync") is False and "files" not in changed:
            changed.append("files")  # drift on the node (seen by refresh): apply again
        replaces = [k for k in changed if k == "node"]
        return DiffResult(changes=bool(changed), replaces=replaces, stables=[] if replaces else ["node"],
                          delete_before_replace=True)

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Apply on the node."""
        result = run_node_script(props, self._key(props), "apply")
        return CreateResult(str(props["node"]), _outs(props, result))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Apply the new inputs on the node; returns the full outputs."""
        result = run_node_script(news, self._key(news), "apply")
        return UpdateResult(_outs(news, result))

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        """Remove: restore the node's original files and config.toml."""
        run_node_script(props, self._key(props), "remove")

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Check the node (no changes); drift shows as ``in_sync: false`` and the ``drift`` list."""
        try:
            result = run_node_script(props, self._key(props), "check")
        except NodeError as exc:
            raise NodeError(f"{exc} (refresh keeps the recorded state of this node)") from None
        outs = _outs(props, result)
        outs["changed"] = list(props.get("changed") or [])
        outs["restarted"] = bool(props.get("restarted"))
        return ReadResult(id_, outs, _inputs(props))


class NodeContainerdConfig(Resource, module="nodes", name="ContainerdConfig"):
    """containerd on one node pulls through Harbor (see module docstring)."""

    containerd_version: pulumi.Output[str]
    changed: pulumi.Output[list[str]]
    restarted: pulumi.Output[bool]
    in_sync: pulumi.Output[bool]
    drift: pulumi.Output[list[str]]
    observed_host_key: pulumi.Output[str]

    def __init__(self, resource_name: str, *, target: SshTarget, files: pulumi.Input[Mapping[str, str]],
                 params: ScriptParams, hosts_line: str | None = None, timeout: int = 300,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props = {**target.to_props(), "files": files, "hosts_line": hosts_line, "params": params.to_dict(),
                 "script_version": script_version(), "timeout": timeout,
                 "containerd_version": None, "config_version": None, "config_action": None, "changed": None,
                 "restarted": None, "in_sync": None, "drift": None, "warnings": None,
                 "observed_host_key": None}
        super().__init__(NodeContainerdConfigProvider(), resource_name, props, opts)


class NodePullCheckProvider(_SshProvider):
    """Prove on one node, after the configuration, that pulls come through Harbor (components/verification.py).

    Without ``node_endpoint`` and ``project`` (a state written before the proof existed) it only pulls by the
    upstream name, as it used to.
    """

    def _pull(self, props: Mapping[str, Any]) -> dict[str, Any]:
        target, key, node = SshTarget.from_props(props), self._key(props), str(props["node"])
        crictl, proof = str(props.get("crictl") or "crictl"), {"through_harbor": False, "digest": "",
                                                                "harbor_image": ""}
        if props.get("node_endpoint") and props.get("project"):
            via = harbor_image(str(props["image"]), str(props["project"]))
            name = via.name(str(props["node_endpoint"]))
            pulled = crictl_pull(target, key, name, crictl)
            if not pulled["ok"]:
                raise pull_failure(node, name, pulled["message"])
            digest = artifact_in_project(str(props["api_url"]), via, str(props.get("ca_pem") or "")) \
                if props.get("api_url") else ""
            proof = {"through_harbor": True, "digest": digest, "harbor_image": name}
        result = crictl_pull(target, key, str(props["image"]), crictl)
        if not result["ok"]:
            raise VerificationError(f"node {node}: crictl pull {props['image']} failed: {result['message']}")
        return {**{k: props.get(k) for k in PULL_KEYS}, **result, **proof}

    def create(self, props: dict[str, Any]) -> CreateResult:
        """Pull once."""
        return CreateResult(f"{props['node']}/{props['image']}", self._pull(props))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Pull again (the image or the node configuration changed)."""
        return UpdateResult(self._pull(news))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """Re-pull when the image, the node or the configuration it verifies changed."""
        keys = ("node", "host", "port", "user", "image", "crictl", "trigger", "node_endpoint", "project", "api_url")
        return DiffResult(changes=any(olds.get(k) != news.get(k) for k in keys))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        """Nothing to undo: the pulled image stays in the node's store."""


class NodePullCheck(Resource, module="nodes", name="PullCheck"):
    """Result of pulling ``image`` on one node through its CRI after the mirror configuration."""

    ok: pulumi.Output[bool]
    image_id: pulumi.Output[str]
    message: pulumi.Output[str]
    through_harbor: pulumi.Output[bool]
    harbor_image: pulumi.Output[str]
    digest: pulumi.Output[str]

    def __init__(self, resource_name: str, *, target: SshTarget, image: str, trigger: pulumi.Input[Any],
                 crictl: str = "crictl", node_endpoint: str = "", project: str = "", api_url: str = "",
                 ca_pem: pulumi.Input[str] | None = None, opts: pulumi.ResourceOptions | None = None) -> None:
        props = {**target.to_props(), "image": image, "crictl": crictl, "trigger": trigger,
                 "node_endpoint": node_endpoint, "project": project, "api_url": api_url, "ca_pem": ca_pem or "",
                 "ok": None, "image_id": None, "message": None, "seconds": None, "through_harbor": None,
                 "harbor_image": None, "digest": None}
        super().__init__(NodePullCheckProvider(), resource_name, props, opts)
