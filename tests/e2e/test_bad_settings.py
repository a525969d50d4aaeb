"""Issue 14 under the real engine: `pulumi preview` of a stack with three bad values names all three and registers
nothing but the stack itself (no cluster needed: the program stops at its settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lab.engine import engine_env, python_project, stack
from lab.project import StackFile, copy_project
from tests.support.requirements import require_engine

pytestmark = pytest.mark.engine

STACK = "bad-settings"
WEAK_PASSWORD = "harbor-cache-weak-1"  # no uppercase letter: Harbor's password rule refuses it


def _values() -> dict[str, Any]:
    return {
        "harbor": {"tlsMode": "https", "expose": {"type": "nodePort", "nodeAddress": "10.0.0.11"},
                   "storage": {"registrySize": "100GB"}},  # bad 1: not a Kubernetes quantity
        "tls": {"extraDnsNames": ["harbor.example", "harbor cache.example"]},  # bad 2: not a DNS name
        "upstream": {"url": "https://255250787067.dkr.ecr.ap-northeast-2.amazonaws.com",
                     "accessKeyId": "AKIAIOSFODNN7EXAMPLE"},
        "nodes": {"transport": "none"},
    }


def test_preview_names_every_bad_value_and_registers_nothing(tmp_path: Path) -> None:
    require_engine()
    from pulumi import automation as auto

    work = copy_project(tmp_path / "program")
    backend = tmp_path / "state"
    backend.mkdir()
    st = stack(work, STACK, engine_env(backend), python_project("harbor-cache", "issue 14 bad settings"))
    StackFile(work, STACK).set(_values())
    st.set_config("harbor-cache:adminPassword", auto.ConfigValue(WEAK_PASSWORD, secret=True))  # bad 3
    st.set_config("harbor-cache:upstreamSecretKey",
                  auto.ConfigValue("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", secret=True))
    registered: list[str] = []

    def on_event(event: Any) -> None:
        if event.resource_pre_event is not None:
            registered.append(event.resource_pre_event.metadata.type)

    output: list[str] = []
    try:
        with pytest.raises(auto.CommandError) as failed:
            st.preview(on_output=output.append, on_event=on_event)
    finally:
        st.workspace.remove_stack(STACK, force=True)
    text = str(failed.value) + "\n".join(output)
    assert "harbor-cache:harbor.storage.registrySize: '100GB' is not a Kubernetes quantity" in text, text
    assert "harbor-cache:tls.extraDnsNames[1]: 'harbor cache.example' is not a DNS name" in text, text
    assert "harbor-cache:adminPassword breaks Harbor's password rule" in text, text
    assert WEAK_PASSWORD not in text
    assert "Traceback" not in text
    assert set(registered) <= {"pulumi:pulumi:Stack"}, registered
