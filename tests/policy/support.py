"""Calling policies the way the engine does (PULUMI.md 3.4), without the CLI."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

STACK = "dev"


def _opts(secret_outputs: Sequence[str] = ()) -> PolicyResourceOptions:
    return PolicyResourceOptions(protect=False, ignore_changes=[], delete_before_replace=None, aliases=[],
                                 custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
                                 additional_secret_outputs=list(secret_outputs))


def urn(resource_type: str, name: str = "x", stack: str = STACK) -> str:
    return f"urn:pulumi:{stack}::harbor-cache::{resource_type}::{name}"


def run_resource_policy(policy: ResourceValidationPolicy, resource_type: str, props: dict[str, Any],
                        config: dict[str, Any] | None = None, *, secret_outputs: Sequence[str] = (),
                        stack: str = STACK) -> list[str]:
    """Violations `policy` reports for one resource (props proxied as pulumi-policy does)."""
    proxied = unknown_checking_proxy(props)
    args = ResourceValidationArgs(resource_type, proxied, urn(resource_type, "x", stack), "x",
                                  _opts(secret_outputs), None, config=config)
    found: list[str] = []

    def report(message: str, _urn: str | None = None) -> None:
        found.append(message)

    policy.validate(args, report)
    return found


@dataclass
class Res:
    """A resource for a stack policy: type token, Pulumi name and (output) props."""

    type: str
    name: str
    props: dict[str, Any]
    secret_outputs: list[str] = field(default_factory=list)


def run_stack_policy(policy: StackValidationPolicy, resources: Sequence[Res],
                     config: dict[str, Any] | None = None) -> list[tuple[str | None, str]]:
    """(urn, message) pairs `policy` reports for the stack."""
    items = [PolicyResource(r.type, unknown_checking_proxy(r.props), urn(r.type, r.name), r.name,
                            _opts(r.secret_outputs), None, None, [], {}) for r in resources]
    found: list[tuple[str | None, str]] = []

    def report(message: str, violation_urn: str | None = None) -> None:
        found.append((violation_urn, message))

    policy.validate(StackValidationArgs(items, config), report)
    return found
