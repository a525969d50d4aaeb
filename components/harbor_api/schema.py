"""``Schema``: everything derived from one resource's declared inputs (components/harbor_api/fields.py).

From a ``TypedDict`` of ``Annotated[<type>, <spec>]`` values it derives the key list, ``check`` (the
:class:`Checker`), ``diff``, the inputs refresh reads back from Harbor, request bodies, the outputs and the
props and options the resource hands to the engine. Adding an input is one line in the ``TypedDict``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, Required, get_args, get_origin

import pulumi
from pulumi.dynamic import CheckFailure, CheckResult, DiffResult

from components.dynamic import known, plain, plain_props
from components.harbor_api.fields import Problem, Spec
from components.harbor_api.setting_names import Settings, label

_ABSENT: Any = object()
Options = pulumi.ResourceOptions | None
"""A resource's ``opts``."""


@dataclass(frozen=True)
class Field:
    """One declared input."""

    name: str
    spec: Spec
    required: bool


def _fields(inputs: type) -> tuple[Field, ...]:
    """The inputs of a TypedDict declared with ``Annotated[<type>, <spec>]`` values, in declaration order."""
    out: list[Field] = []
    for name, declared in inputs.__annotations__.items():
        annotation = get_args(declared)[0] if get_origin(declared) in (Required, NotRequired) else declared
        specs = [m for m in getattr(annotation, "__metadata__", ()) if isinstance(m, Spec)]
        if len(specs) != 1 or isinstance(annotation, str):
            raise TypeError(
                f"{inputs.__name__}.{name}: declare it as Annotated[<type>, <spec>] in a module without "
                "`from __future__ import annotations` (the spec is read at import time)"
            )
        out.append(Field(name, specs[0], name in getattr(inputs, "__required_keys__", ())))
    return tuple(out)


class Checker:
    """One ``check``: coerces each input, applies defaults, passes unknowns through, collects failures.

    Every failure names the stack setting the input came from (``settings``), so the message says what to fix.
    After the per-input pass, a provider adds its cross-input rules with :meth:`fail` and reads or adjusts the
    checked values in :attr:`out`.
    """

    def __init__(self, fields: Sequence[Field], news: Mapping[str, Any], settings: Settings) -> None:
        self.news = plain_props(news)
        self.settings = settings
        self.out: dict[str, Any] = {}
        self.failures: list[CheckFailure] = []
        for field in fields:
            self.out[field.name] = self._checked(field)

    def _checked(self, field: Field) -> Any:
        spec = field.spec
        value = self.news.get(field.name, _ABSENT)
        if value is _ABSENT and spec.absent is not None:
            value = spec.absent(self.news)
        if value is _ABSENT or value is None:
            if not field.required:
                value = spec.default
            else:
                self.fail(field.name, "is required" + (f" ({spec.what})" if spec.what else ""))
                return None
        if value is not None and known(value):
            value, problem = spec.validate(value, field.required)
            self.fail(field.name, problem)
        return value

    def label(self, name: str) -> str:
        """The stack setting (``harbor-cache:upstream.url``) behind input ``name``, for messages."""
        return label(self.settings, name)

    def fail(self, name: str, problem: Problem) -> None:
        """Record ``problem`` (if any) for input ``name``, naming the stack setting it came from."""
        if problem:
            self.failures.append(CheckFailure(name, f"{self.label(name)}: {problem}"))

    def known(self, *names: str) -> bool:
        """Whether every named checked value is known (not a preview-time unknown)."""
        return all(known(self.out.get(name)) for name in names)

    def result(self) -> CheckResult:
        return CheckResult(self.out, self.failures)


def _get_path(obj: Mapping[str, Any], path: str) -> Any:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    return value


def _set_path(obj: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    for part in parents:
        obj = obj.setdefault(part, {})
    obj[last] = value


class Schema:
    """A resource's inputs (from its TypedDict), its output names and the id output ``diff`` keeps stable."""

    def __init__(self, inputs: type, *, id_output: str, outputs: Sequence[str]) -> None:
        self.fields = _fields(inputs)
        self.names = tuple(f.name for f in self.fields)
        self.id_output = id_output
        self.outputs = tuple(outputs)

    def check(self, news: Mapping[str, Any], settings: Settings) -> Checker:
        """The per-input checks of ``news``; the provider adds its cross-input rules to the result."""
        return Checker(self.fields, news, settings)

    def sent(self, name: str) -> bool:
        """Whether input ``name`` is written to Harbor (it has a ``harbor`` path)."""
        return any(f.name == name and f.spec.harbor is not None for f in self.fields)

    def diff(self, olds: Mapping[str, Any], news: Mapping[str, Any]) -> DiffResult:
        """Compare only our inputs (never ``__provider``); a replacement deletes first (names are unique).

        An input missing (from a state written before it was declared) counts as its default.
        """
        changed = [
            f.name
            for f in self.fields
            if plain(olds.get(f.name, f.spec.default)) != plain(news.get(f.name, f.spec.default))
        ]
        replaces = [f.name for f in self.fields if f.spec.replaces and f.name in changed]
        stables = [n for n in self.names if n not in changed and known(news.get(n))]
        if not replaces:
            stables.append(self.id_output)
        return DiffResult(
            changes=bool(changed), replaces=replaces, stables=stables, delete_before_replace=bool(replaces)
        )

    def read(self, live: Mapping[str, Any], props: Mapping[str, Any]) -> dict[str, Any]:
        """The inputs as Harbor has them (each at its ``harbor`` path); the others as the state has them."""
        inputs: dict[str, Any] = {}
        for f in self.fields:
            kept = props.get(f.name, f.spec.default)
            path = f.spec.harbor
            inputs[f.name] = kept if path is None else f.spec.from_harbor(_get_path(live, path), kept)
        return inputs

    def body(self, props: Mapping[str, Any], *, flat: bool = False) -> dict[str, Any]:
        """A request body with each input that has a ``harbor`` path at that path.

        ``flat``: Harbor's flat update shape (``RegistryUpdate``): each input under the last part of its path,
        and none that replaces the object (those cannot be updated).
        """
        body: dict[str, Any] = {}
        for f in self.fields:
            path = f.spec.harbor
            if path is None or (flat and f.spec.replaces):
                continue
            value = f.spec.to_harbor(props.get(f.name))
            if flat:
                body[path.rsplit(".", 1)[-1]] = value
            else:
                _set_path(body, path, value)
        return body

    def outs(self, inputs: Mapping[str, Any], **outputs: Any) -> dict[str, Any]:
        """The resource's outputs: every input, then ``outputs`` (each of :attr:`outputs`)."""
        return {**{n: inputs.get(n) for n in self.names}, **outputs}

    def resource_args(
        self, inputs: Mapping[str, Any], opts: pulumi.ResourceOptions | None
    ) -> tuple[dict[str, Any], pulumi.ResourceOptions | None]:
        """The props and options a resource registers with the engine.

        Props: every input (defaults applied, secrets wrapped) and each output as None. Options: ``opts``
        plus the secret inputs as additional secret outputs.
        """
        props: dict[str, Any] = {}
        for f in self.fields:
            value = inputs.get(f.name, _ABSENT)
            if value is _ABSENT and f.spec.absent is not None:
                value = f.spec.absent(inputs)
            if value is _ABSENT or (value is None and not f.required):
                value = f.spec.default
            props[f.name] = f.spec.to_program(value)
        secrets = [f.name for f in self.fields if f.spec.secret]
        if secrets:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(additional_secret_outputs=secrets))
        return {**props, **dict.fromkeys(self.outputs)}, opts
