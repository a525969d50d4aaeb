"""What an engine test asks of a stack beyond the Automation API's own answers."""

from __future__ import annotations

from pulumi import automation as auto


def preview_steps(stack: auto.Stack, output: list[str]) -> dict[str, list[str]]:
    """The preview's steps: operation -> resource names (`same` left out). The dynamic providers' default
    provider takes the stack's config, so a settings change updates it (never a replace: asserted here)."""
    steps: dict[str, list[str]] = {}

    def record(event: auto.EngineEvent) -> None:
        pre = event.resource_pre_event
        if pre is None or pre.metadata.op.value == "same":
            return
        if pre.metadata.type == "pulumi:providers:pulumi-python":
            assert pre.metadata.op.value == "update", pre.metadata
            return
        steps.setdefault(pre.metadata.op.value, []).append(pre.metadata.urn.split("::")[-1])

    stack.preview(on_event=record, on_output=output.append)
    return {op: sorted(names) for op, names in steps.items()}
