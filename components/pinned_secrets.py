"""Harbor's internal secrets, generated once when they are first created and never on a preview.

The harbor chart would regenerate its internal secrets (core and jobservice secrets, the XSRF key, the
registry password and htpasswd, the token service key pair) on every render, which restarts every pod on each
`pulumi up`. So the program keeps them in Secrets of its own (`existingSecret*` values, see harbor_values.py).
The internal database's password is generated here too, but the chart takes it only as a value
(`database.internal.password`), so HarborRelease passes it as a secret value instead of a Secret
(`database_password`; absent in stacks made before it existed, see harbor.py).

`PinnedSecretValues` is a dynamic resource whose provider generates the values in `create` only: a preview or
an up of an existing stack generates nothing, and the values are secret outputs (never plaintext in state).
The Secrets built from them ignore later changes to their data, so Secrets of stacks deployed before this
resource existed keep the values the cluster has.

The engine records this module's path in every stack's state (the pickled provider): keep the module where it
is, or leave a re-export behind.
"""

from __future__ import annotations

import datetime
import secrets
import string
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, Resource, ResourceProvider

ROLES = ("secret_key", "core", "xsrf", "jobservice", "registry_http", "registry_credentials", "token")
"""The generated Secrets, by role (the fields of harbor_values.PinnedSecretNames other than `admin`)."""
REGISTRY_USER = "harbor_registry_user"


def _random(length: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def _token_cert() -> dict[str, str]:
    """A self-signed key pair for Harbor's token service (the chart would regenerate it on every render)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "harbor-token-ca")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return {"tls.crt": cert.public_bytes(serialization.Encoding.PEM).decode(),
            "tls.key": key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                                         serialization.NoEncryption()).decode()}


def generate_pinned_values() -> dict[str, dict[str, str]]:
    """Fresh values for Harbor's internal secrets: role -> the Secret's string data."""
    import bcrypt

    registry_password = _random(32)
    htpasswd = bcrypt.hashpw(registry_password.encode(), bcrypt.gensalt(rounds=10)).decode()
    return {
        "secret_key": {"secretKey": _random(16)},  # must be exactly 16 characters
        "core": {"secret": _random(16)},
        "xsrf": {"CSRF_KEY": _random(32)},
        "jobservice": {"JOBSERVICE_SECRET": _random(16)},
        "registry_http": {"REGISTRY_HTTP_SECRET": _random(16)},
        "registry_credentials": {"REGISTRY_PASSWD": registry_password,
                                 "REGISTRY_HTPASSWD": f"{REGISTRY_USER}:{htpasswd}"},
        "token": _token_cert(),
    }


class PinnedSecretValuesProvider(ResourceProvider):
    """Generates the values in `create`; never changes them afterwards (no diff, no update)."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        outs = {**props, "values": generate_pinned_values(), "database_password": _random(32)}
        return CreateResult(f"{props.get('release', 'harbor')}-pinned", outs)

    def diff(self, _id: str, _olds: dict[str, Any], _news: dict[str, Any]) -> DiffResult:
        # The values are made once: a changed release name renames the Secrets, which keep these values.
        return DiffResult(changes=False)


class PinnedSecretValues(Resource, module="generated", name="PinnedSecretValues"):
    """Harbor's internal secret values for one release, made once at create; `values` (role -> Secret data) and
    `database_password` (None in stacks created before it existed) are secret outputs."""

    values: pulumi.Output[dict[str, dict[str, str]]]
    database_password: pulumi.Output[str | None]

    def __init__(self, resource_name: str, *, release: str, opts: pulumi.ResourceOptions | None = None) -> None:
        opts = pulumi.ResourceOptions.merge(
            opts, pulumi.ResourceOptions(additional_secret_outputs=["values", "database_password"]))
        props = {"release": release, "values": None, "database_password": None}
        super().__init__(PinnedSecretValuesProvider(), resource_name, props, opts)
