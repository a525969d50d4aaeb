"""Reading a Pulumi.<stack>.yaml as Pulumi reads it, with an error that says where and what a stack file is.

Pulumi parses stack files with Go's yaml.v3, which differs from PyYAML's YAML 1.1 defaults: only true/false are
booleans (`yes`, `on` stay strings), dates stay strings, `1:30` is a string, and a key given twice is an error.
`StackLoader` reads them the same way, so the offline check sees the values `pulumi preview` would.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

NAMESPACE = "harbor-cache"
SECRET_KEYS = ("adminPassword", "upstreamSecretKey", "sshPrivateKey", "upstreamSecrets")
UPSTREAM_SECRETS = "upstreamSecrets"
"""A secret object, upstream name -> its secret (`pulumi config set --secret --path ...:upstreamSecrets.<name>`)."""
# Namespaces a harbor-cache stack file may hold besides its own: providers' and Pulumi's settings.
OTHER_NAMESPACES = ("kubernetes", "pulumi")
SHAPE = ("a stack file is a YAML mapping whose `config:` key holds a mapping of `harbor-cache:<key>: <value>` "
         "entries (see Pulumi.dev.yaml)")


class StackFileError(ValueError):
    """A file that cannot be read as a stack file; the message names the file, the line and the expected shape."""


_SafeLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's parser when PyYAML has it


class StackLoader(_SafeLoader):
    """PyYAML's safe loader with yaml.v3's scalar types and duplicate keys refused."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice (first on line {seen[key] + 1})", key_node.start_mark)
            if isinstance(key, (str, int, float, bool)):
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


StackLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:int",
                           "tag:yaml.org,2002:float")]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
StackLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
StackLoader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^(?:[-+]?[0-9][0-9_]*|0o[0-7]+|0x[0-9a-fA-F]+)$"), list("-+0123456789"))
StackLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
               r"|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))


def _construct_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = str(loader.construct_scalar(node)).replace("_", "")
    if text.startswith(("0o", "0x")):
        return int(text, 0)
    return int(text)


StackLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)


def _kind(value: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "true/false"}.get(
        type(value), type(value).__name__)


@dataclass(frozen=True)
class StackFile:
    """The harbor-cache part of a stack file: `raw` values (key without namespace), which secret keys are
    encrypted (`secrets`), problems with its keys (`errors`) and keys harbor-cache does not read (`warnings`)."""

    raw: dict[str, Any]
    secrets: dict[str, bool]
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    encrypted: list[str] = field(default_factory=list)
    """Keys other than the three secrets that hold an encrypted value (`harbor.values.x`); set to ENCRYPTED."""


def read_stack_file(path: str | Path) -> StackFile:
    """Read a Pulumi.<stack>.yaml as Pulumi does.

    Raises StackFileError (file, line, what a stack file looks like) when the file is not a stack file.
    """
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise StackFileError(f"{name}: cannot read it ({reason})") from None
    try:
        doc = yaml.load(text, Loader=StackLoader)  # noqa: S506 - StackLoader is a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "an unknown line"
        problem = getattr(exc, "problem", None) or str(exc)
        raise StackFileError(f"{name}: not valid YAML at {where}: {problem}; {SHAPE}") from None
    if doc is None:
        doc = {}
    if not isinstance(doc, Mapping):
        raise StackFileError(f"{name}: line 1: the document is {_kind(doc)}, not a mapping; {SHAPE}")
    config = doc.get("config")
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        line = next((i + 1 for i, text_line in enumerate(text.splitlines()) if text_line.startswith("config:")), 1)
        raise StackFileError(f"{name}: line {line}: `config:` is {_kind(config)}, not a mapping; {SHAPE}")
    return _harbor_cache_part(config)


def _harbor_cache_part(config: Mapping[Any, Any]) -> StackFile:
    found = StackFile({}, {})
    for full_key, value in config.items():
        parts = str(full_key).split(":")
        if len(parts) == 3 and parts[1] == "config":  # Pulumi's old `<namespace>:config:<name>` form
            parts = [parts[0], parts[2]]
        if len(parts) != 2 or not all(parts):
            found.errors.append(f"'{full_key!s}' is not a configuration key: Pulumi needs `<namespace>:<name>`, "
                                f"e.g. {NAMESPACE}:{parts[-1] or 'harbor'}")
            continue
        namespace, key = parts
        if namespace != NAMESPACE:
            if namespace not in OTHER_NAMESPACES:
                found.warnings.append(f"{full_key!s}: harbor-cache reads only {NAMESPACE}:<key>, not the "
                                      f"{namespace!r} namespace (a typo?)")
            continue
        if key == UPSTREAM_SECRETS and isinstance(value, Mapping) and not _is_secure(value):
            # Set per upstream with --path: each value encrypted on its own; the names are readable.
            found.secrets[key] = bool(value) and all(_is_secure(v) for v in value.values())
            found.raw[key] = {str(name): ENCRYPTED for name in value}
            continue
        if key in SECRET_KEYS:
            found.secrets[key] = isinstance(value, Mapping) and "secure" in value
            continue
        found.raw[key] = _without_secure(value, key, found.encrypted)
    return found


ENCRYPTED = "<encrypted>"


def _is_secure(value: Any) -> bool:
    return isinstance(value, Mapping) and set(value) == {"secure"}


def _without_secure(value: Any, key: str, found: list[str]) -> Any:
    """`value` with each encrypted (`secure:`) value replaced by ENCRYPTED, their keys added to `found`."""
    if _is_secure(value):
        found.append(key)
        return ENCRYPTED
    if isinstance(value, Mapping):
        return {k: _without_secure(v, f"{key}.{k}", found) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_secure(v, f"{key}[{i}]", found) for i, v in enumerate(value)]
    return value


def load_stack_file(path: str | Path) -> tuple[dict[str, Any], dict[str, bool]]:
    """The harbor-cache values of a stack file and, per secret key, whether it is encrypted (read_stack_file;
    other encrypted values read as ENCRYPTED)."""
    stack = read_stack_file(path)
    return stack.raw, stack.secrets
