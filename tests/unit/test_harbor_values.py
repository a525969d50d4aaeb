"""The Harbor chart values are a pure function of the settings and fix the seed's mistakes."""

from __future__ import annotations

from typing import Any

from components.config import Settings, validate
from components.harbor import PinnedSecretNames, harbor_values, pinned_secret_data

SECRETS = {"adminPassword": True, "upstreamSecretKey": True}
ECR = "https://255250787067.dkr.ecr.ap-northeast-2.amazonaws.com"
NAMES = PinnedSecretNames.for_release("harbor")


def settings(**harbor: Any) -> Settings:
    raw = {"harbor": {"tlsMode": "http", "expose": {"type": "nodePort", "nodeAddress": "10.0.0.11"}, **harbor},
           "upstream": {"url": ECR, "accessKeyId": "AKIA"}}
    return validate(raw, SECRETS)


def test_http_values_disable_tls_and_use_http_external_url() -> None:
    values = harbor_values(settings(), NAMES, None)
    assert values["expose"]["type"] == "nodePort"
    assert values["expose"]["tls"] == {"enabled": False}
    assert values["externalURL"] == "http://10.0.0.11:30002"
    assert values["expose"]["nodePort"]["ports"]["http"]["nodePort"] == 30002


def test_https_values_use_cert_manager_secret_and_https_url() -> None:
    values = harbor_values(settings(tlsMode="https"), NAMES, "harbor-tls")
    assert values["expose"]["tls"] == {"enabled": True, "certSource": "secret",
                                       "secret": {"secretName": "harbor-tls"}}
    assert values["externalURL"] == "https://10.0.0.11:30003"
    assert values["caSecretName"] == "harbor-tls"


def test_cluster_ip_mode_uses_static_ip_and_hostname() -> None:
    s = settings(expose={"type": "clusterIP", "clusterIP": "10.96.0.50", "hostname": "harbor.internal"})
    values = harbor_values(s, NAMES, None)
    assert values["expose"]["clusterIP"]["staticClusterIP"] == "10.96.0.50"
    assert values["externalURL"] == "http://harbor.internal"


def test_volumes_strategy_and_trivy() -> None:
    values = harbor_values(settings(storage={"storageClass": "fast", "registrySize": "300Gi"}), NAMES, None)
    registry = values["persistence"]["persistentVolumeClaim"]["registry"]
    assert registry == {"storageClass": "fast", "size": "300Gi", "accessMode": "ReadWriteOnce"}
    assert values["persistence"]["persistentVolumeClaim"]["database"]["storageClass"] == "fast"
    assert values["updateStrategy"] == {"type": "Recreate"}
    assert values["trivy"] == {"enabled": False}


def test_default_registry_size_is_far_above_chart_default() -> None:
    size = harbor_values(settings(), NAMES, None)["persistence"]["persistentVolumeClaim"]["registry"]["size"]
    assert size.endswith("Gi") and int(size[:-2]) >= 100


def test_no_secret_values_in_helm_values() -> None:
    values = harbor_values(settings(), NAMES, None)
    flat = repr(values)
    assert "harborAdminPassword" not in flat and "Harbor12345" not in flat
    assert values["existingSecretAdminPassword"] == NAMES.admin
    assert values["existingSecretSecretKey"] == NAMES.secret_key
    assert values["core"]["existingSecret"] == NAMES.core and values["core"]["secretName"] == NAMES.token
    assert values["registry"]["credentials"]["existingSecret"] == NAMES.registry_credentials


def test_egress_proxy_and_ha() -> None:
    s = settings(proxy={"httpsProxy": "http://proxy:3128"}, ha={
        "replicas": 2,
        "externalDatabase": {"host": "pg", "existingSecret": "pg-secret"},
        "externalRedis": {"addr": "redis:6379"},
        "objectStorage": {"type": "s3", "settings": {"bucket": "images", "region": "ap-northeast-2"}},
    })
    values = harbor_values(s, NAMES, None)
    assert values["proxy"]["httpsProxy"] == "http://proxy:3128"
    assert values["database"]["type"] == "external" and values["database"]["external"]["host"] == "pg"
    assert values["redis"]["external"]["addr"] == "redis:6379"
    assert values["persistence"]["imageChartStorage"]["s3"]["bucket"] == "images"
    assert values["core"]["replicas"] == 2 and values["registry"]["replicas"] == 2


def test_override_values_merge_last() -> None:
    values = harbor_values(settings(values={"expose": {"nodePort": {"name": "custom"}}, "logLevel": "debug"}),
                           NAMES, None)
    assert values["expose"]["nodePort"]["name"] == "custom"
    assert values["expose"]["type"] == "nodePort"
    assert values["logLevel"] == "debug"


def test_pinned_secrets_have_the_shapes_harbor_needs() -> None:
    data = pinned_secret_data(NAMES)
    assert len(data[NAMES.secret_key]["secretKey"]) == 16
    assert data[NAMES.token]["tls.crt"].startswith("-----BEGIN CERTIFICATE-----")
    assert data[NAMES.registry_credentials]["REGISTRY_HTPASSWD"].startswith("harbor_registry_user:$2")
