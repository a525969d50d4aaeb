"""The secrets: set, and set as secrets (offline), and their values checked where they can be read (deploy).

adminPassword, upstreamSecretKey (for `upstream`), sshPrivateKey, and upstreamSecrets: an object of one secret
per `upstreams` entry, keyed by its name (`pulumi config set --secret --path harbor-cache:upstreamSecrets.<name>`).

A stack file holds them encrypted, so the offline check can only say they are there; `pulumi preview` and
`pulumi up` hand the program their decrypted values, and `value_problems` applies the receivers' rules to
them before any resource is registered. No message ever repeats a secret's value.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from components import rules
from components.settings.model import NAMESPACE

SSH_KEY_EXAMPLE = "-- \"$(cat ~/.ssh/id_ed25519)\""
SSH_TRANSPORTS = ("ssh", "command")  # the node transports that log in with sshPrivateKey


def _key(key: str) -> str:
    return f"{NAMESPACE}:{key}"


def presence_errors(raw: Mapping[str, Any], secrets: Mapping[str, bool]) -> list[str]:
    """Each secret the settings need is set, and set as a secret (`secrets`: key -> stored encrypted)."""

    def need(key: str, why: str, example: str) -> list[str]:
        if key not in secrets:
            return [f"{_key(key)} must be set as a secret ({why}): pulumi config set --secret {_key(key)} {example}"]
        if not secrets[key]:
            return [f"{_key(key)} is stored in plaintext: set it as a secret with "
                    f"pulumi config set --secret {_key(key)} {example}"]
        return []

    errors = need("adminPassword", "Harbor's admin password", "'<password>'")
    upstream = raw.get("upstream") if isinstance(raw.get("upstream"), Mapping) else {}
    if upstream and upstream.get("accessKeyId"):
        errors += need("upstreamSecretKey", "the secret key for upstream.accessKeyId", "'<AWS secret access key>'")
    elif "upstreamSecretKey" in secrets and not secrets["upstreamSecretKey"]:
        errors += need("upstreamSecretKey", "the upstream secret key", "'<AWS secret access key>'")
    elif "upstreamSecretKey" in secrets and upstream:
        errors.append(f"{_key('upstreamSecretKey')} is set but {_key('upstream.accessKeyId')} is empty: Harbor "
                      "needs both (or neither, with upstream.ambientCredentials: true); set the key id or remove "
                      f"the secret with pulumi config rm {_key('upstreamSecretKey')}")
    errors += _upstream_secrets_presence(raw, secrets)
    nodes = raw.get("nodes") if isinstance(raw.get("nodes"), Mapping) else {}
    if nodes and (nodes.get("transport") or "ssh") in SSH_TRANSPORTS and nodes.get("hosts"):
        errors += need("sshPrivateKey", "the SSH key for the nodes", SSH_KEY_EXAMPLE)
    elif "sshPrivateKey" in secrets and not secrets["sshPrivateKey"]:
        errors += need("sshPrivateKey", "the SSH key for the nodes", SSH_KEY_EXAMPLE)
    return errors


UPSTREAM_SECRETS = "upstreamSecrets"
_PATH_EXAMPLE = "pulumi config set --secret --path 'harbor-cache:upstreamSecrets.{name}' '<secret>'"


def _entries(raw: Mapping[str, Any]) -> list[Any]:
    value = raw.get("upstreams")
    return value if isinstance(value, list) else []


def entries_with_keys(raw: Mapping[str, Any]) -> list[str]:
    """The names of the `upstreams` entries that have an accessKeyId (each needs its secret)."""
    entries = _entries(raw)
    return [str(e.get("name")) for e in entries if isinstance(e, Mapping) and e.get("accessKeyId") and e.get("name")]


def secret_names(value: str | None) -> list[str] | None:
    """The upstream names in a decrypted upstreamSecrets value (a JSON object), or None when it is not one."""
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return [str(k) for k in parsed] if isinstance(parsed, dict) else None


def _upstream_secrets_presence(raw: Mapping[str, Any], secrets: Mapping[str, bool]) -> list[str]:
    needed = entries_with_keys(raw)
    if UPSTREAM_SECRETS not in secrets:
        return [f"{_key(UPSTREAM_SECRETS + '.' + name)} must be set as a secret (the secret for "
                f"upstreams[{name}].accessKeyId): {_PATH_EXAMPLE.format(name=name)}" for name in needed]
    if not secrets[UPSTREAM_SECRETS]:
        return [f"{_key(UPSTREAM_SECRETS)} is stored in plaintext (every value must be encrypted): set each with "
                + _PATH_EXAMPLE.format(name="<name>")]
    given = raw.get(UPSTREAM_SECRETS)
    if not isinstance(given, Mapping):
        return []  # encrypted as a whole: the names are checked at deploy time
    entries = _entries(raw)
    names = {str(e.get("name")) for e in entries if isinstance(e, Mapping)}
    errors = [f"{_key(UPSTREAM_SECRETS + '.' + name)} must be set as a secret (the secret for the upstream "
              f"{name!r}, which has an accessKeyId): {_PATH_EXAMPLE.format(name=name)}"
              for name in needed if name not in given]
    errors += [f"{_key(UPSTREAM_SECRETS + '.' + str(name))} is not the name of an upstreams entry: fix the name, or "
               f"remove it with pulumi config rm --path 'harbor-cache:upstreamSecrets.{name}'"
               for name in given if str(name) not in names]
    return errors


def _section(raw: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = raw.get(key)
    return value if isinstance(value, Mapping) else {}


def value_problems(raw: Mapping[str, Any], values: Mapping[str, str]) -> tuple[list[str], list[str]]:
    """Errors and warnings about the secrets' decrypted `values` (deploy time), each naming its key.

    Read from the raw settings, so they are listed with the other problems even when the settings are invalid.
    adminPassword: Harbor's password rule, when this program installs Harbor (an existing Harbor's password is
    whatever it is; a wrong one gets Harbor's 401). upstreamSecretKey: not empty when it is used; a warning when
    it does not look like an AWS key. sshPrivateKey: a key the SSH transport can load.
    """
    errors: list[str] = []
    warnings: list[str] = []
    harbor, upstream, nodes = _section(raw, "harbor"), _section(raw, "upstream"), _section(raw, "nodes")
    password = values.get("adminPassword")
    if password is not None and str(harbor.get("install", True)).lower() != "false":
        if (problem := rules.harbor_password_problem(password)) is not None:
            errors.append(f"{_key('adminPassword')} {problem}. Harbor takes the first admin password unchecked, but "
                          "refuses it for every later change: set a new one with pulumi config set --secret "
                          f"{_key('adminPassword')} '<password>'")
    secret = values.get("upstreamSecretKey")
    if secret is not None and upstream.get("accessKeyId"):
        if not secret.strip():
            errors.append(f"{_key('upstreamSecretKey')} is empty: set the secret for upstream.accessKeyId")
        elif upstream.get("type", "aws-ecr") == "aws-ecr" and (note := rules.aws_secret_key_warning(secret)):
            warnings.append(f"{_key('upstreamSecretKey')} {note}")
    errors += _upstream_secret_values(raw, values.get(UPSTREAM_SECRETS))
    key = values.get("sshPrivateKey")
    if key is not None and (nodes.get("transport") or ("ssh" if nodes.get("hosts") else "none")) in SSH_TRANSPORTS:
        if (problem := rules.ssh_private_key_problem(key)) is not None:
            errors.append(f"{_key('sshPrivateKey')} {problem}")
    return errors, warnings


def _upstream_secret_values(raw: Mapping[str, Any], value: str | None) -> list[str]:
    if value is None:
        return []
    try:
        parsed = json.loads(value)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict) or not all(isinstance(v, str) for v in parsed.values()):
        return [f"{_key(UPSTREAM_SECRETS)} must be an object of one secret (text) per upstream name: set each with "
                + _PATH_EXAMPLE.format(name="<name>")]
    return [f"{_key(UPSTREAM_SECRETS + '.' + name)} is empty: set the secret for that upstream's accessKeyId"
            for name in entries_with_keys(raw) if name in parsed and not parsed[name].strip()]


def offline_notes(secrets: Mapping[str, bool]) -> list[str]:
    """What the offline check cannot see: the value of each encrypted secret, checked at deploy time instead."""
    rule = {
        "adminPassword": f"Harbor's password rule ({rules.PASSWORD_HINT})",
        "upstreamSecretKey": "that it is not empty (and looks like an AWS secret key)",
        "sshPrivateKey": "that it is an unencrypted Ed25519, ECDSA or RSA private key",
        UPSTREAM_SECRETS: "that each upstream's secret is not empty",
    }
    return [f"{_key(key)} is encrypted, so this check cannot read it: {rule[key]} is checked by pulumi preview "
            "and pulumi up, before any resource is created" for key, encrypted in secrets.items() if encrypted]
