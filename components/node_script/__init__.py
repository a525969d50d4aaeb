"""Render the node script with its inputs and parse its one-line result.

The script is written in parts that read on their own, all in this directory, and joined here into one
POSIX sh script. Both transports run it with the node's own shell and tools (the DaemonSet enters the host's
mount namespace first), which may be dash, bash or a busybox: so POSIX sh and POSIX awk only. The parts:

* ``head.sh``: what the script is, and the placeholder for the inputs;
* ``lib.sh``: shared helpers (the result line, containerd version and restart, backups, atomic writes);
* ``plan.sh`` with ``plan_config.awk``: what config.toml needs (the awk program is the whole decision; it is
  inlined into ``plan.sh``), and containerd's own check of a new file;
* ``apply.sh`` (modes apply and check), ``remove.sh`` (mode remove), ``main.sh`` (the dispatch).

The rendered script is meant to be fed to ``sh -s`` on its standard input: parameters and the desired
files (base64, inside a quoted here-document) are part of that text, so nothing (not even a future
secret) ever appears on a command line or in a process listing.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any, Literal

Mode = Literal["apply", "check", "remove"]
RESULT_PREFIX = "HARBOR_CACHE_RESULT "
PARTS = ("head.sh", "lib.sh", "plan.sh", "apply.sh", "remove.sh", "main.sh")
_PLACEHOLDER = "# @HARBOR_CACHE_INPUTS@"
_AWK_PLACEHOLDER = "# @PLAN_CONFIG_AWK@"
_PAYLOAD_EOF = "__HARBOR_CACHE_PAYLOAD_EOF__"
_REL_RE = re.compile(r"^[A-Za-z0-9._:-]+(/[A-Za-z0-9._:-]+)*$")
# Keys of ``params`` in stack state written before the fields were renamed (the state format keeps them readable).
_LEGACY_KEYS = {"config": "config_toml", "config_path": "certs_dir"}


@dataclass(frozen=True)
class ScriptParams:
    """Node paths and commands the script uses (defaults are a standard Linux node).

    config_toml: containerd's config.toml; certs_dir: the hosts directory as containerd sees it (the value the
    script puts into config.toml's ``config_path``, and where it writes the hosts.toml files; hosts.toml ``ca``
    paths name it too). restart_cmd and health_cmd replace ``systemctl restart/is-active containerd`` on nodes
    without systemd.
    """

    config_toml: str = "/etc/containerd/config.toml"
    certs_dir: str = "/etc/containerd/certs.d"
    hosts_file: str = "/etc/hosts"
    state_dir: str = "/var/lib/harbor-cache"
    containerd: str = "containerd"
    restart_cmd: str = ""
    health_cmd: str = ""
    health_timeout: int = 60

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (for resource inputs)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScriptParams:
        """Inverse of to_dict; reads the pre-rename keys, tolerates floats from the engine, ignores unknown keys."""
        if any(k in data for k in _LEGACY_KEYS):
            # Before the rename ``certs_dir`` meant an alternative write directory (never set): drop it.
            data = {_LEGACY_KEYS.get(k, k): v for k, v in data.items() if k != "certs_dir"}
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data and data[k] is not None}
        if "health_timeout" in known:
            known["health_timeout"] = int(known["health_timeout"])
        return cls(**known)


def _part(name: str) -> str:
    return resources.files(__name__).joinpath(name).read_text(encoding="utf-8")


def planner_awk() -> str:
    """The config.toml planner (``plan_config.awk``), as inlined into the script."""
    awk = _part("plan_config.awk")
    if "'" in awk:  # it goes into a single-quoted shell word
        raise RuntimeError("plan_config.awk must not contain a single quote (write \\047)")
    return awk


def join_parts(names: Sequence[str] = PARTS) -> str:
    """The named parts joined in order (the planner inlined into ``plan.sh``), one blank line between parts."""
    texts = []
    for name in names:
        text = _part(name)
        if name == "plan.sh":
            if text.count(_AWK_PLACEHOLDER) != 1:
                raise RuntimeError("plan.sh must contain the planner placeholder exactly once")
            text = text.replace(_AWK_PLACEHOLDER, planner_awk().rstrip("\n"))
        texts.append(text.rstrip("\n") + "\n")
    return "\n".join(texts)


def script_template() -> str:
    """The unrendered POSIX sh script: every part, inputs placeholder still in place."""
    return join_parts()


def _payload(files: Mapping[str, str]) -> str:
    lines = []
    for rel, content in sorted(files.items()):
        if not _REL_RE.match(rel) or ".." in rel.split("/"):
            raise ValueError(f"bad relative path for a certs.d file: {rel!r}")
        lines.append(f"{rel}\t{base64.b64encode(content.encode()).decode()}")
    return "\n".join(lines)


def render_script(mode: Mode, params: ScriptParams, files: Mapping[str, str], hosts_line: str | None) -> str:
    """The complete script for one run: inputs block + payload + the parts."""
    if mode not in ("apply", "check", "remove"):
        raise ValueError(f"unknown mode {mode!r}")
    if hosts_line is not None and ("\n" in hosts_line or not hosts_line.endswith(" # harbor-cache")):
        raise ValueError("hosts_line must be one line ending with ' # harbor-cache'")
    values = {
        "HC_MODE": mode,
        "HC_CONFIG_TOML": params.config_toml,
        "HC_CERTS_DIR": params.certs_dir,
        "HC_HOSTS_FILE": params.hosts_file,
        "HC_HOSTS_LINE": hosts_line or "",
        "HC_STATE_DIR": params.state_dir,
        "HC_CONTAINERD": params.containerd,
        "HC_RESTART_CMD": params.restart_cmd,
        "HC_HEALTH_CMD": params.health_cmd,
        "HC_HEALTH_TIMEOUT": str(int(params.health_timeout)),
    }
    block = [f"{k}={shlex.quote(v)}" for k, v in values.items()]
    block += ["hc_payload() {", f"cat <<'{_PAYLOAD_EOF}'", _payload(files), _PAYLOAD_EOF, "}"]
    template = script_template()
    if template.count(_PLACEHOLDER) != 1:
        raise RuntimeError("head.sh must contain the inputs placeholder exactly once")
    return template.replace(_PLACEHOLDER, "\n".join(block))


def parse_result(stdout: str) -> dict[str, Any] | None:
    """The script's summary (last ``HARBOR_CACHE_RESULT`` line), or None when it printed none."""
    found: dict[str, Any] | None = None
    for line in stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            found = json.loads(line[len(RESULT_PREFIX):])
    return found
