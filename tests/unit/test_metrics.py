"""Harbor's metrics exporter and ServiceMonitor: the settings, the chart values, the decision and the CRD lookup."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from components.harbor_values import PinnedSecretNames, harbor_values
from components.metrics import DISCOVERY_PATH, service_monitor_served, wants_service_monitor
from components.settings import SettingsError, validate
from lab.paths import harbor_chart

NAMES = PinnedSecretNames.for_release("harbor")
SECRETS = {"adminPassword": True, "upstreamSecretKey": True}


def settings(metrics: dict[str, Any] | None = None) -> Any:
    harbor: dict[str, Any] = {"tlsMode": "http", "expose": {"type": "nodePort", "nodeAddress": "10.0.0.11"}}
    if metrics is not None:
        harbor["metrics"] = metrics
    return validate({"harbor": harbor, "upstream": {"url": "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com",
                                                    "accessKeyId": "AKIAIOSFODNN7EXAMPLE"}}, SECRETS)


def test_metrics_are_off_by_default() -> None:
    s = settings()
    assert (s.harbor.metrics.enabled, s.harbor.metrics.service_monitor) == (False, "auto")
    assert harbor_values(s, NAMES, None)["metrics"] == {"enabled": False, "serviceMonitor": {"enabled": False}}


def test_enabled_turns_the_chart_metrics_on_and_the_service_monitor_only_when_decided() -> None:
    s = settings({"enabled": True, "serviceMonitorLabels": {"release": "prom"}, "scrapeInterval": "30s"})
    assert harbor_values(s, NAMES, None)["metrics"] == {"enabled": True, "serviceMonitor": {"enabled": False}}
    assert harbor_values(s, NAMES, None, service_monitor=True)["metrics"] == {
        "enabled": True, "serviceMonitor": {"enabled": True, "additionalLabels": {"release": "prom"},
                                            "interval": "30s"}}


@pytest.mark.parametrize(("metrics", "needle"), [
    ({"serviceMonitor": "always"}, "harbor-cache:harbor.metrics.serviceMonitor"),
    ({"enabled": True, "serviceMonitor": "sometimes"}, "harbor-cache:harbor.metrics.serviceMonitor"),
    ({"enabled": True, "scrapeInterval": "30 seconds"}, "harbor-cache:harbor.metrics.scrapeInterval"),
    ({"enabled": "yes"}, "harbor-cache:harbor.metrics.enabled"),
])
def test_bad_metrics_settings_name_their_key(metrics: dict[str, Any], needle: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(needle)):
        settings(metrics)


def _never() -> bool | None:
    raise AssertionError("the cluster must not be asked")


@pytest.mark.parametrize(("mode", "enabled", "served", "expected", "warned"), [
    ("auto", True, lambda: True, True, False),
    ("auto", True, lambda: False, False, False),
    ("auto", True, lambda: None, False, True),
    ("auto", False, _never, False, False),
    ("always", True, _never, True, False),
    ("never", True, _never, False, False),
])
def test_service_monitor_decision(mode: Any, enabled: bool, served: Any, expected: bool, warned: bool) -> None:
    warnings: list[str] = []
    assert wants_service_monitor(mode, enabled, served, warnings.append) is expected
    assert bool(warnings) is warned
    assert all("harbor-cache:harbor.metrics.serviceMonitor" in w for w in warnings)


@pytest.fixture
def discovery(tmp_path: Path) -> Iterator[tuple[dict[str, Any], Path]]:
    """A loopback API server answering the discovery GET as told, and a kubeconfig (with a token) for it."""
    answer: dict[str, Any] = {"status": 404, "body": {}, "auth": []}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            pass

        def do_GET(self) -> None:
            answer["auth"].append(self.headers.get("Authorization"))
            status = answer["status"] if self.path == DISCOVERY_PATH else 404
            body = json.dumps(answer["body"]).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(json.dumps({
        "clusters": [{"name": "c", "cluster": {"server": f"http://127.0.0.1:{server.server_port}"}}],
        "users": [{"name": "u", "user": {"token": "t0ken"}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}], "current-context": "x"}))
    try:
        yield answer, kubeconfig
    finally:
        server.shutdown()
        server.server_close()


def test_crd_lookup_reads_the_discovery_document(discovery: tuple[dict[str, Any], Path]) -> None:
    answer, kubeconfig = discovery
    assert service_monitor_served(str(kubeconfig)) is False  # 404: the group is not served
    answer.update(status=200, body={"kind": "APIResourceList", "resources": [{"name": "podmonitors"}]})
    assert service_monitor_served(str(kubeconfig)) is False
    answer["body"]["resources"].append({"name": "servicemonitors", "kind": "ServiceMonitor"})
    assert service_monitor_served(str(kubeconfig)) is True
    answer["status"] = 403
    assert service_monitor_served(str(kubeconfig)) is None
    assert set(answer["auth"]) == {"Bearer t0ken"}


def test_crd_lookup_without_a_usable_kubeconfig_cannot_tell(tmp_path: Path) -> None:
    assert service_monitor_served(str(tmp_path / "missing")) is None
    unreachable = tmp_path / "kubeconfig"
    unreachable.write_text(json.dumps({
        "clusters": [{"name": "c", "cluster": {"server": "http://127.0.0.1:9"}}], "users": [{"name": "u", "user": {}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}], "current-context": "x"}))
    assert service_monitor_served(str(unreachable), timeout=2) is None


@pytest.mark.parametrize("version", ["1.18.2", "1.18.4", "1.19.1"])
def test_every_value_set_is_read_by_the_real_chart(version: str) -> None:
    """The chart's ServiceMonitor template and values read exactly the keys this program sets."""
    chart = harbor_chart(version)
    template = (chart / "templates" / "metrics" / "metrics-svcmon.yaml").read_text()
    assert "if and .Values.metrics.enabled .Values.metrics.serviceMonitor.enabled" in template
    values = harbor_values(settings({"enabled": True, "serviceMonitorLabels": {"a": "b"}, "scrapeInterval": "1m"}),
                           NAMES, None, service_monitor=True)["metrics"]
    for key in values["serviceMonitor"]:
        assert f".Values.metrics.serviceMonitor.{key}" in template, key
    assert "kind: ServiceMonitor" in template and "monitoring.coreos.com/v1" in template
