"""components.dynamic: unknown/secret helpers and the secret-configured provider's pickling guard."""

from __future__ import annotations

import base64

import dill
from pulumi.dynamic import Config, ConfigureRequest
from pulumi.dynamic.dynamic import serialize_provider
from pulumi.output import Unknown

from components.dynamic import (
    SECRET_SIG,
    SECRET_SIG_KEY,
    UNKNOWN,
    SecretConfiguredProvider,
    known,
    plain,
    plain_props,
)


class _TokenProvider(SecretConfiguredProvider):
    secret_config_key = "harbor-cache:testToken"


def test_known_rejects_both_unknown_forms() -> None:
    assert not known(UNKNOWN)
    assert not known(Unknown())
    assert known("") and known(None) and known(0)


def test_plain_unwraps_rpc_secrets_only() -> None:
    wrapped = {SECRET_SIG_KEY: SECRET_SIG, "value": "pw"}
    assert plain(wrapped) == "pw"
    assert plain({"value": "pw"}) == {"value": "pw"}
    assert plain_props({"a": wrapped, "b": 1}) == {"a": "pw", "b": 1}


def test_secret_is_read_in_configure_and_never_pickled() -> None:
    provider = _TokenProvider()
    assert provider.secret == ""
    provider.configure(ConfigureRequest(Config({"harbor-cache:testToken": "tok-123"}, "harbor-cache")))
    assert provider.secret == "tok-123"
    serialized = serialize_provider(provider)
    assert b"tok-123" not in base64.b64decode(serialized)
    restored = dill.loads(base64.b64decode(serialized))
    assert isinstance(restored, _TokenProvider)
    assert restored.secret == ""


def test_hint_names_the_config_key() -> None:
    assert _TokenProvider().how_to_set_secret() == (
        "run `pulumi config set --secret harbor-cache:testToken <value>`"
    )
