"""Render the node script (``node_script.sh``) with its inputs and parse its one-line result.

The rendered script is meant to be fed to ``sh -s`` on its standard input: parameters and the desired
files (base64, inside a quoted here-document) are part of that text, so nothing — not even a future
secret — ever appears on a command line or in a process listing.
"""

from __future__ import annotations

import base64
import json
import re
import shlex
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Any, Literal

Mode = Literal["apply", "check", "remove"]
RESULT_PREFIX = "HARBOR_CACHE_RESULT "
_PLACEHOLDER = "# @HARBOR_CACHE_INPUTS@"
_PAYLOAD_EOF = "__HARBOR_CACHE_PAYLOAD_EOF__"
_REL_RE = re.compile(r"^[A-Za-z0-9._:-]+(/[A-Za-z0-9._:-]+)*$")


@dataclass(frozen=True)
class ScriptParams:
    """Node paths and commands the script uses (defaults are a standard Linux node).

    config_path is the certs.d directory *as containerd sees it* (written into config.toml and used in
    hosts.toml ``ca`` paths); certs_dir is where the script writes it (None: the same path). restart_cmd
    and health_cmd replace ``systemctl restart/is-active containerd`` on nodes without systemd.
    """

    config: str = "/etc/containerd/config.toml"
    config_path: str = "/etc/containerd/certs.d"
    certs_dir: str | None = None
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
        """Inverse of to_dict; tolerates floats from the engine and ignores unknown keys."""
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data and data[k] is not None}
        if "health_timeout" in known:
            known["health_timeout"] = int(known["health_timeout"])
        return cls(**known)


def script_template() -> str:
    """The unrendered POSIX sh script shipped with the package."""
    return resources.files("components").joinpath("node_script.sh").read_text(encoding="utf-8")


def _payload(files: Mapping[str, str]) -> str:
    lines = []
    for rel, content in sorted(files.items()):
        if not _REL_RE.match(rel) or ".." in rel.split("/"):
            raise ValueError(f"bad relative path for a certs.d file: {rel!r}")
        lines.append(f"{rel}\t{base64.b64encode(content.encode()).decode()}")
    return "\n".join(lines)


def render_script(mode: Mode, params: ScriptParams, files: Mapping[str, str], hosts_line: str | None) -> str:
    """The complete script for one run: inputs block + payload + the template's body."""
    if mode not in ("apply", "check", "remove"):
        raise ValueError(f"unknown mode {mode!r}")
    if hosts_line is not None and ("\n" in hosts_line or not hosts_line.endswith(" # harbor-cache")):
        raise ValueError("hosts_line must be one line ending with ' # harbor-cache'")
    values = {
        "HC_MODE": mode,
        "HC_CONFIG": params.config,
        "HC_CONFIG_PATH": params.config_path,
        "HC_CERTS_DIR": params.certs_dir or params.config_path,
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
        raise RuntimeError("node_script.sh must contain the inputs placeholder exactly once")
    return template.replace(_PLACEHOLDER, "\n".join(block))


def parse_result(stdout: str) -> dict[str, Any] | None:
    """The script's summary (last ``HARBOR_CACHE_RESULT`` line), or None when it printed none."""
    found: dict[str, Any] | None = None
    for line in stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            found = json.loads(line[len(RESULT_PREFIX):])
    return found
