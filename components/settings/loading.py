"""Loading the settings: from the running stack's Pulumi config or from a stack file, then validating them.

Every key lives in the `harbor-cache` config namespace. Objects are set in Pulumi.<stack>.yaml (or with
`pulumi config set --path`); the secrets are top-level keys set with `pulumi config set --secret` (upstreamSecrets
with `--path`, one per upstream), and a secret stored in plaintext is an error. Every error names its config key,
what is wrong and how to fix it; every warning names its key and why the receiver may still refuse or ignore the
value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

from pydantic import BaseModel, ValidationError

from components.settings.model import NAMESPACE, Settings
from components.settings.secrets import presence_errors, secret_names, value_problems
from components.settings.stackfile import SECRET_KEYS, UPSTREAM_SECRETS, StackFileError, load_stack_file
from components.settings.warnings import settings_warnings

OBJECT_KEYS = ("harbor", "tls", "upstream", "upstreams", "proxyProject", "replication", "nodes", "imageRewrite",
               "prewarm")
SCALAR_KEYS = ("production", "kubeconfig")
__all__ = ["OBJECT_KEYS", "SCALAR_KEYS", "SECRET_KEYS", "Loaded", "SettingsError", "StackFileError", "check_settings",
           "load_from_pulumi", "load_stack_file", "validate"]


class SettingsError(ValueError):
    """Invalid stack settings; `errors` holds one message per problem, each naming its config key."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("invalid harbor-cache settings:\n  - " + "\n  - ".join(errors))
        self.errors = errors


class Loaded(NamedTuple):
    """Valid settings and the warnings about them (each naming its key)."""

    settings: Settings
    warnings: list[str]


_NOT_A_KEY = re.compile(r"^(?:[a-z-]+\[.*\]|int|str|bool|float|none|constrained-[a-z]+)$")


def _error_key(loc: Iterable[int | str]) -> str:
    # pydantic puts validator and type names ("function-after[...]", "int") among the keys of a location.
    parts = [p for p in loc if isinstance(p, int) or not _NOT_A_KEY.match(p)]
    if not parts:
        return NAMESPACE
    head, *rest = parts
    key = f"{NAMESPACE}:{head}"
    for part in rest:
        key += f"[{part}]" if isinstance(part, int) else f".{part}"
    return key


