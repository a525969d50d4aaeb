"""Harbor's metrics exporter (``harbor-cache:harbor.metrics``) and whether the chart creates a ServiceMonitor.

``harbor.metrics.enabled`` turns on the chart's ``metrics`` (core, registry, jobservice and the exporter serve
``/metrics`` on port 8001). A ServiceMonitor (the Prometheus Operator's ``monitoring.coreos.com/v1`` kind) is
made by the chart itself (``metrics.serviceMonitor.enabled``); the chart does not look for the CRD, and a Helm
release with a kind the API server does not know fails. So ``harbor.metrics.serviceMonitor`` says:

* ``auto`` (default): the program asks the cluster's discovery API, when ``pulumi preview``/``up`` runs, whether
  ``monitoring.coreos.com/v1`` serves ``servicemonitors``, with the stack's kubeconfig. Found: created. Not found:
  not created. Not answerable (no kubeconfig, an exec-plugin user such as EKS's, the API server unreachable): not
  created, with a warning naming the setting. A stack that installs the Prometheus Operator in the same ``up``
  sees the CRD only on the next run; set ``always`` there.
* ``always`` / ``never``: no lookup.

A discovery GET rather than a Pulumi ``CustomResourceDefinition.get``: a missing object fails a ``get`` for the
whole program, while the question here is whether it exists.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Literal

from components.kubeconfig import KubeconfigError, kube_access

ServiceMonitorMode = Literal["auto", "always", "never"]
SETTING = "harbor-cache:harbor.metrics.serviceMonitor"
DISCOVERY_PATH = "/apis/monitoring.coreos.com/v1"


def service_monitor_served(kubeconfig: str | None, timeout: float = 10.0) -> bool | None:
    """Whether the cluster serves ``servicemonitors`` in ``monitoring.coreos.com/v1``; None when it cannot tell."""
    import requests  # here: only the `auto` mode asks, and importing requests slows every program start

    path = kubeconfig or os.environ.get("KUBECONFIG", os.path.expanduser("~/.kube/config")).split(os.pathsep)[0]
    try:
        with kube_access(path) as kube:
            headers = {"Authorization": f"Bearer {kube.token}"} if kube.token else {}
            reply = requests.get(kube.server + DISCOVERY_PATH, headers=headers, verify=kube.verify, cert=kube.cert,
                                 timeout=timeout)
    except (KubeconfigError, OSError, requests.RequestException):
        return None
    if reply.status_code == 404:
        return False
    if reply.status_code != 200:
        return None
    resources = reply.json().get("resources") or []
    return any(isinstance(r, Mapping) and r.get("name") == "servicemonitors" for r in resources)


def wants_service_monitor(mode: ServiceMonitorMode, metrics_enabled: bool, served: Callable[[], bool | None],
                          warn: Callable[[str], None]) -> bool:
    """Whether the chart should create the ServiceMonitor (``served`` is asked only in ``auto`` mode)."""
    if not metrics_enabled or mode == "never":
        return False
    if mode == "always":
        return True
    found = served()
    if found is None:
        warn(f"{SETTING} is auto but the cluster could not be asked whether it serves {DISCOVERY_PATH} "
             "servicemonitors (kubeconfig or API server): no ServiceMonitor is created; set it to always or never")
        return False
    return found


def metrics_values(enabled: bool, service_monitor: bool, labels: Mapping[str, str],
                   interval: str = "") -> dict[str, Any]:
    """The chart's ``metrics`` values."""
    monitor: dict[str, Any] = {"enabled": bool(enabled and service_monitor)}
    if monitor["enabled"]:
        monitor["additionalLabels"] = dict(labels)
        if interval:
            monitor["interval"] = interval
    return {"enabled": enabled, "serviceMonitor": monitor}
