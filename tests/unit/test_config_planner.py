"""The config.toml planner on a table of real-world files, run the way the node runs it.

Each case feeds one file from ``data/config_toml/`` (written after containerd's documented default configs
and common node setups) to the node script's own ``plan_config`` (``plan.sh`` with ``plan_config.awk``,
taken from the renderer) under POSIX shells and awks: dash with the system awk (an SSH node), and busybox sh
with busybox's tools (a minimal host). The planned file is compared byte for byte with the expected
file in ``data/config_toml/expected/``; the decision (action, config version, table, warnings, refusal) with
the table below. No root, no containerd.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from components.node_script import ScriptParams, join_parts, parse_result, render_script, script_template

DATA = Path(__file__).parent / "data" / "config_toml"
CERTS = "/etc/containerd/certs.d"
V2 = 'plugins."io.containerd.grpc.v1.cri".registry'
V3 = 'plugins."io.containerd.cri.v1.images".registry'
# Runs plan_config exactly as the node script does, then prints the result line; $3 receives the planned file.
DRIVER = f"""
HC_MODE=apply HC_CONFIG_TOML=$1 HC_CERTS_DIR={CERTS}
CTR_VERSION=$2 CTR_MAJOR=${{2%%.*}}
start_run
plan_config
[ ! -f "$WORK/config.new" ] || cp "$WORK/config.new" "$3"
emit true ""
"""


@dataclass(frozen=True)
class Case:
    """One file on one containerd version and what the planner must decide.

    expected: file under ``expected/`` holding the planned config.toml (action ``set``); error/warning: a
    fragment of the refusal or of the one warning. ``fixture=None``: the node has no config.toml at all.
    """

    id: str
    fixture: str | None
    containerd: str
    action: str  # set | unchanged | "" (refused: nothing may be written)
    version: int | None
    table: str
    expected: str | None = None
    error: str = ""
    warning: str = ""


CASES = [
    # stock layouts, edited in place
    Case("1.6-default", "containerd-1.6-default.toml", "1.6.20", "set", 2, V2, "containerd-1.6-default.toml"),
    Case("1.7-default", "containerd-1.7-default.toml", "1.7.27", "set", 2, V2, "containerd-1.7-default.toml"),
    Case("2.x-default", "containerd-2.x-default.toml", "2.1.4", "set", 3, V3, "containerd-2.x-default.toml"),
    Case("2.2-default-list", "containerd-2.2-default-config-path-list.toml", "2.2.9", "set", 3, V3,
         "containerd-2.2-default-config-path-list.toml",
         warning="is a list, which containerd 2.2.9's CRI pull ignores"),
    Case("1.6-file-on-2.x", "containerd-1.6-default.toml", "2.2.9", "set", 2, V2, "containerd-1.6-default.toml"),
    Case("2.x-file-on-1.6", "containerd-2.x-default.toml", "1.6.20", "", 3, "",
         error="is config version 3 but containerd 1.6.20 reads version 2 only"),
    # no registry table yet: a new table, before the first registry sub-table or at the end
    Case("kubeadm", "kubeadm-systemd-cgroup.toml", "1.7.27", "set", 2, V2, "kubeadm-systemd-cgroup.toml"),
    Case("auth-subtable", "registry-auth-without-registry-table.toml", "1.6.20", "set", 2, V2,
         "registry-auth-without-registry-table.toml"),
    Case("v3-no-registry", "version-3-no-registry-table.toml", "2.2.9", "set", 3, V3,
         "version-3-no-registry-table.toml"),
    Case("imports", "imports.toml", "1.6.20", "set", 2, V2, "imports.toml"),
    # the table exists without config_path: the line goes right under its header
    Case("registry-table-only", "registry-table-no-config-path.toml", "1.6.20", "set", 2, V2,
         "registry-table-no-config-path.toml"),
    Case("comments", "comments.toml", "1.6.20", "set", 2, V2, "comments.toml"),
    Case("single-quoted", "single-quoted-keys-v2.toml", "1.6.20", "set", 2, V2, "single-quoted-keys-v2.toml"),
    # CRLF line endings stay CRLF, new lines included
    Case("crlf", "crlf.toml", "1.6.20", "set", 2, V2, "crlf.toml"),
    Case("crlf-no-registry", "crlf-no-registry-table.toml", "1.6.20", "set", 2, V2, "crlf-no-registry-table.toml"),
    Case("crlf-comments-only", "crlf-comments-only.toml", "2.2.9", "set", 3, V3, "crlf-comments-only.toml"),
    Case("crlf-v3-list", "crlf-v3-config-path-list.toml", "2.2.9", "set", 3, V3, "crlf-v3-config-path-list.toml",
         warning="is a list"),
    # empty, comments only, absent, no version line
    Case("empty-1.6", "empty.toml", "1.6.20", "set", 2, V2, "new-version-2.toml"),
    Case("empty-2.x", "empty.toml", "2.2.9", "set", 3, V3, "new-version-3.toml"),
    Case("missing", None, "2.2.9", "set", 3, V3, "new-version-3.toml"),
    Case("comments-only", "comments-only.toml", "1.6.20", "set", 2, V2, "comments-only.toml"),
    Case("no-final-newline", "comment-without-final-newline.toml", "1.6.20", "set", 2, V2,
         "comment-without-final-newline.toml"),
    Case("no-version-1.6", "no-version.toml", "1.6.20", "set", 2, V2, "no-version.containerd-1.toml"),
    Case("no-version-2.x", "no-version.toml", "2.2.9", "set", 3, V3, "no-version.containerd-2.toml"),
    # config_path already set
    Case("set-already", "config-path-set.toml", "1.6.20", "unchanged", 2, V2),
    Case("set-already-2.x", "config-path-set.toml", "2.2.9", "unchanged", 2, V2),
    Case("trailing-slash", "config-path-set-trailing-slash.toml", "1.6.20", "unchanged", 2, V2),
    Case("list-on-1.6", "config-path-list-v2.toml", "1.6.20", "unchanged", 2, V2),
    Case("list-on-2.x", "config-path-list-v2.toml", "2.2.9", "set", 2, V2, "config-path-list-v2.toml",
         warning='config_path "/etc/containerd/certs.d:/etc/docker/certs.d" is a list'),
    # refusals: nothing is written, the message says what to do
    Case("other-dir", "config-path-other-dir.toml", "1.6.20", "", 2, V2,
         error='already sets config_path = "/etc/docker/certs.d"; set the node certs directory to that path'),
    Case("list-without-ours", "config-path-list-without-ours.toml", "2.2.9", "", 2, V2,
         error='already sets config_path = "/etc/docker/certs.d:/opt/certs.d"'),
    Case("not-a-string", "config-path-not-a-string.toml", "1.6.20", "", 2, V2,
         error="containerd expects one directory as a string"),
    Case("mirrors", "existing-mirrors.toml", "1.6.20", "", 2, V2, error="has registry mirrors under"),
    Case("mirrors-on-2.x", "existing-mirrors.toml", "2.2.9", "", 2, V2, error="Move them to hosts.toml files"),
    Case("mirrors-inline", "existing-mirrors-inline.toml", "1.7.27", "", 2, V2, error="has registry mirrors"),
    Case("configs-tls", "existing-configs-tls.toml", "1.6.20", "", 2, V2,
         error="containerd rejects configs.tls together with config_path"),
    Case("duplicate-table", "duplicate-registry-table.toml", "1.6.20", "", 2, V2, error="more than once"),
    Case("dotted", "dotted-registry-key.toml", "1.6.20", "", 2, V2, error="dotted keys or an inline table"),
    Case("version-1", "version-1-plugins.toml", "1.6.20", "", None, "",
         error="has no 'version' line but sets plugins (version 1 format)"),
]


@dataclass(frozen=True)
class Runner:
    """A POSIX shell and the tools it finds: ``busybox``: every tool busybox has, as on a minimal host."""

    name: str
    shell: tuple[str, ...]
    busybox: bool = False


RUNNERS = [Runner("dash", (shutil.which("dash") or "sh",)), Runner("busybox", ("busybox", "sh"), busybox=True)]


@pytest.fixture(scope="session")
def busybox_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory that puts every applet of busybox first on PATH (skipped, so failed under CI, without busybox).

    Tools the build lacks (Debian's has no cksum) come from the system, as on a host with a partial busybox.
    """
    busybox = shutil.which("busybox")
    if busybox is None:
        pytest.skip("busybox is not installed (apt-get install busybox): minimal hosts run the script under it")
    listed = subprocess.run([busybox, "--list"], capture_output=True, text=True, check=True).stdout.split()
    bin_dir = tmp_path_factory.mktemp("busybox-bin")
    for applet in listed:
        if "/" not in applet and applet not in ("[", "[["):
            (bin_dir / applet).symlink_to(busybox)
    return bin_dir


