"""Run the rewrite ClusterPolicy built by the program through the real Kyverno engine (`kyverno test`).

The suite folders beside this file hold Pods and expected results but no policy: each test copies them to a
temporary folder, writes `build_rewrite_policy(SUITE_SPEC)` (or a deliberately broken variant) as policy.yaml
into every test folder, and runs the Kyverno CLI built by `scripts/build-tools kyverno` into
`$HARBOR_CACHE_TOOLS/kyverno-<KYVERNO_VERSION>/bin/kyverno`. With CI=true a missing CLI fails the test.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.rewrite_policy import (
    AUTOGEN_ANNOTATION,
    RULE_CONTAINERS,
    RULE_EPHEMERAL_CONTAINERS,
    RULE_INIT_CONTAINERS,
    RewritePolicySpec,
    build_rewrite_policy,
    image_regex,
)
from lab.paths import read_versions, tools_root
from tests.support.requirements import require

SUITE = Path(__file__).parent
ECR = "255250787067.dkr.ecr.ap-northeast-2.amazonaws.com"
SUITE_SPEC = RewritePolicySpec(
    upstream_hosts=(ECR, "registry.internal.example:5000"),
    harbor_prefix="harbor.example.com:8443/mif",
)

# (rule, namespace/name) -> the reason kyverno must report: "Ok" (rule ran and the result matched, patched
# resource included) or "Excluded" (no rule matched the resource). kyverno counts Excluded as a pass whatever
# result was expected, so this table is what makes the excluded cases falsifiable.
EXPECTED_ROWS: dict[tuple[str, str], str] = {
    (RULE_CONTAINERS, "default/ecr-tag"): "Ok",
    (RULE_CONTAINERS, "default/ecr-digest"): "Ok",
    (RULE_CONTAINERS, "default/with-init"): "Ok",
    (RULE_CONTAINERS, "default/port-host"): "Ok",
    (RULE_INIT_CONTAINERS, "default/with-init"): "Ok",
    (RULE_INIT_CONTAINERS, "default/ecr-tag"): "Ok",
    (RULE_INIT_CONTAINERS, "default/port-host"): "Ok",
    (RULE_CONTAINERS, "default/look-alikes"): "Ok",
    (RULE_CONTAINERS, "default/already-harbor"): "Ok",
    (RULE_INIT_CONTAINERS, "default/already-harbor"): "Ok",
    (RULE_CONTAINERS, "kube-system/system-pod"): "Excluded",
    (RULE_INIT_CONTAINERS, "kube-system/system-pod"): "Excluded",
    (RULE_CONTAINERS, "harbor/harbor-core"): "Excluded",
    (RULE_CONTAINERS, "default/web"): "Excluded",
    (RULE_INIT_CONTAINERS, "default/web"): "Excluded",
    (RULE_EPHEMERAL_CONTAINERS, "default/debug-target"): "Ok",
    (RULE_EPHEMERAL_CONTAINERS, "default/debug-port-digest"): "Ok",
    (RULE_EPHEMERAL_CONTAINERS, "default/debug-harbor"): "Ok",
    (RULE_EPHEMERAL_CONTAINERS, "kube-system/debug-system"): "Excluded",
    (RULE_CONTAINERS, "default/debug-target"): "Excluded",
}


def kyverno_binary() -> Path | None:
    """The pinned Kyverno CLI in the tool cache, or None when it is not built (no `.done` marker)."""
    version = read_versions()["KYVERNO_VERSION"]
    folder = tools_root() / f"kyverno-{version}"
    binary = folder / "bin" / "kyverno"
    return binary if (folder / ".done").exists() and binary.is_file() else None


@pytest.fixture(scope="module")
def kyverno() -> Path:
    """The Kyverno CLI; missing skips (fails in CI)."""
    binary = kyverno_binary()
    version = read_versions()["KYVERNO_VERSION"]
    require([] if binary else [f"Kyverno CLI {version} in {tools_root()}/kyverno-{version}/bin"],
            "the Kyverno suite", "run scripts/build-tools kyverno")
    assert binary is not None
    return binary


@dataclass
class SuiteRun:
    """One `kyverno test` run: exit code, raw output and the result rows it printed."""

    returncode: int
    output: str
    rows: list[dict[str, Any]]

    def problems(self) -> list[str]:
        """Everything wrong with the run, measured against EXPECTED_ROWS; empty when the policy is right."""
        found: list[str] = []
        if self.returncode != 0:
            found.append(f"kyverno test exited {self.returncode}")
        if "0 tests failed" not in self.output:
            found.append("kyverno test reported failures")
        seen: dict[tuple[str, str], str] = {}
        for row in self.rows:
            key = (row["RULE"], "/".join(row["RESOURCE"].split("/")[-2:]))
            seen[key] = f"{row['RESULT']}/{row['REASON']}"
            if row["RESULT"] != "Pass":
                found.append(f"{key}: {row['RESULT']} ({row['REASON']}): {row.get('Message', '')}")
        for key, reason in EXPECTED_ROWS.items():
            if seen.get(key) != f"Pass/{reason}":
                found.append(f"{key}: expected Pass/{reason}, got {seen.get(key, 'no row')}")
        found += [f"{key}: unexpected row" for key in seen.keys() - EXPECTED_ROWS.keys()]
        return found


def _json_arrays(text: str) -> list[dict[str, Any]]:
    """The rows of every JSON array `kyverno test -o json` printed between its progress lines."""
    decoder = json.JSONDecoder()
    rows: list[dict[str, Any]] = []
    index = 0
    while (start := text.find("\n[", index)) != -1:
        value, index = decoder.raw_decode(text, start + 1)
        rows += value
    return rows


def run_suite(kyverno: Path, policy: dict[str, Any], workdir: Path) -> SuiteRun:
    """Copy the suite into workdir, write `policy` into each test folder and run `kyverno test` on it."""
    suite = workdir / "suite"
    shutil.copytree(SUITE, suite, ignore=shutil.ignore_patterns("*.py", "__pycache__", "policy.yaml"))
    # The webhook match conditions are the API server's to evaluate (tests/e2e/test_admission.py), and the 1.19
    # CLI dereferences a nil cluster client when a policy has any (pkg/validation/policy Validate), so the CLI
    # gets the policy without them; the rules' own `exclude` keeps the namespaces' cases covered here.
    policy = copy.deepcopy(policy)
    policy["spec"].get("webhookConfiguration", {}).pop("matchConditions", None)
    for test_file in suite.rglob("kyverno-test.yaml"):
        (test_file.parent / "policy.yaml").write_text(yaml.safe_dump(policy, sort_keys=False))
    proc = subprocess.run(
        [str(kyverno), "test", str(suite), "--detailed-results", "--output-format", "json"],
        capture_output=True, text=True, timeout=300, check=False,
    )
    output = proc.stdout + proc.stderr
    return SuiteRun(proc.returncode, output, _json_arrays(proc.stdout))


def test_builder_policy_passes_suite(kyverno: Path, tmp_path: Path) -> None:
    run = run_suite(kyverno, build_rewrite_policy(SUITE_SPEC), tmp_path)
    assert run.problems() == [], run.output
    assert run.returncode == 0


def _autogen_on(policy: dict[str, Any]) -> None:
    """The seed's shape: strategic-merge patches, no ephemeral rule, autogen annotation absent.

    (Kyverno 1.19 never autogenerates from JSON6902 patches or `Pod/<subresource>` kinds, so deleting the
    annotation alone would change nothing.)
    """
    del policy["metadata"]["annotations"][AUTOGEN_ANNOTATION]
    policy["spec"]["rules"] = policy["spec"]["rules"][:2]
    for rule in policy["spec"]["rules"]:
        foreach = rule["mutate"]["foreach"][0]
        field = foreach["list"].rsplit(".", 1)[1]
        value = foreach.pop("patchesJson6902").split("value: ", 1)[1].strip().strip('"')
        foreach["patchStrategicMerge"] = {"spec": {field: [{"name": "{{ element.name }}", "image": value}]}}


def _seed_regex(policy: dict[str, Any]) -> None:
    """The seed's regex: unanchored, dots unescaped, no trailing slash."""
    text = json.dumps(policy).replace(json.dumps(image_regex(SUITE_SPEC.upstream_hosts))[1:-1],
                                      ECR + "|registry.internal.example:5000")
    policy.clear()
    policy.update(json.loads(text))


def _no_exclusions(policy: dict[str, Any]) -> None:
    for rule in policy["spec"]["rules"]:
        rule.pop("exclude", None)


def _rewrite_existing_ephemeral(policy: dict[str, Any]) -> None:
    rule = policy["spec"]["rules"][2]
    rule["mutate"]["foreach"][0]["preconditions"]["all"].pop()


def _drop_ephemeral_rule(policy: dict[str, Any]) -> None:
    policy["spec"]["rules"].pop()


def _all_operations(policy: dict[str, Any]) -> None:
    for rule in policy["spec"]["rules"]:
        del rule["match"]["any"][0]["resources"]["operations"]


@pytest.mark.parametrize(("breakage", "symptom"), [
    (_autogen_on, "('autogen-rewrite-containers', 'default/web')"),
    (_seed_regex, "('rewrite-containers', 'default/look-alikes')"),
    (_no_exclusions, "('rewrite-containers', 'kube-system/system-pod')"),
    (_rewrite_existing_ephemeral, "('rewrite-ephemeral-containers', 'default/debug-target')"),
    (_drop_ephemeral_rule, "('rewrite-ephemeral-containers', 'default/debug-target')"),
    (_all_operations, "('rewrite-containers', 'default/debug-target')"),
])
def test_suite_catches_broken_policy(
    kyverno: Path, tmp_path: Path, breakage: Callable[[dict[str, Any]], None], symptom: str,
) -> None:
    policy = copy.deepcopy(build_rewrite_policy(SUITE_SPEC))
    breakage(policy)
    problems = run_suite(kyverno, policy, tmp_path).problems()
    assert any(p.startswith(symptom) for p in problems), f"{breakage.__name__} not caught: {problems}"
