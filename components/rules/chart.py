"""What the Harbor chart (harbor-helm 1.18.x, read from its templates) does with the values the program gives it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

# Every top-level value the chart's templates read (`.Values.<key>`): Helm ignores any other key silently.
HARBOR_CHART_VALUE_KEYS: Final = frozenset({
    "caBundleSecretName", "caSecretName", "cache", "containerSecurityContext", "core", "database",
    "enableMigrateHelmHook", "existingSecretAdminPassword", "existingSecretAdminPasswordKey", "existingSecretSecretKey",
    "exporter", "expose", "externalURL", "fullnameOverride", "harborAdminPassword", "imagePullPolicy",
    "imagePullSecrets", "internalTLS", "ipFamily", "jobservice", "logLevel", "metrics", "nameOverride", "nginx",
    "persistence", "portal", "proxy", "redis", "registry", "secretKey", "trace", "trivy", "uaaSecretName",
    "updateStrategy",
})  # fmt: skip

# Top-level values the program sets from a setting (components/harbor_values.py): overriding them in
# harbor.values silently undoes what that setting says.
PROGRAM_VALUES: Final[Mapping[str, str]] = {
    "expose": "harbor.expose and harbor.tlsMode",
    "externalURL": "harbor.expose / harbor.url and harbor.tlsMode",
    "persistence": "harbor.storage and harbor.ha.objectStorage",
    "existingSecretAdminPassword": "adminPassword (a Secret the program makes)",
    "existingSecretAdminPasswordKey": "adminPassword (a Secret the program makes)",
    "harborAdminPassword": "adminPassword (never a Helm value: it would sit in plaintext in the release)",
    "existingSecretSecretKey": "the pinned internal secrets",
    "secretKey": "the pinned internal secrets",
    "proxy": "harbor.proxy",
    "caSecretName": "harbor.tlsMode https (the certificate's Secret)",
}

# persistence.imageChartStorage.<type>: the keys registry-cm.yaml reads, those with a placeholder default in the
# chart's values.yaml (a missing one silently becomes "bucketname" or "us-west-1"), and the credential each type
# needs unless an existingSecret (or a workload identity) provides it.
OBJECT_STORAGE_KEYS: Final[Mapping[str, frozenset[str]]] = {
    "s3": frozenset({"region", "bucket", "accesskey", "secretkey", "regionendpoint", "encrypt", "keyid", "secure",
                     "skipverify", "v4auth", "chunksize", "rootdirectory", "storageclass", "multipartcopychunksize",
                     "multipartcopymaxconcurrency", "multipartcopythresholdsize", "existingSecret"}),
    "gcs": frozenset({"bucket", "encodedkey", "rootdirectory", "chunksize", "existingSecret", "useWorkloadIdentity"}),
    "azure": frozenset({"accountname", "accountkey", "container", "realm", "existingSecret"}),
    "swift": frozenset({"authurl", "username", "password", "container", "region", "tenant", "tenantid", "domain",
                        "domainid", "trustid", "insecureskipverify", "chunksize", "prefix", "secretkey", "accesskey",
                        "authversion", "endpointtype", "tempurlcontainerkey", "tempurlmethods", "existingSecret"}),
    "oss": frozenset({"accesskeyid", "accesskeysecret", "region", "bucket", "endpoint", "internal", "encrypt",
                      "secure", "chunksize", "rootdirectory", "existingSecret"}),
}  # fmt: skip
OBJECT_STORAGE_REQUIRED: Final[Mapping[str, tuple[str, ...]]] = {
    "s3": ("region", "bucket"),
    "gcs": ("bucket",),
    "azure": ("accountname", "container"),
    "swift": ("authurl", "username", "container"),
    "oss": ("accesskeyid", "region", "bucket"),
}
OBJECT_STORAGE_CREDENTIAL: Final[Mapping[str, str]] = {
    "gcs": "encodedkey", "azure": "accountkey", "swift": "password", "oss": "accesskeysecret",
}
# Keys that hold a secret: in objectStorage.settings they would be Helm values, in plaintext in the release.
OBJECT_STORAGE_SECRET_KEYS: Final = frozenset({"accesskey", "secretkey", "encodedkey", "accountkey", "password",
                                               "accesskeysecret"})


def object_storage_problems(kind: str, settings: Mapping[str, Any], existing_secret: str) -> list[tuple[str, str]]:
    """(key, problem) pairs for `settings` of object storage `kind`, as the chart would use them."""
    problems = [(key, f"is required for {kind} (else the chart's placeholder value is used)")
                for key in OBJECT_STORAGE_REQUIRED.get(kind, ()) if not settings.get(key)]
    credential = OBJECT_STORAGE_CREDENTIAL.get(kind)
    identity = kind == "gcs" and settings.get("useWorkloadIdentity") is True
    if credential and not settings.get(credential) and not existing_secret and not identity:
        problems.append((credential, f"{kind} needs its credential: set existingSecret (a Secret with it) rather "
                                     f"than {credential} (else the chart's placeholder is used)"))
    return problems


def object_storage_warnings(kind: str, settings: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key, warning) pairs: keys the chart ignores for `kind`, and secrets that would be plaintext Helm values."""
    known = OBJECT_STORAGE_KEYS.get(kind, frozenset())
    warnings = [(key, f"is not a {kind} setting the Harbor chart reads: it is ignored") for key in sorted(settings)
                if key not in known]
    warnings += [(key, "is a credential in plain stack config and Helm values (stored unencrypted in the release): "
                       "put it in a Secret and name it in existingSecret") for key in sorted(settings)
                 if key in OBJECT_STORAGE_SECRET_KEYS and key in known]
    return warnings