@pytest.fixture(params=RUNNERS, ids=lambda r: r.name)
def runner(request: pytest.FixtureRequest) -> tuple[Runner, dict[str, str]]:
    """The runner and its environment."""
    r: Runner = request.param
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
    if r.busybox:
        env["PATH"] = f"{request.getfixturevalue('busybox_bin')}:{env['PATH']}"
    return r, env


def plan(runner: tuple[Runner, dict[str, str]], tmp_path: Path, config: bytes | None,
         containerd: str) -> tuple[dict[str, Any], bytes | None]:
    """Run plan_config on ``config``; returns the result line and the planned file (None: nothing to write)."""
    shell, env = runner
    path, planned = tmp_path / "config.toml", tmp_path / "planned.toml"
    if config is not None:
        path.write_bytes(config)
    script = join_parts(("lib.sh", "plan.sh")) + DRIVER
    proc = subprocess.run([*shell.shell, "-s", str(path), containerd, str(planned)], input=script, text=True,
                          capture_output=True, env={**env, "TMPDIR": str(tmp_path)}, check=False, timeout=30)
    result = parse_result(proc.stdout)
    assert result is not None, f"no result line; exit {proc.returncode}: {proc.stderr}"
    return result, planned.read_bytes() if planned.exists() else None


def registry_config_path(text: bytes, table: str) -> Any:
    """config_path in ``table`` as a TOML parser reads the planned file."""
    node: Any = tomllib.loads(text.decode())
    for key in ("plugins", table.split('"')[1], "registry", "config_path"):
        node = node[key]
    return node


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_planner(case: Case, runner: tuple[Runner, dict[str, str]], tmp_path: Path) -> None:
    config = (DATA / case.fixture).read_bytes() if case.fixture else None
    result, planned = plan(runner, tmp_path, config, case.containerd)
    assert (result["config"], result["config_version"], result["table"]) == (case.action, case.version,
                                                                             case.table), result
    assert result["ok"] is (case.error == ""), result
    if case.error:
        assert case.error in result["error"] and str(tmp_path / "config.toml") in result["error"], result["error"]
    if case.warning:
        assert len(result["warnings"]) == 1 and case.warning in result["warnings"][0], result["warnings"]
    else:
        assert result["warnings"] == []
    if case.action != "set":
        assert planned is None, "a refused or unchanged plan must not produce a file"
        return
    assert planned is not None and case.expected is not None
    assert planned.decode() == (DATA / "expected" / case.expected).read_bytes().decode()
    assert registry_config_path(planned, case.table) == CERTS


