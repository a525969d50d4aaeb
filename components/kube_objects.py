"""The two core Kubernetes kinds the program creates (``Namespace``, ``Secret``), without the typed SDK module.

``pulumi_kubernetes.core.v1`` defines every core kind with all its input and output types (about 4 MB of
generated Python); importing it took 0.35-0.5 s of CPU at every ``pulumi preview`` and ``up``, as much as all the
program's other imports (bench/README.md, "Where a no-change preview spends its time"). These classes register
the same resources as ``k8s.core.v1.Namespace`` / ``Secret`` do: the same type token, the same inputs (Kubernetes'
own camelCase names, ``apiVersion`` and ``kind`` set), ``data``/``stringData`` secret like the SDK marks them, so
stacks written with the typed classes see no change. Outputs are plain dicts with Kubernetes' field names.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi


class Namespace(pulumi.CustomResource):
    """``kubernetes:core/v1:Namespace``; ``metadata`` as Kubernetes writes it (``{"name": ...}``)."""

    metadata: pulumi.Output[Any]

    def __init__(self, resource_name: str, *, metadata: pulumi.Input[Mapping[str, Any]],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata, "spec": None, "status": None}
        super().__init__("kubernetes:core/v1:Namespace", resource_name, props, opts)


class Secret(pulumi.CustomResource):
    """``kubernetes:core/v1:Secret`` from ``string_data``; ``data`` and ``stringData`` are secret outputs."""

    metadata: pulumi.Output[Any]

    def __init__(self, resource_name: str, *, metadata: pulumi.Input[Mapping[str, Any]],
                 string_data: pulumi.Input[Mapping[str, pulumi.Input[str]]],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        props = {"apiVersion": "v1", "kind": "Secret", "metadata": metadata, "data": None, "immutable": None,
                 "stringData": pulumi.Output.secret(string_data), "type": None}
        secret = pulumi.ResourceOptions(additional_secret_outputs=["data", "stringData"])
        super().__init__("kubernetes:core/v1:Secret", resource_name, props,
                         pulumi.ResourceOptions.merge(opts, secret))


# Every input of kubernetes:helm.sh/v3:Release, in the order and spelling the SDK sends them (pulumi_kubernetes
# 4.x helm/v3/Release.py); the ones this program sets are passed by keyword, the rest stay unset.
_RELEASE_INPUTS = (
    "allowNullValues", "atomic", "chart", "cleanupOnFail", "compat", "createNamespace", "dependencyUpdate",
    "description", "devel", "disableCRDHooks", "disableOpenapiValidation", "disableWebhooks", "forceUpdate",
    "keyring", "lint", "manifest", "maxHistory", "name", "namespace", "postrender", "recreatePods",
    "renderSubchartNotes", "replace", "repositoryOpts", "resetValues", "resourceNames", "reuseValues", "skipAwait",
    "skipCrds", "timeout", "valueYamlFiles", "values", "verify", "version", "waitForJobs",
)


class HelmRelease(pulumi.CustomResource):
    """``kubernetes:helm.sh/v3:Release`` (``pulumi_kubernetes.helm.v3.Release`` without importing it, which also
    imports the Helm v3 Chart and YAML modules and ``requests``). ``inputs`` use the Release's input names
    (``skipAwait``, ``repositoryOpts`` as ``{"repo": url}``); ``status`` is a plain dict (``status["status"]``)."""

    status: pulumi.Output[Any]

    def __init__(self, resource_name: str, inputs: Mapping[str, Any],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        unknown = set(inputs) - set(_RELEASE_INPUTS)
        if unknown:
            raise ValueError(f"not inputs of a helm.sh/v3 Release: {sorted(unknown)}")
        props: dict[str, Any] = {key: inputs.get(key) for key in _RELEASE_INPUTS}
        props["compat"] = "true"  # as the SDK always sends it
        props["status"] = None
        super().__init__("kubernetes:helm.sh/v3:Release", resource_name, props, opts)
