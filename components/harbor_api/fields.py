"""Input specs: how one input of a Harbor resource is checked, read back from Harbor and written to it.

A resource declares its inputs once, as a ``TypedDict`` whose every value is ``Annotated[<type>, <spec>]``
(see ``RegistryInputs`` in components/harbor_api/registry.py). :class:`~components.harbor_api.schema.Schema`
reads the specs and derives the key list, ``check``, ``diff``, the read, the request bodies and the resource
props from them. A spec's ``validate`` is only called for a value that is known and not None.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components.dynamic import known
from components.harbor_api.endpoint import HarborEndpoint
from components.harbor_api.errors import HarborConfigError

Problem = str | None
"""What is wrong with a value (a phrase such as ``"must be >= 1, got 0"``), or None when it is fine."""


@dataclass(frozen=True, kw_only=True)
class Spec:
    """What every input spec says.

    ``default``: the value of an optional input that is omitted or None (required inputs are the TypedDict's
    required keys). ``absent``: the value of an input that is omitted altogether, from the other inputs (when it
    differs from ``default``). ``harbor``: the dotted path of the value in Harbor's object
    (``"credential.access_key"``), read back by refresh and written in request bodies; None when Harbor does not
    keep it under a path of its own (the state keeps it, or the provider maps it by hand). ``replaces``: a
    change replaces the object. ``secret``: a secret input. ``what``: said after "is required".
    """

    default: Any = None
    absent: Callable[[Mapping[str, Any]], Any] | None = None
    harbor: str | None = None
    replaces: bool = False
    secret: bool = False
    what: str = ""

    def validate(self, value: Any, required: bool) -> tuple[Any, Problem]:
        """The value as stored (coerced) and what is wrong with it."""
        return value, None

    def from_harbor(self, raw: Any, kept: Any) -> Any:
        """The input's value from Harbor's ``raw`` value (``kept``: the value in state)."""
        return self.default if raw is None else raw

    def to_harbor(self, value: Any) -> Any:
        """The value as Harbor's request body takes it."""
        return value

    def to_program(self, value: Any) -> Any:
        """The value as the resource passes it to the engine."""
        return pulumi.Output.secret(value) if self.secret else value


@dataclass(frozen=True, kw_only=True)
class Text(Spec):
    """A string: ``choices``, ``max_len`` and a ``rule`` from components/rules.py (``*_problem`` functions).

    ``blank_as_none``: an empty string means "not set". ``write_only``: Harbor never returns the value (it
    masks it), so refresh keeps the state's value while Harbor holds one, and sees its removal.
    """

    choices: tuple[str, ...] | None = None
    max_len: int | None = None
    rule: Callable[[str], Problem] | None = None
    blank_as_none: bool = False
    write_only: bool = False

    def validate(self, value: Any, required: bool) -> tuple[Any, Problem]:
        if not isinstance(value, str):
            return value, f"must be a string, got {type(value).__name__}"
        if required and not value:
            return value, "must not be empty"
        if self.choices is not None and value not in self.choices:
            return value, f"must be one of {', '.join(self.choices)}; got {value!r}"
        if self.max_len is not None and len(value) > self.max_len:
            return value, f"must be at most {self.max_len} characters"
        if self.rule is not None and value:
            return value, self.rule(value)
        if self.blank_as_none and not value:
            return None, None
        return value, None

    def from_harbor(self, raw: Any, kept: Any) -> Any:
        if self.write_only:
            return (kept or "") if raw else ""
        if self.blank_as_none:
            return raw or None
        return raw or ""


@dataclass(frozen=True, kw_only=True)
class Whole(Spec):
    """A whole number (the engine sends numbers as floats), at least ``minimum`` and at most ``maximum``.

    ``harbor_null``: what Harbor means by a null or missing value, when that is not ``default``.
    ``maximum_why``: said after the "at most" failure (what the limit is, in words).
    """

    minimum: int | None = None
    maximum: int | None = None
    maximum_why: str = ""
    harbor_null: int | None = None

    def validate(self, value: Any, required: bool) -> tuple[Any, Problem]:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or float(value) != int(value):
            return value, f"must be a whole number, got {value!r}"
        value = int(value)
        if self.minimum is not None and value < self.minimum:
            return value, f"must be >= {self.minimum}, got {value}"
        if self.maximum is not None and value > self.maximum:
            return value, f"must be <= {self.maximum}{self.maximum_why}, got {value}"
        return value, None

    def from_harbor(self, raw: Any, kept: Any) -> Any:
        if raw is None:
            return self.default if self.harbor_null is None else self.harbor_null
        return int(raw)

    def to_harbor(self, value: Any) -> Any:
        return None if value is None else int(value)


@dataclass(frozen=True, kw_only=True)
class Number(Spec):
    """A positive number (seconds, for instance)."""

    def validate(self, value: Any, required: bool) -> tuple[Any, Problem]:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
            return value, f"must be a positive number, got {value!r}"
        return value, None


@dataclass(frozen=True, kw_only=True)
class Flag(Spec):
    """true or false."""

    def validate(self, value: Any, required: bool) -> tuple[Any, Problem]:
        if not isinstance(value, bool):
            return value, f"must be true or false, got {value!r}"
        return value, None

    def from_harbor(self, raw: Any, kept: Any) -> Any:
        return bool(raw)

    def to_harbor(self, value: Any) -> Any:
        return bool(value)


@dataclass(frozen=True, kw_only=True)
class Endpoint(Spec):
    """How to reach Harbor: the dict form of a :class:`HarborEndpoint` (a ``HarborEndpoint`` in the program)."""

    what: str = "how to reach Harbor: url, or kubeconfig for the service proxy"

    def validate(self, value: Any, required: bool) -> tuple[Any, Problem]:
        if not isinstance(value, dict):
            return value, "must be an object (HarborEndpoint.to_dict())"
        if any(not known(v) for v in value.values()):
            return value, None
        try:
            return HarborEndpoint.from_dict(value).to_dict(), None
        except (HarborConfigError, TypeError) as exc:
            return value, str(exc)

    def to_program(self, value: Any) -> Any:
        return value.to_dict() if isinstance(value, HarborEndpoint) else value
