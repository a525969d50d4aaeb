"""The real engine, our language host, a Python dynamic provider and the Kubernetes provider work together."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.engine import copy_program, engine_env, stack
from lab.kube import LocalKube
from tests.support.requirements import require_engine

pytestmark = pytest.mark.engine
PROGRAM = Path(__file__).parent / "smoke_program"


def test_up_preview_refresh_destroy(tmp_path: Path, local_kube: LocalKube) -> None:
    require_engine()
    from pulumi import automation as auto

    backend = tmp_path / "state"
    backend.mkdir()
    work = copy_program(PROGRAM, tmp_path / "program")
    st = stack(work, "smoke", engine_env(backend))
    st.set_config("kubeconfig", auto.ConfigValue(str(local_kube.kubeconfig_path)))
    out: list[str] = []
    try:
        up = st.up(on_output=out.append)
        assert up.summary.result == "succeeded", "\n".join(out)
        assert up.summary.resource_changes == {"create": 4}, up.summary.resource_changes
        cm = json.loads(local_kube.kubectl("get", "configmap", "engine-smoke", "-n", "default", "-o", "json").stdout)
        assert cm["data"]["value"] == "hello"
        assert cm["data"]["digest"] == up.outputs["digest"].value
        st.preview(expect_no_changes=True, on_output=out.append)
        st.refresh(expect_no_changes=True, on_output=out.append)
        st.set_config("message", auto.ConfigValue("changed"))
        changed = st.up(on_output=out.append)
        # The Echo updates in place; pulumi-kubernetes replaces a ConfigMap whose data changes (immutable by default).
        assert changed.summary.resource_changes == {"update": 1, "replace": 1, "same": 2}, \
            changed.summary.resource_changes
        cm = json.loads(local_kube.kubectl("get", "configmap", "engine-smoke", "-n", "default", "-o", "json").stdout)
        assert cm["data"]["value"] == "changed"
    finally:
        destroyed = st.destroy(on_output=out.append)
        st.workspace.remove_stack("smoke")
    assert destroyed.summary.result == "succeeded"
    gone = local_kube.kubectl("get", "configmap", "engine-smoke", "-n", "default", check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr
