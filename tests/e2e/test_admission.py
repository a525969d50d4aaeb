"""The image rewrite through a live API server: the program's ClusterPolicy (components/rewrite_policy.py) served
by Kyverno's real admission controller (the ``kyverno`` fixture), which the local kube-apiserver calls as its
mutating webhook; Pods made by kube-controller-manager from a Deployment, bare Pods and ``pods/ephemeralcontainers``
updates are checked as the API server stored them.

The Kyverno CLI suite (tests/kyverno) stays the fast tier for the rewrite's cases; this tier proves the webhook
path: registration, readiness, the failure policies with Kyverno down.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.rewrite_policy import FailurePolicy, RewritePolicySpec, build_rewrite_policy
from lab.controllers.kyverno_admission import RESOURCE_MUTATING_WEBHOOK, KyvernoAdmission, crd_name
from lab.engine import copy_program, engine_env, stack
from lab.kube import LocalKube, crd_files
from lab.kube.crds import KYVERNO_ADMISSION
from lab.paths import ROOT
from tests.support.requirements import require_engine

pytestmark = pytest.mark.engine
PROGRAM = Path(__file__).parent / "rewrite_program"

UPSTREAM = "registry.upstream.test:5000"
ECR = "123456789012.dkr.ecr.eu-west-1.amazonaws.com"
HARBOR = "harbor.cache.test:30002/mif"
DIGEST = "sha256:" + "ab" * 32
APPS, HARBOR_NS, SKIPPED = "apps", "harbor", "batch-skip"
SPEC = RewritePolicySpec(upstream_hosts=(UPSTREAM, ECR), harbor_prefix=HARBOR, harbor_namespace=HARBOR_NS,
                         excluded_namespaces=("kube-system", SKIPPED))


class Cluster:
    """kubectl on the session's API server, with manifests written to a temporary folder."""

    def __init__(self, kube: LocalKube, tmp: Path) -> None:
        self.kube, self.tmp, self._n = kube, tmp, 0

    def _file(self, obj: dict[str, Any]) -> str:
        self._n += 1
        path = self.tmp / f"{self._n}.json"
        path.write_text(json.dumps(obj))
        return str(path)

    def apply(self, obj: dict[str, Any]) -> None:
        self.kube.kubectl("apply", "--server-side", "--force-conflicts", "-f", self._file(obj))

    def create(self, obj: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
        """(the object as stored, '') or (None, the API server's refusal)."""
        done = self.kube.kubectl("create", "-o", "json", "-f", self._file(obj), check=False)
        return (json.loads(done.stdout), "") if done.returncode == 0 else (None, done.stderr)

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any]:
        ns = ["-n", namespace] if namespace else []
        return dict(json.loads(self.kube.kubectl("get", kind, name, *ns, "-o", "json").stdout))

    def policy(self, failure_policy: FailurePolicy) -> dict[str, Any]:
        """Apply the program's policy with this failure policy; return it once Kyverno reports it Ready for its
        generation and its rules are in the webhook of that failure policy."""
        spec = dataclasses.replace(SPEC, failure_policy=failure_policy)
        self.apply(build_rewrite_policy(spec))
        deadline = time.monotonic() + 60
        while True:
            policy = self.get("clusterpolicy", SPEC.name)
            conditions = policy.get("status", {}).get("conditions", [])
            cond: dict[str, Any] = next((c for c in conditions if c["type"] == "Ready"), {})
            ready = cond.get("status") == "True"
            if ready and cond.get("observedGeneration", policy["metadata"]["generation"]) \
                    == policy["metadata"]["generation"] and self.webhook_for_pods(failure_policy):
                return policy
            if time.monotonic() > deadline:
                raise AssertionError(f"the policy is not Ready with {failure_policy}: {policy.get('status')}")
            time.sleep(0.5)

    def webhook_for_pods(self, failure_policy: str) -> dict[str, Any] | None:
        """Kyverno's resource mutating webhook of this failure policy, when it has the Pod rules."""
        config = self.get("mutatingwebhookconfiguration", RESOURCE_MUTATING_WEBHOOK)
        for hook in config.get("webhooks") or []:
            resources = {r for rule in hook.get("rules") or [] for r in rule.get("resources") or []}
            if hook.get("failurePolicy") == failure_policy and {"pods", "pods/ephemeralcontainers"} <= resources:
                return dict(hook)
        return None


def pod(name: str, namespace: str, images: list[str], init: list[str] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]}
    if init:
        spec["initContainers"] = [{"name": f"i{i}", "image": image} for i, image in enumerate(init)]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": namespace}, "spec": spec}


def images(obj: dict[str, Any], field: str = "containers") -> list[str]:
    return [c["image"] for c in obj["spec"].get(field) or []]


