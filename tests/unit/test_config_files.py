"""Stack files as files: a malformed one is a clear error (file, line, shape), never a traceback; YAML is read as
Pulumi reads it."""

from __future__ import annotations

import copy
import itertools
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.settings import load_stack_file
from components.settings.check import check_file

ROOT = Path(__file__).resolve().parents[2]
SECURE = {"secure": "v1:AAAA:BBBB"}
GOOD = ROOT / "Pulumi.dev.yaml"

# Hand-made bad files: (name, text, what the first problem must say).
BAD_FILES = [
    ("syntax", "config:\n  harbor-cache:harbor:\n    tlsMode: http\n   expose: {\n", "not valid YAML at line 4"),
    ("tab", "config:\n\tharbor-cache:production: true\n", "not valid YAML at line 2"),
    ("unclosed-quote", "config:\n  harbor-cache:kubeconfig: \"/x\n", "not valid YAML at line"),
    ("scalar", "just a string\n", "line 1: the document is a string, not a mapping"),
    ("list", "- config: {}\n", "line 1: the document is a list, not a mapping"),
    ("number", "42\n", "the document is a number"),
    ("config-string", "# a comment\nconfig: harbor-cache\n", "line 2: `config:` is a string, not a mapping"),
    ("config-list", "config:\n  - harbor-cache:harbor\n", "line 1: `config:` is a list, not a mapping"),
    ("duplicate-key", "config:\n  harbor-cache:production: false\n  harbor-cache:production: true\n",
     "key 'harbor-cache:production' is given twice (first on line 2)"),
    ("no-namespace", "config:\n  harbor:\n    install: true\n", "'harbor' is not a configuration key"),
    ("empty", "", "harbor-cache:harbor must be set"),
    ("no-config", "encryptionsalt: v1:x\n", "harbor-cache:harbor must be set"),
    ("binary", "\udcff", "cannot read it"),
    ("section-scalar", "config:\n  harbor-cache:harbor: 5\n  harbor-cache:upstream: [1]\n",
     "harbor-cache:harbor must be an object"),
    ("section-secure", "config:\n  harbor-cache:harbor:\n    secure: v1:abc\n", "harbor-cache:harbor is encrypted"),
    ("nested-secure", "config:\n  harbor-cache:harbor:\n    values:\n      x:\n        secure: v1:abc\n",
     "harbor-cache:harbor.values.x is encrypted (secure:), but only adminPassword"),
    ("yes-is-text", "config:\n  harbor-cache:production: yes\n",
     "harbor-cache:production: must be true or false, got 'yes'"),
    ("date-is-text", "config:\n  harbor-cache:kubeconfig: 2024-01-01\n", "harbor-cache:harbor must be set"),
]


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / f"Pulumi.{name}.yaml"
    if text == "\udcff":
        path.write_bytes(b"config:\n  harbor-cache:production: \xff\xfe\n")
    else:
        path.write_text(text)
    return path


@pytest.mark.parametrize(("name", "text", "needle"), BAD_FILES, ids=[f[0] for f in BAD_FILES])
def test_malformed_file_is_a_clear_error(tmp_path: Path, name: str, text: str, needle: str) -> None:
    path = _write(tmp_path, name, text)
    problems, _ = check_file(str(path))
    assert problems and any(needle in p for p in problems), problems
    if "YAML" in needle or "document" in needle or "`config:`" in needle:
        assert "a stack file is a YAML mapping whose `config:` key holds a mapping" in problems[0]


