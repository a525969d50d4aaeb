"""The cache report after real pulls through the sandbox (issue 17), and Harbor's metrics with a ServiceMonitor.

One private sandbox (HARBOR_CACHE_E2E_SUBNET, else 10.243) and one stack with two upstreams (the sandbox's
first registry, project mif, and its generic registry, project generic), a storage quota and
``harbor.metrics.enabled`` (``serviceMonitor: auto``, with a stand-in ServiceMonitor CRD in the cluster, so the
program's discovery lookup finds it): ``pulumi up``, a second image pushed to the upstream, pulls through the
cache on two nodes and through the second upstream's project, then ``python -m components.report e2e --json``
(a separate process reading the stack with the pulumi CLI, as a person would) must count exactly those pulls
(the manifest GETs the pull path logged), the images' bytes and the quota, per upstream; the JSON follows
docs/report.schema.json. The Harbor API is the double, which learns pulls from the pull path's log
(docs/harbor-double.md, rows C1-C6).
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
from pulumi import automation as auto

from lab.paths import ROOT
from lab.project import ssh_keypair
from lab.sandbox import Sandbox
from lab.testbed import IMAGE_REPO, IMAGE_TAG
from lab.testbed.image import build_oci_image
from lab.testbed.upstreams import SANDBOX_UPSTREAMS
from tests.support.requirements import require_engine, require_root
from tests.support.sandboxes import admin_password, private_spec, program_stack

pytestmark = pytest.mark.engine

STACK = "e2e"
GENERIC = SANDBOX_UPSTREAMS[1]  # a second upstream (docker-registry adapter) with its own project
OTHER_REPO = "quickstart/other"
LIMIT = 64 * 1024 * 1024
SCHEMA = json.loads((ROOT / "docs" / "report.schema.json").read_text())
MANIFEST_TYPES = "application/vnd.oci.image.manifest.v1+json,application/vnd.docker.distribution.manifest.v2+json"
# A stand-in for the Prometheus Operator's CRD: only its name and version matter to the discovery lookup and to
# the API server storing the chart's ServiceMonitor.
SERVICE_MONITOR_CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": "servicemonitors.monitoring.coreos.com"},
    "spec": {"group": "monitoring.coreos.com", "scope": "Namespaced",
             "names": {"plural": "servicemonitors", "singular": "servicemonitor", "kind": "ServiceMonitor"},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                 "type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]},
}


@dataclass
class Run:
    box: Sandbox
    stack: auto.Stack
    work: Path
    env: dict[str, str]

    def report(self, *args: str) -> subprocess.CompletedProcess[str]:
        """The report as a person runs it: its own process, in the project directory."""
        return subprocess.run([sys.executable, "-m", "components.report", STACK, *args], cwd=self.work,
                              env={**os.environ, **self.env, "PYTHONPATH": str(self.work)}, capture_output=True,
                              text=True, timeout=300, check=False)

    def report_json(self) -> dict[str, Any]:
        done = self.report("--json")
        assert done.returncode == 0, done.stderr
        data: dict[str, Any] = json.loads(done.stdout)
        jsonschema.validate(data, SCHEMA)
        return data


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    require_engine()
    require_root()
    base = tmp_path_factory.mktemp("report")
    private_key, public_key = ssh_keypair(base)
    password = admin_password("report")
    spec = private_spec(base, "10.243", password, public_key)
    box = Sandbox(spec)
    st: auto.Stack | None = None
    try:
        box.up()
        crd = base / "servicemonitor-crd.json"
        crd.write_text(json.dumps(SERVICE_MONITOR_CRD))
        box.kube.kubectl("apply", "-f", str(crd))
        box.kube.kubectl("wait", "--for=condition=Established", "crd/servicemonitors.monitoring.coreos.com")
        values = box.stack_values("e2e", nodes=2)
        values["proxyProject"]["storageLimitBytes"] = LIMIT
        values["harbor"]["metrics"] = {"enabled": True, "serviceMonitorLabels": {"release": "prometheus"}}
        values["upstreams"] = [{"name": "generic", "type": "docker-registry", "insecure": True,
                                "url": GENERIC.url(spec.host_addr), "project": GENERIC.name}]
        program = program_stack(base, STACK, "report e2e copy", values,
                                {"adminPassword": password, "upstreamSecretKey": "report-" + secrets.token_hex(8),
                                 "sshPrivateKey": private_key})
        st = program.stack
        st.up(on_output=lambda _line: None)
        yield Run(box, st, program.work, program.env)
    finally:
        try:
            if st is not None:
                st.destroy(on_output=lambda _line: None)
                st.workspace.remove_stack(STACK, force=True)
        finally:
            box.down()


def _push(box: Sandbox, base: Path, repo: str, payload: bytes) -> None:
    layout = base / repo.replace("/", "_")
    build_oci_image(layout, IMAGE_TAG, payload)
    subprocess.run(["skopeo", "copy", "--insecure-policy", "--dest-tls-verify=false", f"oci:{layout}:{IMAGE_TAG}",
                    f"docker://{box.spec.host_addr}:5000/{repo}:{IMAGE_TAG}"], check=True, capture_output=True,
                   timeout=120)


def _image_bytes(box: Sandbox, repo: str, port: int = 5000) -> int:
    """Manifest + config + layers of the upstream's image, as Harbor sizes an artifact."""
    resp = requests.get(f"http://{box.spec.host_addr}:{port}/v2/{repo}/manifests/{IMAGE_TAG}",
                        headers={"Accept": MANIFEST_TYPES}, timeout=10)
    resp.raise_for_status()
    manifest = resp.json()
    return len(resp.content) + int(manifest["config"]["size"]) + sum(int(x["size"]) for x in manifest["layers"])


