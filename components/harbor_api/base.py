"""What every Harbor provider shares: configuration, a client per call, check/diff from the schema,
create-or-adopt (safe to retry: components/harbor_api/writes.py), and delete with the hint for Harbor's 412.

Credentials: the Harbor admin password comes only from ``configure`` (the secret stack config
``harbor-cache:adminPassword``, decrypted in the provider process) and is never pickled
(components/dynamic.py). Provider instances are shared by the engine's four worker threads: after ``configure``
nothing on ``self`` changes, and each call builds its own :class:`HarborClient`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, ClassVar

from pulumi.dynamic import CheckResult, DiffResult

from components.dynamic import SecretConfiguredProvider, plain, plain_props
from components.harbor_api.client import HarborClient
from components.harbor_api.diagnosis import CORE_LOG
from components.harbor_api.endpoint import HarborEndpoint
from components.harbor_api.errors import (
    HarborConfigError,
    HarborConflictError,
    HarborError,
    HarborPreconditionFailedError,
)
from components.harbor_api.schema import Checker, Schema
from components.harbor_api.setting_names import ADMIN_PASSWORD, ADMIN_USER, Settings
from components.harbor_api.writes import Explain, create_once

PASSWORD_CONFIG_KEY = ADMIN_PASSWORD
UNAUTHORIZED_HINT = (
    f"Harbor did not accept the admin password: check the stack secret {ADMIN_PASSWORD} "
    f"(`pulumi config set --secret {ADMIN_PASSWORD} <password>`; it must be the password Harbor has now, "
    f"which a change in Harbor's UI does not update) and the user {ADMIN_USER}; nothing was retried"
)


class HarborProvider(SecretConfiguredProvider):
    """Base of the Harbor providers: ``check`` and ``diff`` come from :attr:`schema`.

    A subclass sets the class attributes (:attr:`settings`: components/harbor_api/setting_names.py), adds its
    cross-input rules in :meth:`refine`, and implements create, read and update (delete too, when more than a
    DELETE is needed).
    """

    secret_config_key = PASSWORD_CONFIG_KEY
    config_value_example = "<password>"
    schema: ClassVar[Schema]
    settings: ClassVar[Settings]
    path: ClassVar[str]
    """The collection in Harbor's API (``/registries``); an object is ``{path}/{id}``."""
    noun: ClassVar[str]
    """What the object is called in messages (``"registry"``)."""
    in_use_hint: ClassVar[str]
    """What to do when Harbor refuses (412) to delete the object because something still uses it."""

    def check(self, _olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        checker = self.schema.check(news, self.settings_for(news))
        self.refine(checker)
        return checker.result()

    def settings_for(self, news: Mapping[str, Any]) -> Settings:
        """The stack settings the inputs came from (a project's depend on its kind)."""
        return self.settings

    def refine(self, c: Checker) -> None:
        """Rules across inputs, after each input was checked on its own."""

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return self.schema.diff(olds, news)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        props = plain_props(props)
        operation = f"delete {self.noun} '{props.get('name', id_)}'"
        delete_explaining_412(self.client(props), f"{self.path}/{int(id_)}", operation, self.in_use_hint)

    def client(self, props: Mapping[str, Any]) -> HarborClient:
        """A client for the ``harbor`` input of ``props``, as the admin."""
        if not self.secret:
            raise HarborConfigError(f"the Harbor admin password is not configured: {self.how_to_set_secret()}")
        return HarborClient(
            HarborEndpoint.from_dict(plain(props["harbor"])), self.secret, unauthorized_hint=UNAUTHORIZED_HINT
        )

    def ready_client(self, props: Mapping[str, Any]) -> HarborClient:
        """A client for a write that may come right after Harbor was installed: waits for /health first."""
        client = self.client(props)
        if client.endpoint.ready_timeout > 0:
            client.wait_until_ready(client.endpoint.ready_timeout)
        return client


def _generic_explain(_exc: Any) -> str:
    return CORE_LOG


def create_or_adopt(
    noun: str,
    name: str,
    find: Callable[[], Mapping[str, Any] | None],
    create: Callable[[Callable[[], int | None]], tuple[int, bool]],
    *,
    id_key: str = "id",
    adoptable: Callable[[Mapping[str, Any]], str | None] | None = None,
) -> tuple[int, bool]:
    """Look up, create when absent, and on 409 (created meanwhile) look up again: the id, and whether it existed.

    ``create(find_id)`` sends the POST (with :func:`~components.harbor_api.writes.create_once`, which calls
    ``find_id`` after an unconfirmed outcome). An object found that way was created by this call: it is not
    "adopted". An object that already exists is adopted unless ``adoptable`` says why it cannot be (another
    kind of object under the same name); the caller then brings it to the inputs.
    """

    def find_id() -> int | None:
        found = find()
        return None if found is None else int(found[id_key])

    existing = find()
    if existing is None:
        try:
            oid, _found_after_unconfirmed = create(find_id)
            return oid, False
        except HarborConflictError:
            existing = find()
            if existing is None:
                raise
    problem = adoptable(existing) if adoptable is not None else None
    if problem:
        raise HarborError(f"create {noun} '{name}': {problem}")
    return int(existing[id_key]), True


def create_or_adopt_listed(
    client: HarborClient,
    path: str,
    noun: str,
    name: str,
    body: Any,
    *,
    adoptable: Callable[[Mapping[str, Any]], str | None] | None = None,
    explain: Explain = _generic_explain,
    timeout: float | None = None,
) -> tuple[int, bool]:
    """:func:`create_or_adopt` for a list endpoint (``/registries``, ``/replication/policies``): found by name,
    created with ``body``. The caller brings an adopted object to its inputs."""
    operation = f"create {noun} '{name}'"
    return create_or_adopt(
        noun,
        name,
        lambda: client.find_by_name(path, name, f"look up {noun} '{name}'"),
        lambda find_id: create_once(
            client, path, body, operation, find=find_id, explain=explain, timeout=timeout
        ),
        adoptable=adoptable,
    )


def delete_explaining_412(client: HarborClient, path: str, operation: str, hint: str) -> None:
    """DELETE ``path`` (already gone is success); Harbor's 412 gets ``hint``: what still depends on it."""
    try:
        client.delete(path, operation)
    except HarborPreconditionFailedError as exc:
        raise exc.with_hint(hint) from None


def as_int(value: Any) -> int | None:
    """``int(value)``, None for None."""
    return None if value is None else int(value)