# validate_config runs `containerd --config NEW config dump` and looks for the config_path it planned.
VALIDATE_DRIVER = f"""
HC_MODE=apply HC_CONFIG_TOML=$1 HC_CERTS_DIR={CERTS} HC_CONTAINERD=$3 HC_STATE_DIR=$4
CTR_VERSION=$2 CTR_MAJOR=${{2%%.*}}
start_run
plan_config
validate_config "$WORK/config.new"
emit true ""
"""
GOOD_DUMP = f'[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "{CERTS}"\n'
EMPTY_DUMP = '[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = ""\n'


@pytest.mark.parametrize(("fixture", "dump", "status", "error"), [
    ("kubeadm-systemd-cgroup.toml", GOOD_DUMP, 0, ""),
    ("kubeadm-systemd-cgroup.toml", EMPTY_DUMP, 0, f"its effective config_path is not {CERTS}"),
    ("imports.toml", EMPTY_DUMP, 0, "it imports other files: one that configures the CRI plugin replaces"),
    ("kubeadm-systemd-cgroup.toml", "toml: line 3: duplicated tables\n", 1,
     "containerd rejected the new config: toml: line 3: duplicated tables"),
], ids=["accepted", "not-effective", "not-effective-imports", "rejected"])
def test_validate_config(fixture: str, dump: str, status: int, error: str,
                         runner: tuple[Runner, dict[str, str]], tmp_path: Path) -> None:
    shell, env = runner
    containerd = tmp_path / "containerd"
    stream = ">&2" if status else ""
    containerd.write_text(f"#!/bin/sh\ncat <<'EOF' {stream}\n{dump}EOF\nexit {status}\n")
    containerd.chmod(0o755)
    config = tmp_path / "config.toml"
    config.write_bytes((DATA / fixture).read_bytes())
    script = join_parts(("lib.sh", "plan.sh")) + VALIDATE_DRIVER
    proc = subprocess.run([*shell.shell, "-s", str(config), "1.6.20", str(containerd), str(tmp_path / "state")],
                          input=script, text=True, capture_output=True, env={**env, "TMPDIR": str(tmp_path)},
                          check=False, timeout=30)
    result = parse_result(proc.stdout)
    assert result is not None, proc.stderr
    if error:
        assert error in result["error"], result
    else:
        assert result["ok"] is True and result["error"] is None, result
    assert "imports other files" not in (result["error"] or "") or fixture == "imports.toml"
    assert not list(tmp_path.glob(".harbor-cache-validate.*")), "the trial file must be removed"


