"""The three secrets: set, and set as secrets (offline), and their values checked where they can be read (deploy).

A stack file holds them encrypted, so the offline check can only say they are there; `pulumi preview` and
`pulumi up` hand the program their decrypted values, and `value_problems` applies the receivers' rules to
them before any resource is registered. No message ever repeats a secret's value.
"""

from __future__ import annotations

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
    nodes = raw.get("nodes") if isinstance(raw.get("nodes"), Mapping) else {}
    if nodes and (nodes.get("transport") or "ssh") in SSH_TRANSPORTS and nodes.get("hosts"):
        errors += need("sshPrivateKey", "the SSH key for the nodes", SSH_KEY_EXAMPLE)
    elif "sshPrivateKey" in secrets and not secrets["sshPrivateKey"]:
        errors += need("sshPrivateKey", "the SSH key for the nodes", SSH_KEY_EXAMPLE)
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
    key = values.get("sshPrivateKey")
    if key is not None and (nodes.get("transport") or ("ssh" if nodes.get("hosts") else "none")) in SSH_TRANSPORTS:
        if (problem := rules.ssh_private_key_problem(key)) is not None:
            errors.append(f"{_key('sshPrivateKey')} {problem}")
    return errors, warnings


def offline_notes(secrets: Mapping[str, bool]) -> list[str]:
    """What the offline check cannot see: the value of each encrypted secret, checked at deploy time instead."""
    rule = {
        "adminPassword": f"Harbor's password rule ({rules.PASSWORD_HINT})",
        "upstreamSecretKey": "that it is not empty (and looks like an AWS secret key)",
        "sshPrivateKey": "that it is an unencrypted Ed25519, ECDSA or RSA private key",
    }
    return [f"{_key(key)} is encrypted, so this check cannot read it: {rule[key]} is checked by pulumi preview "
            "and pulumi up, before any resource is created" for key, encrypted in secrets.items() if encrypted]
