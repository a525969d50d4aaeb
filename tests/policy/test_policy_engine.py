"""The policy pack under the real engine: `pulumi preview --policy-pack policy` on a compliant stack and on a
stack with one violation per mandatory policy (tests/policy/program)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lab.engine import copy_program, engine_env, stack
from lab.kube import LocalKube
from lab.paths import ROOT
from policy.policies import POLICIES
from tests.support.requirements import require_engine

pytestmark = pytest.mark.engine
PROGRAM = Path(__file__).parent / "program"
PACK = ROOT / "policy"


def fixture_stack(tmp_path: Path, kube: LocalKube, name: str, variant: str) -> object:
    """A stack of the fixture program with its config set (file backend under tmp_path)."""
    from pulumi import automation as auto

    backend = tmp_path / "state"
    backend.mkdir(exist_ok=True)
    work = tmp_path / "program"
    if not work.exists():
        copy_program(PROGRAM, work)
    st = stack(work, name, engine_env(backend, PYTHONPATH=str(ROOT)))
    st.set_all_config({
        "variant": auto.ConfigValue(variant),
        "repo": auto.ConfigValue(str(ROOT)),
        "kubeconfig": auto.ConfigValue(str(kube.kubeconfig_path)),
        "upstreamSecretKey": auto.ConfigValue("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", secret=True),
    })
    return st


def test_compliant_stack_passes(tmp_path: Path, policy_kube: LocalKube) -> None:
    require_engine()
    st = fixture_stack(tmp_path, policy_kube, "prod", "good")
    out: list[str] = []
    result = st.preview(policy_packs=[str(PACK)], on_output=out.append)  # type: ignore[attr-defined]
    text = "\n".join(out)
    assert "Policies:" in text or "harbor-cache-guardrails" in text, text
    for policy in POLICIES:
        assert policy.name not in text, text
    assert result.change_summary.get("create", 0) > 0, text


def test_violating_stack_fails_naming_each_policy(tmp_path: Path, policy_kube: LocalKube) -> None:
    require_engine()
    from pulumi import automation as auto

    config = tmp_path / "policy-config.json"
    config.write_text(json.dumps({"production-uses-https": {"production": True}}))
    st = fixture_stack(tmp_path, policy_kube, "bad", "bad")
    out: list[str] = []
    with pytest.raises(auto.CommandError) as failure:
        st.preview(policy_packs=[str(PACK)], policy_pack_configs=[str(config)],  # type: ignore[attr-defined]
                   on_output=out.append)
    text = "\n".join(out) + str(failure.value)
    missing = [policy.name for policy in POLICIES if policy.name not in text]
    assert not missing, f"policies not reported: {missing}\n{text}"
    assert "mandatory" in text, text
    assert "Harbor12345" not in text and "wJalrXUtnFEMI" not in text
