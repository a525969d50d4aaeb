"""docs/settings.md lists every setting, and every test it cites exists."""

from __future__ import annotations

import ast
import re
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from components.settings import SECRET_KEYS, Settings

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "settings.md"


def _model_of(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The section model inside a field's annotation (through Optional, list, Annotated), and whether it is a list."""
    is_list = typing.get_origin(annotation) is list
    for arg in (annotation, *typing.get_args(annotation)):
        inner = typing.get_args(arg)[0] if typing.get_origin(arg) is list else arg
        is_list = is_list or inner is not arg
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            return inner, is_list
    return None, is_list


def leaf_settings(model: type[BaseModel] = Settings, prefix: str = "") -> list[str]:
    """Every setting that holds a value (`harbor.storage.registrySize`, `nodes.hosts[].name`), and the secrets."""
    leaves = [] if prefix else list(SECRET_KEYS)
    for name, field in model.model_fields.items():
        key = prefix + (field.alias or name)
        inner, is_list = _model_of(field.annotation)
        if inner is None:
            leaves.append(key)
        else:
            leaves += leaf_settings(inner, key + ("[]." if is_list else "."))
    return leaves


def _documented() -> dict[str, str]:
    """Each settings table row of docs/settings.md: its `key` cell -> the whole row."""
    rows = {}
    for line in DOC.read_text().splitlines():
        match = re.match(r"^\| `([^`]+)` \|", line)
        if match:
            rows[match.group(1)] = line
    return rows


def test_every_setting_is_in_the_table() -> None:
    documented = _documented()
    assert [s for s in leaf_settings() if s not in documented] == []
    assert [k for k in documented if k not in leaf_settings()] == []


def test_every_row_names_a_receiver_a_rule_and_a_test() -> None:
    for key, row in _documented().items():
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 4 and all(cells), (key, cells)
        assert re.search(r"tests/\w+/\w+\.py::\w+|test_(refused|warned)\[", cells[3]), (key, cells[3])


def _row_ids() -> dict[str, set[str]]:
    from tests.unit.test_config_receivers import ROWS
    from tests.unit.test_config_warnings import WARNINGS

    return {"test_refused": {p.id for p in ROWS if p.id}, "test_warned": {p.id for p in WARNINGS if p.id}}


def test_every_cited_test_exists() -> None:
    text = DOC.read_text()
    ids = _row_ids()
    short = re.findall(r"(?<![:\w])(test_refused|test_warned)\[([^\]]+)\]", text)
    assert short and [(name, i) for name, i in short if i not in ids[name]] == []
    cited = set(re.findall(r"(tests/[\w/]+\.py)::(\w+)(?:\[([^\]]+)\])?", text))
    assert cited
    for path, name, param in cited:
        source = (ROOT / path).read_text()
        functions = {n.name for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef)}
        assert name in functions, f"{path}::{name}"
        if name in ids and param:
            assert param in ids[name], f"{path}::{name}[{param}]"
        elif param:
            assert param in source, f"{path}::{name}[{param}]"
