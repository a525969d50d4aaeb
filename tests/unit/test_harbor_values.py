"""The Harbor chart values are a pure function of the settings and fix the seed's mistakes."""

from __future__ import annotations

from typing import Any

import bcrypt

from components.harbor_values import PinnedSecretNames, harbor_values
from components.pinned_secrets import ROLES, PinnedSecretValues, PinnedSecretValuesProvider, generate_pinned_values
from components.settings import Settings, validate

SECRETS = {"adminPassword": True, "upstreamSecretKey": True}
ECR = "https://255250787067.dkr.ecr.ap-northeast-2.amazonaws.com"
NAMES = PinnedSecretNames.for_release("harbor")


def settings(**harbor: Any) -> Settings:
    raw = {"harbor": {"tlsMode": "http", "expose": {"type": "nodePort", "nodeAddress": "10.0.0.11"}, **harbor},
           "upstream": {"url": ECR, "accessKeyId": "AKIAIOSFODNN7EXAMPLE"}}
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
    # several jobservice replicas cannot share the file logger's ReadWriteOnce volume
    assert values["jobservice"]["jobLoggers"] == ["database"]
    assert "jobLoggers" not in harbor_values(settings(), NAMES, None)["jobservice"]  # one replica: chart default


def test_override_values_merge_last() -> None:
    values = harbor_values(settings(values={"expose": {"nodePort": {"name": "custom"}}, "logLevel": "debug"}),
                           NAMES, None)
    assert values["expose"]["nodePort"]["name"] == "custom"
    assert values["expose"]["type"] == "nodePort"
    assert values["logLevel"] == "debug"


def test_pinned_secrets_have_the_shapes_harbor_needs() -> None:
    data = generate_pinned_values()
    assert set(data) == set(ROLES)
    assert len(data["secret_key"]["secretKey"]) == 16
    assert data["token"]["tls.crt"].startswith("-----BEGIN CERTIFICATE-----")
    assert data["token"]["tls.key"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    user, _, digest = data["registry_credentials"]["REGISTRY_HTPASSWD"].partition(":")
    assert user == values_of_settings()["registry"]["credentials"]["username"]
    assert bcrypt.checkpw(data["registry_credentials"]["REGISTRY_PASSWD"].encode(), digest.encode())


def test_every_generated_role_is_a_secret_the_values_name() -> None:
    for role in ROLES:
        assert getattr(NAMES, role).startswith("harbor-pinned-")
    assert NAMES.admin not in {getattr(NAMES, role) for role in ROLES}  # the admin Secret holds the stack secret


def test_pinned_values_are_made_at_create_only() -> None:
    provider = PinnedSecretValuesProvider()
    first = provider.create({"release": "harbor", "values": None})
    second = provider.create({"release": "harbor", "values": None})
    assert first.outs is not None and second.outs is not None
    assert first.outs["values"] != second.outs["values"]  # fresh at each create ...
    diff = provider.diff(first.id, first.outs, {"release": "harbor", "values": None, "database_password": None})
    assert diff.changes is False  # ... and never changed by a later run
    password = first.outs["database_password"]
    assert len(password) == 32 and password.isalnum() and password != second.outs["database_password"]
    older = {k: v for k, v in first.outs.items() if k != "database_password"}  # a stack from before it existed
    assert provider.diff(first.id, older, {"release": "harbor", "values": None}).changes is False


def test_pinned_values_type_and_module_stay_put() -> None:
    # Both are recorded in every stack's state: the type token in the URN, the module in the pickled provider.
    assert PinnedSecretValues._resource_type_name == "dynamic/generated:PinnedSecretValues"
    assert PinnedSecretValuesProvider.__module__ == "components.pinned_secrets"


def values_of_settings() -> dict[str, Any]:
    return harbor_values(settings(), NAMES, None)