@pytest.fixture(scope="module")
def cluster(local_kube: LocalKube, kyverno: KyvernoAdmission, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[Cluster]:
    """The program's policy (failure policy Ignore) Ready in Kyverno, and the test namespaces."""
    c = Cluster(local_kube, tmp_path_factory.mktemp("admission"))
    for ns in (APPS, HARBOR_NS, SKIPPED):
        c.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}})
    c.policy("Ignore")
    yield c
    kyverno.start()
    local_kube.kubectl("delete", "clusterpolicy", SPEC.name, "--ignore-not-found")
    for ns in (APPS, HARBOR_NS, SKIPPED):
        local_kube.kubectl("delete", "namespace", ns, "--wait=false", "--ignore-not-found")


def test_kyverno_registers_itself_and_reports_the_policy_ready(cluster: Cluster, kyverno: KyvernoAdmission) -> None:
    policy = cluster.get("clusterpolicy", SPEC.name)
    (ready,) = [c for c in policy["status"]["conditions"] if c["type"] == "Ready"]
    assert (ready["status"], ready["reason"]) == ("True", "Succeeded")
    assert policy["status"]["rulecount"]["mutate"] == 3
    hook = cluster.webhook_for_pods("Ignore")
    assert hook is not None and hook["clientConfig"]["url"].startswith(f"https://{kyverno.server}/mutate")
    assert hook["clientConfig"]["caBundle"]  # Kyverno's own CA, from the Secret it made in its namespace
    assert hook["matchConditions"] == policy["spec"]["webhookConfiguration"]["matchConditions"]
    assert cluster.get("secret", "kyverno-svc.kyverno.svc.kyverno-tls-ca", "kyverno")["data"]["tls.crt"]


def test_kyverno_has_the_crds_it_watches(cluster: Cluster) -> None:
    """start() applies only the CRDs the cluster lacks, by the name it reads from each file's name."""
    served = set(cluster.kube.kubectl("get", "crd", "-o", "name").stdout.split())
    for path in crd_files((KYVERNO_ADMISSION,)):
        with open(path) as crd:
            name = next(line.split(":", 1)[1].strip() for line in crd if line.startswith("  name:"))
        assert crd_name(path) == name
        assert f"customresourcedefinition.apiextensions.k8s.io/{name}" in served


