"""Loading the settings: from the running stack's Pulumi config or from a stack file, then validating them.

Every key lives in the `harbor-cache` config namespace. Objects are set in Pulumi.<stack>.yaml (or with
`pulumi config set --path`); the three secrets are top-level keys set with `pulumi config set --secret`, and a
secret stored in plaintext is an error. Every error names its config key, what is wrong and how to fix it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from components.settings.model import NAMESPACE, Settings

SECRET_KEYS = ("adminPassword", "upstreamSecretKey", "sshPrivateKey")
OBJECT_KEYS = ("harbor", "tls", "upstream", "proxyProject", "replication", "nodes", "imageRewrite")
SCALAR_KEYS = ("production", "kubeconfig")


class SettingsError(ValueError):
    """Invalid stack settings; `errors` holds one message per problem, each naming its config key."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("invalid harbor-cache settings:\n  - " + "\n  - ".join(errors))
        self.errors = errors


def _error_key(loc: Iterable[int | str]) -> str:
    parts = [p for p in loc if not (isinstance(p, str) and p.startswith("function-after"))]
    if not parts:
        return NAMESPACE
    head, *rest = parts
    key = f"{NAMESPACE}:{head}"
    for part in rest:
        key += f"[{part}]" if isinstance(part, int) else f".{part}"
    return key


def _friendly(error: Mapping[str, Any]) -> list[str]:
    """The messages for one pydantic error, each starting with the config key it is about."""
    key = _error_key(error["loc"])
    kind = error["type"]
    msg = str(error["msg"]).removeprefix("Value error, ")
    if kind == "extra_forbidden":
        return [f"{key} is not a known setting (a typo?): remove it or see README's settings reference"]
    if kind == "missing":
        return [f"{key} must be set: see README's settings reference and Pulumi.dev.yaml for an example"]
    if kind == "literal_error":
        return [f"{key} must be {msg.removeprefix('Input should be ')}"]
    lines = msg.split("\n")
    if key == NAMESPACE and all(line.startswith(f"{NAMESPACE}:") for line in lines):
        return lines  # cross-section problems (model.py) already name their keys
    return [f"{key}: {msg}"]


def validate(raw: Mapping[str, Any], secrets: Mapping[str, bool]) -> Settings:
    """Validate raw config values (key without namespace -> value) and which secret keys are set as secrets.

    `secrets` maps each present secret key to whether it was stored encrypted. Raises SettingsError.
    """
    errors: list[str] = []
    unknown = set(raw) - set(OBJECT_KEYS) - set(SCALAR_KEYS) - set(SECRET_KEYS)
    errors += [f"{NAMESPACE}:{key} is not a known setting (a typo?): remove it or see README's settings "
               "reference" for key in sorted(unknown)]
    errors += _secret_errors(raw, secrets)
    data = {k: v for k, v in raw.items() if k not in SECRET_KEYS and k not in unknown}
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        errors += [line for e in exc.errors() for line in _friendly(e)]
        raise SettingsError(errors) from None
    if errors:
        raise SettingsError(errors)
    return settings


def _secret_errors(raw: Mapping[str, Any], secrets: Mapping[str, bool]) -> list[str]:
    def need(key: str, why: str, example: str) -> list[str]:
        if key not in secrets:
            return [f"{NAMESPACE}:{key} must be set as a secret ({why}): "
                    f"pulumi config set --secret {NAMESPACE}:{key} {example}"]
        if not secrets[key]:
            return [f"{NAMESPACE}:{key} is stored in plaintext: set it as a secret with "
                    f"pulumi config set --secret {NAMESPACE}:{key} {example}"]
        return []

    errors = need("adminPassword", "Harbor's admin password", "'<password>'")
    upstream = raw.get("upstream") if isinstance(raw.get("upstream"), Mapping) else {}
    if upstream and upstream.get("accessKeyId"):
        errors += need("upstreamSecretKey", "the secret key for upstream.accessKeyId", "'<AWS secret access key>'")
    elif "upstreamSecretKey" in secrets and not secrets["upstreamSecretKey"]:
        errors += need("upstreamSecretKey", "the upstream secret key", "'<AWS secret access key>'")
    nodes = raw.get("nodes") if isinstance(raw.get("nodes"), Mapping) else {}
    if nodes and nodes.get("transport", "ssh") == "ssh" and nodes.get("hosts"):
        errors += need("sshPrivateKey", "the SSH key for the nodes", "-- \"$(cat ~/.ssh/id_ed25519)\"")
    elif "sshPrivateKey" in secrets and not secrets["sshPrivateKey"]:
        errors += need("sshPrivateKey", "the SSH key for the nodes", "-- \"$(cat ~/.ssh/id_ed25519)\"")
    return errors


def load_stack_file(path: str | Path) -> tuple[dict[str, Any], dict[str, bool]]:
    """Read a Pulumi.<stack>.yaml: the harbor-cache values, and for each secret key whether it is encrypted."""
    import yaml

    doc = yaml.safe_load(Path(path).read_text()) or {}
    config = doc.get("config") or {}
    raw: dict[str, Any] = {}
    secrets: dict[str, bool] = {}
    for full_key, value in config.items():
        namespace, _, key = str(full_key).partition(":")
        if namespace != NAMESPACE or not key:
            continue
        if key in SECRET_KEYS:
            secrets[key] = isinstance(value, Mapping) and "secure" in value
            continue
        raw[key] = value
    return raw, secrets


def load_from_pulumi() -> Settings:
    """Load and validate the settings of the running stack (before any resource is created)."""
    import json

    import pulumi
    from pulumi.runtime import config as runtime_config

    cfg = pulumi.Config(NAMESPACE)
    raw: dict[str, Any] = {}
    for key in (*OBJECT_KEYS, *SCALAR_KEYS):
        value = cfg.get(key)
        if value is not None:
            try:
                raw[key] = json.loads(value)
            except ValueError:
                raw[key] = value
    for key in _present_keys(runtime_config.get_config_env()):
        if key not in raw and key not in SECRET_KEYS:
            raw[key] = cfg.get(key)
    secrets = {key: runtime_config.is_config_secret(f"{NAMESPACE}:{key}")
               for key in SECRET_KEYS if cfg.get(key) is not None}
    return validate(raw, secrets)


def _present_keys(config_env: Mapping[str, Any]) -> list[str]:
    prefix = f"{NAMESPACE}:"
    return [k[len(prefix):] for k in config_env if k.startswith(prefix)]
