"""What the real Harbor chart rendered, checked on the objects the API server stored (e2e lifecycle and upgrade).

Each check returns the problems it found (an empty list when the wiring is right), so a test can show them all.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from lab.kube import LocalKube

WORKLOADS = "deployments,statefulsets"
# Chart values whose defaults are secrets (values.yaml of the 1.18/1.19 charts). None may reach a stored Secret.
DEFAULT_SECRET_VALUES = ("harborAdminPassword", "secretKey", "database.internal.password",
                         "registry.credentials.password", "database.external.password")


@dataclass(frozen=True)
class SecretRef:
    """A pod's use of a Secret: its name, the key (None: the whole Secret) and where (for messages)."""

    secret: str
    key: str | None
    where: str


def secret_refs(pod: dict[str, Any]) -> Iterator[SecretRef]:
    """Every env secretKeyRef, envFrom secretRef, and Secret volume (per item, or whole) of a pod spec."""
    for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
        for env in container.get("env", []):
            ref = (env.get("valueFrom") or {}).get("secretKeyRef")
            if ref:
                yield SecretRef(ref["name"], ref["key"], f"{container['name']} env {env['name']}")
        for source in container.get("envFrom", []):
            if "secretRef" in source:
                yield SecretRef(source["secretRef"]["name"], None, f"{container['name']} envFrom")
    for volume in pod.get("volumes", []):
        secret = volume.get("secret")
        if secret:
            keys = [item["key"] for item in secret.get("items", [])] or [None]
            for key in keys:
                yield SecretRef(secret["secretName"], key, f"volume {volume['name']}")


def items(kube: LocalKube, kinds: str, namespace: str) -> list[dict[str, Any]]:
    """The stored objects of `kinds` (comma-separated) in `namespace`."""
    out = kube.kubectl("get", kinds, "-n", namespace, "-o", "json").stdout
    return list(json.loads(out)["items"])


def workloads(kube: LocalKube, namespace: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """("Kind/name", object) of every Deployment and StatefulSet."""
    for obj in items(kube, WORKLOADS, namespace):
        yield f"{obj['kind']}/{obj['metadata']['name']}", obj


def secret_data(kube: LocalKube, namespace: str) -> dict[str, dict[str, str]]:
    """Every Secret's decoded data, by name."""
    return {s["metadata"]["name"]: {k: base64.b64decode(v).decode(errors="replace")
                                    for k, v in (s.get("data") or {}).items()}
            for s in items(kube, "secrets", namespace)}


def pinned_secret_problems(kube: LocalKube, namespace: str, pinned: set[str]) -> tuple[list[str], set[str]]:
    """(problems, pinned Secrets referenced): every secretKeyRef and Secret volume item that names one of the
    `pinned` Secrets must use a key that Secret has, and the Secret must exist."""
    stored = secret_data(kube, namespace)
    problems, used = [], set()
    for workload, obj in workloads(kube, namespace):
        for ref in secret_refs(obj["spec"]["template"]["spec"]):
            if ref.secret not in pinned:
                continue
            used.add(ref.secret)
            if ref.secret not in stored:
                problems.append(f"{workload} {ref.where}: Secret {ref.secret} does not exist")
            elif ref.key is not None and ref.key not in stored[ref.secret]:
                problems.append(f"{workload} {ref.where}: Secret {ref.secret} has no key {ref.key!r} "
                                f"(it has {sorted(stored[ref.secret])})")
    return problems, used


def recreate_problems(kube: LocalKube, namespace: str, names: tuple[str, ...]) -> list[str]:
    """Deployments among `names` that mount a ReadWriteOnce claim must use the Recreate strategy."""
    claims = {c["metadata"]["name"]: c["spec"].get("accessModes") or [] for c in items(kube, "pvc", namespace)}
    problems = []
    for obj in items(kube, "deployments", namespace):
        name = obj["metadata"]["name"]
        if name not in names:
            continue
        rwo = [v["persistentVolumeClaim"]["claimName"] for v in obj["spec"]["template"]["spec"].get("volumes", [])
               if "persistentVolumeClaim" in v
               and "ReadWriteOnce" in claims.get(v["persistentVolumeClaim"]["claimName"], ["ReadWriteOnce"])]
        strategy = obj["spec"].get("strategy", {}).get("type")
        if rwo and strategy != "Recreate":
            problems.append(f"Deployment/{name} mounts ReadWriteOnce {rwo} but updates by {strategy}")
    return problems


def shared_rwo_problems(kube: LocalKube, namespace: str) -> list[str]:
    """Workloads with more than one replica that mount a ReadWriteOnce claim (one node could attach it)."""
    claims = {c["metadata"]["name"]: c["spec"].get("accessModes") or [] for c in items(kube, "pvc", namespace)}
    problems = []
    for workload, obj in workloads(kube, namespace):
        if (obj["spec"].get("replicas") or 1) < 2:
            continue
        for volume in obj["spec"]["template"]["spec"].get("volumes", []):
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if claim and "ReadWriteOnce" in claims.get(claim, ["ReadWriteOnce"]):
                problems.append(f"{workload} has {obj['spec']['replicas']} replicas on ReadWriteOnce claim {claim}")
    return problems


def chart_default_secrets(chart: Path) -> set[str]:
    """The chart's default values for DEFAULT_SECRET_VALUES (its values.yaml)."""
    values = yaml.safe_load((chart / "values.yaml").read_text())
    found = set()
    for dotted in DEFAULT_SECRET_VALUES:
        node: Any = values
        for part in dotted.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, str) and node:
            found.add(node)
    return found


def default_password_problems(kube: LocalKube, namespace: str, chart: Path) -> list[str]:
    """Stored Secret values that are (or, for the longer ones, contain) one of the chart's default secrets."""
    defaults = chart_default_secrets(chart)
    problems = []
    for name, data in secret_data(kube, namespace).items():
        for key, value in data.items():
            hits = [d for d in defaults if value == d or (len(d) >= 8 and d in value)]
            if hits:
                problems.append(f"Secret {name} key {key} holds the chart default {hits}")
    return problems