def test_a_deployment_yields_a_pod_with_rewritten_images(cluster: Cluster) -> None:
    template = pod("unused", APPS, [f"{UPSTREAM}/team/app:1.0", "docker.io/library/busybox:1.37",
                                    f"{HARBOR}/team/cached:2", f"{ECR}/base/image@{DIGEST}"],
                   init=[f"{UPSTREAM}/team/init:0.1", "quay.io/other/tool:3"])
    deployment = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": APPS},
                  "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "web"}},
                           "template": {"metadata": {"labels": {"app": "web"}}, "spec": template["spec"]}}}
    cluster.apply(deployment)
    deadline = time.monotonic() + 90
    while not (pods := json.loads(cluster.kube.kubectl("get", "pods", "-n", APPS, "-l", "app=web",
                                                       "-o", "json").stdout)["items"]):
        assert time.monotonic() < deadline, "kube-controller-manager made no Pod for the Deployment"
        time.sleep(0.5)
    (stored,) = pods
    assert stored["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
    assert images(stored) == [f"{HARBOR}/team/app:1.0", "docker.io/library/busybox:1.37",
                              f"{HARBOR}/team/cached:2", f"{HARBOR}/base/image@{DIGEST}"]
    assert images(stored, "initContainers") == [f"{HARBOR}/team/init:0.1", "quay.io/other/tool:3"]
    # autogen is off: the Deployment keeps the images as written
    assert images(cluster.get("deployment", "web", APPS)["spec"]["template"])[0] == f"{UPSTREAM}/team/app:1.0"


def test_ephemeral_containers_are_rewritten_once(cluster: Cluster) -> None:
    created, refusal = cluster.create(pod("debug-me", APPS, ["docker.io/library/nginx:1"]))
    assert created is not None, refusal

    def add(*containers: tuple[str, str]) -> dict[str, Any]:
        current = cluster.get("pod", "debug-me", APPS)["spec"].get("ephemeralContainers") or []
        body = {"spec": {"ephemeralContainers": [*current, *({"name": n, "image": i} for n, i in containers)]}}
        done = cluster.kube.kubectl("patch", "pod", "debug-me", "-n", APPS, "--subresource=ephemeralcontainers",
                                    "--type=merge", "-p", json.dumps(body), "-o", "json")
        return dict(json.loads(done.stdout))

    first = add(("debug", f"{UPSTREAM}/tools/debug:1"))
    assert images(first, "ephemeralContainers") == [f"{HARBOR}/tools/debug:1"]
    second = add(("shell", "docker.io/library/busybox:1.37"), ("trace", f"{ECR}/tools/trace:2"))
    assert images(second, "ephemeralContainers") == [
        f"{HARBOR}/tools/debug:1", "docker.io/library/busybox:1.37", f"{HARBOR}/tools/trace:2"]
    assert images(cluster.get("pod", "debug-me", APPS)) == ["docker.io/library/nginx:1"]


@pytest.mark.parametrize("namespace", [HARBOR_NS, SKIPPED])
def test_excluded_namespaces_are_left_alone(cluster: Cluster, namespace: str) -> None:
    created, refusal = cluster.create(pod("left-alone", namespace, [f"{UPSTREAM}/team/app:1.0"],
                                          init=[f"{ECR}/base/init:1"]))
    assert created is not None, refusal
    assert images(created) == [f"{UPSTREAM}/team/app:1.0"]
    assert images(created, "initContainers") == [f"{ECR}/base/init:1"]


def test_webhook_down_with_ignore_admits_pods_unchanged(cluster: Cluster, kyverno: KyvernoAdmission) -> None:
    kyverno.kill()
    try:
        created, refusal = cluster.create(pod("while-down", APPS, [f"{UPSTREAM}/team/app:1.0"]))
        assert created is not None, refusal
        assert images(created) == [f"{UPSTREAM}/team/app:1.0"]
        assert cluster.webhook_for_pods("Ignore") is not None  # still registered: the API server did call it
    finally:
        kyverno.start()
    back, refusal = cluster.create(pod("after-restart", APPS, [f"{UPSTREAM}/team/app:1.0"]))
    assert back is not None, refusal
    assert images(back) == [f"{HARBOR}/team/app:1.0"]


def test_webhook_down_with_fail_refuses_pods(cluster: Cluster, kyverno: KyvernoAdmission) -> None:
    cluster.policy("Fail")
    try:
        up, refusal = cluster.create(pod("fail-up", APPS, [f"{UPSTREAM}/team/app:1.0"]))
        assert up is not None, refusal
        assert images(up) == [f"{HARBOR}/team/app:1.0"]
        kyverno.kill()
        refused, message = cluster.create(pod("fail-down", APPS, [f"{UPSTREAM}/team/app:1.0"]))
        assert refused is None
        # the policy's own webhook (it has match conditions), as Kyverno named and registered it
        assert f'failed calling webhook "mutate.kyverno.svc-fail-finegrained-{SPEC.name}"' in message, message
        assert f"https://{kyverno.server}/mutate/fail/finegrained/{SPEC.name}" in message, message
        # Harbor's namespace (and the other excluded ones) never wait for Kyverno, even with Fail
        for namespace in (HARBOR_NS, SKIPPED):
            excluded, refusal = cluster.create(pod("fail-down", namespace, [f"{UPSTREAM}/team/app:1.0"]))
            assert excluded is not None, refusal
            assert images(excluded) == [f"{UPSTREAM}/team/app:1.0"]
    finally:
        kyverno.start()
        cluster.policy("Ignore")


def test_the_component_awaits_the_policy_kyverno_reports_ready(
        cluster: Cluster, kyverno: KyvernoAdmission, tmp_path: Path) -> None:
    """`pulumi up` of ImageRewrite (components/kyverno.py) returns once Kyverno reports its policy Ready (the
    component awaits condition=Ready), and the policy then rewrites; `destroy` removes it from Kyverno's webhook."""
    require_engine()
    from pulumi import automation as auto

    backend = tmp_path / "state"
    backend.mkdir()
    work = copy_program(PROGRAM, tmp_path / "program")
    shutil.copytree(ROOT / "components", work / "components", ignore=shutil.ignore_patterns("__pycache__"))
    st = stack(work, "rewrite", engine_env(backend))
    name = "stack-image-rewrite"
    for key, value in (("kubeconfig", str(cluster.kube.kubeconfig_path)), ("upstream", "registry.stack.test"),
                       ("harborPrefix", "harbor.stack.test/cache"), ("policyName", name)):
        st.set_config(key, auto.ConfigValue(value))
    out: list[str] = []
    try:
        up = st.up(on_output=out.append)
        assert up.summary.result == "succeeded", "\n".join(out)
        assert up.outputs["policyName"].value == name
        policy = cluster.get("clusterpolicy", name)
        (ready,) = [c for c in policy["status"]["conditions"] if c["type"] == "Ready"]
        assert (ready["status"], ready["reason"]) == ("True", "Succeeded")
        created, refusal = cluster.create(pod("from-stack", APPS, ["registry.stack.test/team/app:1"]))
        assert created is not None, refusal
        assert images(created) == ["harbor.stack.test/cache/team/app:1"]
    finally:
        destroyed = st.destroy(on_output=out.append)
        st.workspace.remove_stack("rewrite")
    assert destroyed.summary.result == "succeeded", "\n".join(out)
    deadline = time.monotonic() + 60
    while True:  # Kyverno takes the policy out of its webhook: new Pods are no longer rewritten
        after, refusal = cluster.create(pod(f"after-destroy-{int(time.monotonic())}", APPS,
                                            ["registry.stack.test/team/app:1"]))
        assert after is not None, refusal
        if images(after) == ["registry.stack.test/team/app:1"]:
            break
        assert time.monotonic() < deadline, "the destroyed policy still rewrites"
        time.sleep(1)