def _manifest_gets(log: list[dict[str, str]], project: str = "mif") -> Counter[str]:
    """Repositories whose manifest a node GOT (200) through ``project``: Harbor's pulls."""
    found: Counter[str] = Counter()
    for r in log:
        repo, sep, _ = r["path"].removeprefix(f"/v2/{project}/").partition("/manifests/")
        if r["method"] == "GET" and r["status"] == "200" and r["path"].startswith(f"/v2/{project}/") and sep:
            found[repo] += 1
    return found


def _top(upstream: dict[str, Any]) -> dict[str, int]:
    return {i["repository"]: i["pull_count"] for i in upstream["top_images"]}


def test_report_counts_the_pulls_the_nodes_made(run: Run, tmp_path: Path) -> None:
    box = run.box
    before = run.report_json()
    (mif,) = [u for u in before["upstreams"] if u["project"] == "mif"]
    assert mif["hosts"] == [f"{box.spec.host_addr}:5000"] and mif["registry"]["type"] == "docker-registry"
    assert mif["storage"]["limit_bytes"] == LIMIT
    hello_before = _top(mif).get(IMAGE_REPO, 0)  # the program's own verification pull, if any

    _push(box, tmp_path, OTHER_REPO, b"another image\n")
    other = f"{box.spec.host_addr}:5000/{OTHER_REPO}:{IMAGE_TAG}"
    started = time.time()
    gets: Counter[str] = Counter()  # what was pulled, judged by the pull path's own access log
    for node, image in (("node1", None), ("node2", None), ("node2", other), ("node1", other)):
        served, log = box.pulled_through_cache(node, image)  # the image is forgotten first, the log cleared
        assert served, log
        gets.update(_manifest_gets(log))
    finished = time.time()
    # A node that still holds the manifest only resolves the tag (HEAD): no pull, in Harbor as in the double.
    assert gets[OTHER_REPO] >= 1 and gets[IMAGE_REPO] >= 1, gets

    after = run.report_json()
    (mif,) = [u for u in after["upstreams"] if u["project"] == "mif"]
    assert _top(mif) == {IMAGE_REPO: hello_before + gets[IMAGE_REPO], OTHER_REPO: gets[OTHER_REPO]}
    ranked = sorted(_top(mif).items(), key=lambda kv: (-kv[1], kv[0]))
    assert [i["repository"] for i in mif["top_images"]] == [k for k, _ in ranked]  # most pulled first
    assert (mif["repositories"], mif["artifacts"], mif["pulls"]) == (2, 2, hello_before + sum(gets.values()))
    expected = _image_bytes(box, IMAGE_REPO) + _image_bytes(box, OTHER_REPO)
    assert mif["storage"] == {"used_bytes": expected, "limit_bytes": LIMIT}
    last = time.mktime(time.strptime(mif["last_pull_time"][:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    assert started - 1 <= last <= finished + 1
    assert mif["last_pull_time"] == max(i["last_pull_time"] for i in mif["top_images"])

    text = run.report()
    assert text.returncode == 0, text.stderr
    assert f"project mif: {box.spec.host_addr}:5000 <- docker-registry" in text.stdout
    assert "repositories 2, artifacts 2" in text.stdout and f"{IMAGE_REPO}" in text.stdout
    assert box.spec.admin_password not in text.stdout + text.stderr


def test_a_wrong_passphrase_fails_with_one_line_naming_the_setting(run: Run) -> None:
    bad = subprocess.run([sys.executable, "-m", "components.report", STACK], cwd=run.work,
                         env={**os.environ, **run.env, "PYTHONPATH": str(run.work),
                              "PULUMI_CONFIG_PASSPHRASE": "not-the-passphrase"},
                         capture_output=True, text=True, timeout=120, check=False)
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.startswith("harbor-cache report: pulumi could not read")


def test_metrics_on_and_a_service_monitor_because_the_crd_exists(run: Run) -> None:
    monitors = json.loads(run.box.kube.kubectl("get", "servicemonitors", "-n", "harbor", "-o", "json").stdout)
    (monitor,) = monitors["items"]
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    services = json.loads(run.box.kube.kubectl("get", "services", "-n", "harbor", "-o", "json").stdout)["items"]
    assert any(p.get("name") == "http-metrics" for s in services for p in s["spec"].get("ports", []))


def test_each_upstream_is_reported_with_its_own_project(run: Run) -> None:
    box = run.box
    generic_image = f"{box.spec.host_addr}:{GENERIC.port}/{GENERIC.repo}:{IMAGE_TAG}"
    served, log = box.pulled_through_cache("node2", generic_image, project=GENERIC.name)
    assert served, log
    gets = _manifest_gets(log, GENERIC.name)
    report = run.report_json()
    by_project = {u["project"]: u for u in report["upstreams"]}
    assert set(by_project) == {"mif", GENERIC.name}
    generic = by_project[GENERIC.name]
    assert generic["hosts"] == [f"{box.spec.host_addr}:{GENERIC.port}"]
    assert generic["registry"]["type"] == "docker-registry" and generic["registry"]["name"] == "generic"
    assert (generic["repositories"], generic["artifacts"]) == (1, 1)
    # Its image is byte for byte the bed's test image, which node2 already holds: containerd then only resolves
    # the tag (HEAD) and GETs no manifest, which Harbor does not count as a pull. The count follows the log.
    assert _top(generic) == {GENERIC.repo: gets[GENERIC.repo]}
    assert any(r["path"].startswith(f"/v2/{GENERIC.name}/{GENERIC.repo}/manifests/") and r["status"] == "200"
               for r in log)
    assert generic["storage"]["used_bytes"] == _image_bytes(box, GENERIC.repo, GENERIC.port)
    assert OTHER_REPO in _top(by_project["mif"]) and GENERIC.repo not in _top(by_project["mif"])