def test_missing_tools_stop_the_run_before_any_change(runner: tuple[Runner, dict[str, str]],
                                                     tmp_path: Path) -> None:
    """A host without one of the tools (Debian's busybox has no cksum) gets a clear refusal, not half a run."""
    shell, env = runner
    driver = 'HC_MODE=apply\nHC_TOOLS="cat no-such-tool cksum other-missing-tool"\nstart_run\n'
    script = join_parts(("lib.sh",)) + driver
    proc = subprocess.run([*shell.shell, "-s"], input=script, text=True, capture_output=True,
                          env={**env, "TMPDIR": str(tmp_path)}, check=False, timeout=30)
    result = parse_result(proc.stdout)
    assert result is not None and proc.returncode == 1, proc.stderr
    assert result["error"].startswith("the node lacks no-such-tool other-missing-tool (the node script needs:")
    assert list(tmp_path.iterdir()) == [], "no scratch directory before the check"


def test_every_fixture_and_expected_file_is_used() -> None:
    used = {c.fixture for c in CASES} | {f"expected/{c.expected}" for c in CASES if c.expected}
    on_disk = {str(p.relative_to(DATA)) for p in DATA.rglob("*.toml")}
    assert on_disk - used == set(), "unused data files"
    assert used - {None} <= on_disk


def test_one_planner_in_the_script() -> None:
    """The rendered script carries the planner once (no second copy of its header normalisation)."""
    text = script_template()
    assert text.count("function norm(") == 1
    assert text.count("awk -v MAJOR=") == 1


# ------------------------------------------------------------------ the whole script: apply, check, remove

def run_script(runner: tuple[Runner, dict[str, str]], tmp_path: Path, mode: str, params: ScriptParams,
               files: dict[str, str]) -> dict[str, Any]:
    """Render and run the full node script in ``mode``; returns its result line."""
    shell, env = runner
    script = render_script(mode, params, files, "10.96.0.50 harbor.test # harbor-cache")  # type: ignore[arg-type]
    proc = subprocess.run([*shell.shell, "-s"], input=script, text=True, capture_output=True,
                          env={**env, "TMPDIR": str(tmp_path)}, check=False, timeout=60)
    result = parse_result(proc.stdout)
    assert result is not None and proc.returncode == (0 if result["ok"] else 1), proc.stderr
    return result


def test_apply_check_remove_round_trip(runner: tuple[Runner, dict[str, str]], tmp_path: Path) -> None:
    """No root: every path of the node under tmp_path, containerd a stand-in that answers --version and dump."""
    etc = tmp_path / "etc"
    etc.mkdir()
    config, hosts = etc / "config.toml", etc / "hosts"
    original = (DATA / "containerd-1.6-default.toml").read_bytes()
    config.write_bytes(original)
    hosts.write_text("127.0.0.1 localhost\n")
    containerd = tmp_path / "containerd"
    containerd.write_text('#!/bin/sh\n[ "$1" != --version ] || { echo "containerd x v1.6.20 abc"; exit 0; }\n'
                          'cat "$2"\n')  # `--config FILE config dump`: the file as containerd would read it
    containerd.chmod(0o755)
    certs = tmp_path / "certs.d"
    params = ScriptParams(config_toml=str(config), certs_dir=str(certs), hosts_file=str(hosts),
                          state_dir=str(tmp_path / "state"), containerd=str(containerd),
                          restart_cmd=f"echo restart >>{tmp_path}/restarts", health_cmd="true", health_timeout=5)
    files = {"upstream.example/hosts.toml": 'server = "https://upstream.example"\n', "harbor.test/ca.crt": "PEM\n"}

    first = run_script(runner, tmp_path, "apply", params, files)
    assert first["ok"] and first["restarted"] is True and first["config"] == "set"
    assert set(first["changed"]) == {str(config), str(hosts), *(str(certs / rel) for rel in files)}
    assert f'config_path = "{certs}"' in config.read_text()
    assert (certs / "upstream.example" / "hosts.toml").read_text() == files["upstream.example/hosts.toml"]
    assert hosts.read_text().endswith("10.96.0.50 harbor.test # harbor-cache\n")

    again = run_script(runner, tmp_path, "apply", params, files)
    assert (again["changed"], again["restarted"], again["config"]) == ([], False, "unchanged")
    assert run_script(runner, tmp_path, "check", params, files)["drift"] == []
    (certs / "upstream.example" / "hosts.toml").write_text("edited by hand\n")
    assert run_script(runner, tmp_path, "check", params, files)["drift"] == [str(certs / "upstream.example" /
                                                                                 "hosts.toml")]

    removed = run_script(runner, tmp_path, "remove", params, files)
    assert removed["ok"] and removed["config"] == "restored" and removed["restarted"] is True
    assert config.read_bytes() == original and hosts.read_text() == "127.0.0.1 localhost\n"
    assert removed["warnings"] == [f"{certs}/upstream.example/hosts.toml changed since harbor-cache wrote it; "
                                   "left in place"]
    assert not (certs / "harbor.test").exists() and not (tmp_path / "state").exists()
    assert (tmp_path / "restarts").read_text() == "restart\nrestart\n"