def _model_at(loc: Iterable[int | str]) -> type[BaseModel] | None:
    """The section model a pydantic error location points at (for "the keys of this section are ...")."""
    model: Any = Settings
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        fields = {(f.alias or n): f for n, f in model.model_fields.items()}
        if part not in fields:
            return None
        annotation = fields[part].annotation
        model = next((a for a in (*getattr(annotation, "__args__", ()), annotation)
                      if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _shown(value: Any) -> str:
    kind = {bool: "true/false", int: "a number", float: "a number", list: "a list", dict: "an object"}.get(type(value))
    return f"{value!r} ({kind})" if kind else repr(value)


def _friendly(error: Mapping[str, Any]) -> list[str]:
    """The messages for one pydantic error, each starting with the config key it is about."""
    key = _error_key(error["loc"])
    kind = error["type"]
    msg = str(error["msg"]).removeprefix("Value error, ")
    value = error.get("input")
    if kind == "extra_forbidden":
        return [f"{key} is not a known setting (a typo?): remove it or see README's settings reference"]
    if kind == "missing":
        return [f"{key} must be set: see README's settings reference and Pulumi.dev.yaml for an example"]
    if kind == "literal_error":
        return [f"{key} must be {msg.removeprefix('Input should be ')}, got {_shown(value)}"]
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        model = _model_at(error["loc"])
        keys = f" with the keys {', '.join(_aliases(model))}" if model else ""
        return [f"{key} must be an object (indented `key: value` lines){keys}, got {_shown(value)}"]
    if kind == "list_type":
        return [f"{key} must be a list (`- item` lines, or [a, b]), got {_shown(value)}"]
    if kind == "string_type":
        hint = ": quote it in the stack file" if isinstance(value, (int, float)) and not isinstance(value, bool) else ""
        return [f"{key} must be text{hint}, got {_shown(value)}"]
    if kind in ("greater_than_equal", "less_than_equal", "greater_than", "less_than"):
        bound = msg.removeprefix("Input should be ")
        return [f"{key} must be {bound}, got {_shown(value)}"]
    if kind in ("string_too_short", "string_too_long"):
        return [f"{key} must have {msg.removeprefix('String should have ')}, got {_shown(value)}"]
    lines = msg.split("\n")
    if key == NAMESPACE and all(line.startswith(f"{NAMESPACE}:") for line in lines):
        return lines  # cross-section problems (model.py) already name their keys
    return [f"{key}{line}" if line.startswith((".", "[")) else f"{key}: {line}" for line in lines]


def _aliases(model: type[BaseModel]) -> list[str]:
    return [f.alias or n for n, f in model.model_fields.items()]


def validate(raw: Mapping[str, Any], secrets: Mapping[str, bool]) -> Settings:
    """Validate raw config values (key without namespace -> value) and which secret keys are set as secrets.

    `secrets` maps each present secret key to whether it was stored encrypted. Raises SettingsError.
    """
    return check_settings(raw, secrets).settings


def check_settings(raw: Mapping[str, Any], secrets: Mapping[str, bool], values: Mapping[str, str] | None = None,
                   encrypted: Iterable[str] = ()) -> Loaded:
    """Validate like `validate`, and return the warnings too; with the secrets' decrypted `values` (deploy
    time) their rules are applied as well. `encrypted`: other keys stored as secrets (refused: the program
    reads them as plain values, so they would reach the state unencrypted). Raises SettingsError with every
    problem found."""
    encrypted = sorted(encrypted)
    errors = [f"{NAMESPACE}:{key} is encrypted (secure:), but only adminPassword, upstreamSecretKey, "
              "upstreamSecrets and sshPrivateKey are read as secrets (any other value would be stored unencrypted in "
              "the state): set it "
              "in plaintext, or keep the secret in a Kubernetes Secret (e.g. objectStorage.existingSecret)"
              for key in encrypted]
    unknown = set(raw) - set(OBJECT_KEYS) - set(SCALAR_KEYS) - set(SECRET_KEYS)
    errors += [f"{NAMESPACE}:{key} is not a known setting (a typo?): remove it or see README's settings "
               "reference" for key in sorted(unknown)]
    errors += presence_errors(raw, secrets)
    value_errors, value_warnings = value_problems(raw, values or {})
    data = {k: v for k, v in raw.items() if k not in SECRET_KEYS and k not in unknown}
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        hidden = tuple(f"{NAMESPACE}:{key}" for key in encrypted)
        errors += [line for e in exc.errors() for line in _friendly(e) if not line.startswith(hidden)]
        raise SettingsError(errors + value_errors) from None
    if errors or value_errors:
        raise SettingsError(errors + value_errors)
    return Loaded(settings, settings_warnings(settings) + value_warnings)


def load_from_pulumi() -> Loaded:
    """Load and validate the settings of the running stack (before any resource is created).

    The engine hands the program its config decrypted, so the secrets' values are checked here too (read with
    the runtime's config getter, which neither logs nor exports them).
    """
    import json

    import pulumi
    from pulumi.runtime import config as runtime_config

    cfg = pulumi.Config(NAMESPACE)
    raw: dict[str, Any] = {}
    for key in (*OBJECT_KEYS, *SCALAR_KEYS):
        value = cfg.get(key)
        if value is not None:
            try:
                raw[key] = json.loads(value) if key in OBJECT_KEYS else value
            except ValueError:
                raw[key] = value
    for key in _present_keys(runtime_config.get_config_env()):
        if key not in raw and key not in SECRET_KEYS:
            raw[key] = cfg.get(key)
    values = {key: value for key in SECRET_KEYS
              if (value := runtime_config.get_config(f"{NAMESPACE}:{key}")) is not None}
    secrets = {key: runtime_config.is_config_secret(f"{NAMESPACE}:{key}") for key in values}
    if (names := secret_names(values.get(UPSTREAM_SECRETS))) is not None:
        raw[UPSTREAM_SECRETS] = dict.fromkeys(names, "<encrypted>")
    encrypted = [key for key in raw if key not in SECRET_KEYS and runtime_config.is_config_secret(f"{NAMESPACE}:{key}")]
    return check_settings(raw, secrets, values, encrypted)


def _present_keys(config_env: Mapping[str, Any]) -> list[str]:
    prefix = f"{NAMESPACE}:"
    return [k[len(prefix):] for k in config_env if k.startswith(prefix)]
