"""The cache report's pure parts: which projects the stack's outputs name, the text form, the JSON schema.

Against the Harbor double: tests/provider/test_report.py; against the sandbox after real pulls:
tests/e2e/test_report.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from components.report.render import human_bytes, render_text
from components.report.stack import CacheTarget, ReportError, targets_from_outputs, view_from_outputs

SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "docs" / "report.schema.json").read_text())


def test_many_upstream_outputs_group_hosts_by_project() -> None:
    outputs = {"imagePrefixes": {"docker.io": "10.0.0.11:30003/hub", "ghcr.io": "10.0.0.11:30003/ghcr",
                                 "registry-1.docker.io": "10.0.0.11:30003/hub"},
               "imagePrefix": "10.0.0.11:30003/hub", "upstreamRegistry": "docker.io"}
    assert targets_from_outputs(outputs) == (CacheTarget("hub", ("docker.io", "registry-1.docker.io")),
                                             CacheTarget("ghcr", ("ghcr.io",)))


def test_single_upstream_outputs_of_today() -> None:
    outputs = {"imagePrefix": "10.0.0.11:30003/mif", "upstreamRegistry": "1234.dkr.ecr.eu-west-1.amazonaws.com",
               "cacheProjects": ["mif"]}
    assert targets_from_outputs(outputs) == (CacheTarget("mif", ("1234.dkr.ecr.eu-west-1.amazonaws.com",)),)
    assert targets_from_outputs({"cacheProjects": ["mif"]}) == (CacheTarget("mif", ()),)


def test_view_strips_the_api_path_and_keeps_the_ca_for_https_only() -> None:
    outputs = {"apiUrl": "https://h:30003/api/v2.0", "cacheProjects": ["mif"], "caCertificate": "PEM",
               "adminUser": "admin"}
    view = view_from_outputs("s", outputs)
    assert (view.api_url, view.ca_pem, view.admin_user) == ("https://h:30003", "PEM", "admin")
    assert view_from_outputs("s", {**outputs, "apiUrl": "http://h:30002/api/v2.0"}).ca_pem is None
    assert view_from_outputs("s", outputs, api_url="http://127.0.0.1:1").api_url == "http://127.0.0.1:1"


@pytest.mark.parametrize(("outputs", "needle"), [
    ({"cacheProjects": ["mif"]}, "no apiUrl output"),
    ({"apiUrl": "http://h/api/v2.0", "cacheProjects": []}, "names no proxy-cache project"),
])
def test_outputs_without_what_the_report_needs(outputs: dict[str, Any], needle: str) -> None:
    with pytest.raises(ReportError, match=needle):
        view_from_outputs("s", outputs)


SAMPLE: dict[str, Any] = {
    "schema_version": 1, "stack": "dev", "harbor": "https://h:30003", "generated_at": "2026-12-02T10:00:00.000Z",
    "upstreams": [{
        "project": "mif", "hosts": ["1234.dkr.ecr.eu-west-1.amazonaws.com"],
        "registry": {"name": "upstream-ecr", "type": "aws-ecr", "url": "https://1234.dkr.ecr.eu-west-1.amazonaws.com"},
        "repositories": 2, "artifacts": 3, "pulls": 5, "storage": {"used_bytes": 3 * 1024 * 1024, "limit_bytes": 2**30},
        "last_pull_time": "2026-12-02T09:59:00.000Z",
        "top_images": [{"repository": "app/web", "pull_count": 4, "artifacts": 2,
                        "last_pull_time": "2026-12-02T09:59:00.000Z"},
                       {"repository": "app/db", "pull_count": 1, "artifacts": 1, "last_pull_time": None}]}],
}


def test_the_sample_follows_the_schema_and_the_schema_refuses_what_it_should() -> None:
    jsonschema.validate(SAMPLE, SCHEMA)
    broken = json.loads(json.dumps(SAMPLE))
    broken["upstreams"][0]["storage"]["used_bytes"] = -1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)
    broken = json.loads(json.dumps(SAMPLE))
    broken["upstreams"][0]["last_pull_time"] = "yesterday"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


def test_text_form() -> None:
    text = render_text(SAMPLE)
    assert "project mif: 1234.dkr.ecr.eu-west-1.amazonaws.com <- aws-ecr https://1234" in text
    assert "repositories 2, artifacts 3, pulls 5" in text
    assert "storage 3.0 MiB of 1.0 GiB (0.3%)" in text
    assert "app/web       4 pulls  last 2026-12-02T09:59:00.000Z" in text
    assert "app/db        1 pulls  last never" in text
    assert [human_bytes(n) for n in (0, 1023, 1536, 5 * 2**40)] == ["0 B", "1023 B", "1.5 KiB", "5.0 TiB"]
