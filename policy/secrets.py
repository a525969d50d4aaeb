"""Where secret material may appear in resource properties, judged from what a policy can observe.

A policy cannot see whether an input was wrapped in `pulumi.Output.secret`: the engine sends secret values
marked, but pulumi-policy unwraps them before `validate` runs. What it can see, and what this module checks:
- dynamic resources (Python providers do not keep secretness on their outputs): every top-level property
  that holds a secret must be listed in the resource's `additional_secret_outputs`;
- Helm values never inline a secret (use the chart's `existingSecret*` values and a Kubernetes Secret);
- ConfigMaps and container `env` values never carry secret material (use a Secret and `secretKeyRef`).
Messages name properties, never values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from policy.props import dotted, walk

# Property names (snake_case or camelCase) that hold secret values.
_SECRET_NAME = re.compile(r"password|passwd|passphrase|secret|private_?key|ssh_?key|token", re.IGNORECASE)
# ...unless they name or point at a secret instead of holding it.
_REFERENCE_NAME = re.compile(r"(_?id|_?name|_?file|_?path|_?ref|_?key_?id|_?keys?_?name|_?ttl)$|^existing",
                             re.IGNORECASE)
# Helm values keys that inline a secret (harbor chart: harborAdminPassword, secretKey, core.secret, ...).
_HELM_SECRET_KEY = re.compile(
    r"(password|passwd|secretkey|privatekey|accesssecret|htpasswdstring|xsrfkey|tokenkey|^secret)$",
    re.IGNORECASE)
_PRIVATE_KEY_PEM = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
_WORKLOAD_KINDS = ("Pod", "Deployment", "DaemonSet", "StatefulSet", "Job", "CronJob", "ReplicaSet")


def _holds_secret(key: Any, value: Any) -> bool:
    """True for a non-empty string under a secret-sounding name that is not a reference."""
    return (isinstance(key, str) and isinstance(value, str) and bool(value)
            and bool(_SECRET_NAME.search(key)) and not _REFERENCE_NAME.search(key))


def _secret_paths(props: Any) -> Iterable[tuple[str | int, ...]]:
    """Paths of values that are secret by name or by content (a PEM private key)."""
    for path, value in walk(props):
        key = next((part for part in reversed(path) if isinstance(part, str)), None)
        if _holds_secret(key, value) or (isinstance(value, str) and _PRIVATE_KEY_PEM.search(value)):
            yield path


def dynamic_resource_problems(props: dict[str, Any], secret_outputs: Sequence[str]) -> list[str]:
    """Top-level properties of a dynamic resource that hold secrets but are not secret outputs."""
    problems: dict[str, str] = {}
    for path in _secret_paths(props):
        top = str(path[0])
        if top.startswith("__") or top in secret_outputs or top in problems:
            continue
        problems[top] = (
            f"property `{dotted(path)}` holds a secret, but `{top}` is not in additional_secret_outputs, so "
            f"Pulumi stores it in plain text in the state: wrap the input in pulumi.Output.secret() and add "
            f'"{top}" to the resource\'s additional_secret_outputs')
    return list(problems.values())


def helm_values_problems(values: Any) -> list[str]:
    """Helm values that inline a secret instead of referencing a Kubernetes Secret."""
    return [
        f"Helm value `values.{dotted(path)}` inlines a secret (Helm keeps values in its release Secret and "
        f"Pulumi in the stack's inputs): create a Kubernetes Secret and point the chart at it with the "
        f"matching existingSecret* value instead (for Harbor: existingSecretAdminPassword, "
        f"existingSecretSecretKey)"
        for path, value in walk(values)
        if path and isinstance(path[-1], str) and isinstance(value, str) and value
        and _HELM_SECRET_KEY.search(path[-1]) and not path[-1].lower().startswith("existing")]


def config_map_problems(props: dict[str, Any]) -> list[str]:
    """Secret material in a ConfigMap's data."""
    found = [(section, *path) for section in ("data", "binaryData")
             if isinstance(props.get(section), dict) for path in _secret_paths(props[section])]
    return [f"ConfigMap key `{dotted(path)}` carries secret material, and ConfigMaps are neither encrypted "
            f"nor access-restricted like Secrets: move it to a Kubernetes Secret" for path in found]


def workload_env_problems(props: dict[str, Any]) -> list[str]:
    """Container env entries that set a secret as a literal `value`."""
    if props.get("kind") not in _WORKLOAD_KINDS and "spec" not in props:
        return []
    problems = []
    for path, value in walk(props):
        if path[-1:] != ("value",) or "env" not in path or not isinstance(value, str) or not value:
            continue
        entry = _at(props, path[:-1])
        name = entry.get("name") if isinstance(entry, dict) else None
        if isinstance(name, str) and _SECRET_NAME.search(name) and not _REFERENCE_NAME.search(name):
            problems.append(f"env `{name}` at `{dotted(path[:-1])}` sets a secret as a literal value: use "
                            f"valueFrom.secretKeyRef to read it from a Kubernetes Secret")
    return problems


def _at(value: Any, path: Sequence[str | int]) -> Any:
    for key in path:
        value = value[key]
    return value