def test_check_lists_every_file_and_exits_non_zero_without_traceback(tmp_path: Path) -> None:
    paths = [str(_write(tmp_path, name, text)) for name, text, _ in BAD_FILES]
    result = subprocess.run([sys.executable, "-m", "components.settings", "check", str(GOOD), *paths,
                             str(tmp_path / "missing.yaml")], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert result.stdout.startswith(f"{GOOD}: ok")
    for path in [*paths, str(tmp_path / "missing.yaml")]:
        assert f"\n{path}: " in result.stdout and f"{path}: ok" not in result.stdout, path
    assert f"{tmp_path / 'missing.yaml'}: 1 problem(s)\n  - cannot read it (No such file or directory)" in result.stdout


def test_every_problem_of_a_file_is_listed_each_naming_its_key(tmp_path: Path) -> None:
    path = _write(tmp_path, "three", "config:\n  harbor-cache:adminPassword: {secure: v1:x}\n"
                  "  harbor-cache:harbor:\n    storage: {registrySize: 100GB}\n    expose: {nodeAddress: 10.0.0.11}\n"
                  "    tlsMode: http\n  harbor-cache:tls: {extraDnsNames: [\"a b\"]}\n"
                  "  harbor-cache:upstream: {url: \"https://255250787067.dkr.ecr.ap-northeast-2.amazonaws.com\", "
                  "ambientCredentials: true}\n  harbor-cache:proxyProject: {retentionDays: 0}\n")
    problems, _ = check_file(str(path))
    assert [p.split(":")[1].split(" ")[0] for p in problems] == [
        "harbor.storage.registrySize", "tls.extraDnsNames[0]", "proxyProject.retentionDays"]


# --- YAML as Pulumi (Go's yaml.v3) reads it ------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("yes", "yes"), ("on", "on"), ("No", "No"), ("true", True), ("False", False), ("2024-01-01", "2024-01-01"),
    ("1:30", "1:30"), ("010", 10), ("0x1F", 31), ("0o17", 15), ("1_000", 1000), ("1.5", 1.5), ("1e3", 1000.0),
    ("~", None), ("null", None), ("200Gi", "200Gi"), ("'7'", "7"),
])
def test_scalars_are_read_as_pulumi_reads_them(tmp_path: Path, text: str, expected: Any) -> None:
    path = tmp_path / "Pulumi.s.yaml"
    path.write_text(f"config:\n  harbor-cache:x: {text}\n")
    raw, _ = load_stack_file(path)
    assert raw["x"] == expected and type(raw["x"]) is type(expected)


def test_other_namespaces_are_warned_about_unless_known(tmp_path: Path) -> None:
    text = GOOD.read_text().replace("config:\n", "config:\n  kubernetes:context: lab\n  harbour-cache:harbor: {}\n")
    path = tmp_path / "Pulumi.ns.yaml"
    path.write_text(text)
    problems, warnings = check_file(str(path))
    assert problems == []
    assert any(w.startswith("harbour-cache:harbor: harbor-cache reads only harbor-cache:<key>, not the "
                            "'harbour-cache' namespace (a typo?)") for w in warnings)
    assert not any(w.startswith("kubernetes:") for w in warnings)


# --- fuzz: every section of a good file replaced by odd values -------------------------------------------------

ODD_VALUES: list[Any] = [None, 0, -1, 1.5, True, "", "x", [], [None], [{}], {}, {"": 1}, {"x": {"y": [1]}}, SECURE,
                         "\x00", "ä" * 300, 10**30]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path into a parsed document (mapping keys and list indexes), the document itself first."""
    paths = [prefix]
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, inner in items:
        paths += _paths(inner, (*prefix, key))
    return paths


def test_no_odd_value_anywhere_makes_the_check_raise(tmp_path: Path) -> None:
    good = yaml.safe_load(GOOD.read_text())
    path = tmp_path / "Pulumi.fuzz.yaml"
    checked = 0
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    for where, odd in itertools.product(_paths(good["config"]), ODD_VALUES):
        doc = copy.deepcopy(good)
        if where:
            *parents, last = where
            node = doc["config"]
            for part in parents:
                node = node[part]
            node[last] = odd
        else:
            doc["config"] = odd
        path.write_text(yaml.dump(doc, Dumper=dumper, allow_unicode=True))
        problems, _ = check_file(str(path))  # must not raise
        assert all(p.startswith(("harbor-cache:", "line ", "'")) for p in problems), (where, odd, problems)
        if not problems:  # accepted: the program's renderers must take it too (no ValueError at preview)
            _render(path)
        checked += 1
    assert checked > 700


def _render(path: Path) -> None:
    from components import specs
    from components.harbor_values import PinnedSecretNames, harbor_values
    from components.settings import validate

    settings = validate(*load_stack_file(path))
    specs.node_mirror_spec(settings)
    specs.tls_args(settings)
    specs.upstream_args(settings, specs.harbor_endpoint(settings), "secret")
    harbor_values(settings, PinnedSecretNames.for_release(settings.harbor.release_name), "harbor-tls")
