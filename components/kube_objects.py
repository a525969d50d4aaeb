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
