"""The ``command`` node transport: one ``pulumi_command.remote.Command`` per node runs the node script.

For users who standardise on pulumi-command (the design card's "remote Command resources push containerd
configs to the nodes"). It runs the very script the ``ssh`` transport runs (components/node_script/), fed to
``sh -s`` on standard input; only the mode travels on the command line:

* create and update: ``sh -s apply`` (``sudo -n sh -s apply`` for a non-root user);
* delete: ``sh -s remove`` with the stdin stored at the last create/update (pulumi-command runs ``delete`` with
  the resource's recorded inputs), so the node goes back to its prior state.

What makes it re-run: the rendered files and the script are the ``stdin`` input, and pulumi-command answers a
change of ``stdin`` with an update (``apply`` again, in place). The rendered files are deliberately *not*
``triggers``: pulumi-command replaces a Command whose triggers change, and a replacement that creates first
would apply the new files and then run the old resource's ``remove``, undoing them. ``triggers`` holds only
the node's identity, and replacements delete first (``delete_before_replace``), as the ssh transport does.

Secrets: the SSH private key is part of ``connection``, which pulumi-command stores as a secret (encrypted in
state, never on a command line). The script carries no secret (hosts.toml files and the public CA), no
``environment`` is used (sshd drops variables it does not ``AcceptEnv``).

Trade-offs against the ``ssh`` transport (README, docs/nodes.md): no ``refresh`` drift check (a Command has
no read), the key lives in state (encrypted) instead of only in the stack config, the per-node outputs come
from the script's result line in ``stdout``, and the pulumi-command provider plugin must be installable
(it was not run on this project's machines: the plugin cannot be built from the Go module proxy here).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pulumi
from pulumi_command import remote

from components.node_script import Mode, ScriptParams, parse_result, render_script
from components.ssh import SshTarget

# The inputs line the script renders for its mode; the command transport reads the mode from $1 instead.
_MODE_LINE = re.compile(r"^HC_MODE=\S+$", re.MULTILINE)
MODE_FROM_ARGUMENT = 'HC_MODE="${1:-}"'


def node_stdin(params: ScriptParams, files: Mapping[str, str], hosts_line: str | None) -> str:
    """The node script with its inputs and files, taking its mode from its first argument (``sh -s <mode>``)."""
    script = render_script("apply", params, files, hosts_line)
    if len(_MODE_LINE.findall(script)) != 1:
        raise RuntimeError("the node script must set HC_MODE exactly once in its inputs block")
    return _MODE_LINE.sub(MODE_FROM_ARGUMENT, script, count=1)


def command_line(target: SshTarget, mode: Mode) -> str:
    """The exact command line the Command sends for ``mode`` (the script itself arrives on stdin)."""
    if mode not in ("apply", "remove"):
        raise ValueError(f"the command transport runs apply or remove, not {mode!r}")
    return f"{target.sudo()}sh -s {mode}"


def connection(target: SshTarget, private_key: pulumi.Input[str]) -> remote.ConnectionArgs:
    """pulumi-command's ``connection`` for ``target`` (through its bastion, host keys pinned when given)."""
    b = target.bastion
    proxy = remote.ProxyConnectionArgs(host=b.host, port=b.port, user=b.user, private_key=private_key,
                                       host_key=b.host_key) if b is not None else None
    return remote.ConnectionArgs(host=target.host, port=target.port, user=target.user, private_key=private_key,
                                 host_key=target.host_key, proxy=proxy)


def node_result(stdout: str | None) -> dict[str, Any]:
    """A node's outputs from the script's result line in the Command's stdout (``in_sync``: not known, since a
    Command cannot read the node back)."""
    result = parse_result(stdout or "") or {}
    return {"containerd_version": result.get("containerd") or "", "changed": list(result.get("changed") or []),
            "restarted": bool(result.get("restarted")), "in_sync": None}


def node_command(resource_name: str, *, target: SshTarget, private_key: pulumi.Input[str],
                 files: pulumi.Input[Mapping[str, str]], params: ScriptParams, hosts_line: str | None,
                 opts: pulumi.ResourceOptions | None = None) -> remote.Command:
    """One node's ``command:remote:Command``."""
    stdin = pulumi.Output.from_input(files).apply(lambda f: node_stdin(params, f, hosts_line))
    apply = command_line(target, "apply")
    return remote.Command(
        resource_name, connection=connection(target, private_key), create=apply, update=apply,
        delete=command_line(target, "remove"), stdin=stdin, triggers=[target.describe()],
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(delete_before_replace=True)))
