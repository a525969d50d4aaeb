"""The rewrite policy for several upstreams, through the real Kyverno engine (`kyverno apply`): each upstream's
references go to its own project, and Docker Hub's spellings (short names, docker.io/<name>, index.docker.io) get
`library/` for official images (issue 17)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from components import specs
from components.rewrite_policy import build_rewrite_policy
from components.settings import validate
from tests.kyverno.test_kyverno_suite import kyverno  # noqa: F401 - the CLI fixture
from tests.unit.test_upstreams_settings import ECR_HOST, SECRETS, three

PREFIX = "10.0.0.11:30002"
CASES = {
    "nginx:1.27": f"{PREFIX}/hub/library/nginx:1.27",
    "nginx": f"{PREFIX}/hub/library/nginx",
    "docker.io/nginx:1.27": f"{PREFIX}/hub/library/nginx:1.27",
    "index.docker.io/nginx@sha256:" + "a" * 64: f"{PREFIX}/hub/library/nginx@sha256:" + "a" * 64,
    "docker.io/library/nginx:1.27": f"{PREFIX}/hub/library/nginx:1.27",
    "bitnami/redis:7": f"{PREFIX}/hub/bitnami/redis:7",
    "docker.io/bitnami/redis:7": f"{PREFIX}/hub/bitnami/redis:7",
    "quay.io/org/tool:2": f"{PREFIX}/quay/org/tool:2",
    "registry.k8s.io/pause:3.10": f"{PREFIX}/quay/pause:3.10",
    f"{ECR_HOST}/team/app:1": f"{PREFIX}/mif/team/app:1",
    "localhost/app:1": "localhost/app:1",
    "localhost:5000/app:1": "localhost:5000/app:1",
    "ghcr.io/org/app:1": "ghcr.io/org/app:1",
    f"{PREFIX}/hub/library/nginx:1.27": f"{PREFIX}/hub/library/nginx:1.27",
}


def test_each_upstream_goes_to_its_own_project(kyverno: Path, tmp_path: Path) -> None:  # noqa: F811
    settings = validate({**three(), "imageRewrite": {"enabled": True}}, SECRETS)
    policy: dict[str, Any] = build_rewrite_policy(specs.rewrite_spec(settings))
    # The 1.19 CLI dereferences a nil cluster client on webhook match conditions (the API server's to evaluate).
    policy["spec"].get("webhookConfiguration", {}).pop("matchConditions", None)
    (tmp_path / "policy.yaml").write_text(yaml.safe_dump(policy, sort_keys=False))
    images = list(CASES)
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "many", "namespace": "default"},
           "spec": {"containers": [{"name": f"c{i}", "image": image} for i, image in enumerate(images)]}}
    (tmp_path / "pod.yaml").write_text(yaml.safe_dump(pod))
    proc = subprocess.run([str(kyverno), "apply", "policy.yaml", "--resource", "pod.yaml", "-o", "out.yaml"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (patched,) = [d for d in yaml.safe_load_all((tmp_path / "out.yaml").read_text()) if d]
    got = {images[int(c["name"][1:])]: c["image"] for c in patched["spec"]["containers"]}
    assert got == CASES
