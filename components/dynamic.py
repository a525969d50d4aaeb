"""Plumbing every Pulumi dynamic provider of this program shares (Harbor providers, the node SSH providers).

* Preview-time unknowns: an input from an unresolved output reaches ``check``/``diff`` as the sentinel string
  :data:`UNKNOWN` or, when the SDK deserializes with ``keep_unknowns``, as a ``pulumi.output.Unknown``;
  :func:`known` tells both apart from a real value.
* Secrets: a secret input reaches the provider wrapped as ``{SECRET_SIG_KEY: SECRET_SIG, "value": v}`` in some
  calls; :func:`plain` and :func:`plain_props` unwrap it.
* :class:`SecretConfiguredProvider`: a provider whose one credential is a secret stack config key, read in
  ``configure`` in the provider process. The engine pickles provider instances (dill, by class reference) into
  every stack's state, so the instance carries no state at all: the credential can never be pickled.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from pulumi.dynamic import ConfigureRequest, ResourceProvider
from pulumi.output import Unknown

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
"""Value of ``pulumi.runtime.rpc.UNKNOWN``: an input not yet known during preview."""
SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d"  # noqa: S105 - the RPC key of that signature
SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270"  # noqa: S105 - the RPC secret signature, not a secret


def known(value: Any) -> bool:
    """False for a preview-time unknown: the sentinel string or a ``pulumi.output.Unknown`` object."""
    return value != UNKNOWN and not isinstance(value, Unknown)


def plain(value: Any) -> Any:
    """Unwrap a Pulumi RPC secret (``{SECRET_SIG_KEY: SECRET_SIG, "value": v}``); other values unchanged."""
    if isinstance(value, dict) and value.get(SECRET_SIG_KEY) == SECRET_SIG:
        return value.get("value")
    return value


def plain_props(props: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``props`` with every top-level secret unwrapped (what a provider method works on)."""
    return {key: plain(value) for key, value in props.items()}


class SecretConfiguredProvider(ResourceProvider):
    """A provider configured from one secret stack config key, which is never pickled into state.

    Subclasses set :attr:`secret_config_key` (``"harbor-cache:adminPassword"``) and read :attr:`secret`
    (empty when the stack has no such key; say :meth:`how_to_set_secret` in the error). The instance holds
    nothing but the secret, set once in ``configure``, so it may be shared by the engine's worker threads.
    """

    secret_config_key: ClassVar[str]
    config_value_example: ClassVar[str] = "<value>"
    """How the value is given on the ``pulumi config set`` command line, for the hint."""
    _secret: str = ""

    def configure(self, req: ConfigureRequest) -> None:
        """Read :attr:`secret_config_key` from the stack's config (decrypted by the engine)."""
        value = req.config.get(self.secret_config_key)
        self._secret = str(value) if value else ""

    @property
    def secret(self) -> str:
        """The configured secret, or ``""`` when the stack does not set it."""
        return self._secret

    def how_to_set_secret(self) -> str:
        """The command that configures the secret, for error messages."""
        return f"run `pulumi config set --secret {self.secret_config_key} {self.config_value_example}`"

    def __getstate__(self) -> dict[str, Any]:
        # Pickling guard: nothing on the instance is state, the secret in particular must never be pickled.
        return {}

    def __setstate__(self, state: dict[str, Any]) -> None:
        # States written by older layouts carry an empty dict (or nothing); there is nothing to restore.
        pass
