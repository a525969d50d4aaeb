"""nodeVerification and the realm check against real containerd (1.6 and 2.x): the proof holds on a working
cache, and each broken link (TLS trust, token realm) fails it by name while the upstream-name pull still
succeeds from the upstream (the bypass a pull's success hides). The Harbor API is the double, answering
artifacts from the bed's proxying registry storage (what really went through the pull path)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import requests

from components.containerd import NodeMirrorSpec, harbor_authority
from components.node_ssh import NodeContainerdConfigProvider, NodePullCheckProvider
from components.realm import check_realm
from components.verification import VerificationError
from lab.harbor_double import HarborDouble
from lab.testbed import IMAGE_REPO, IMAGE_TAG, PROJECT, Node, Testbed, crictl_bin
from tests.nodes.test_node_mirror import FLAVORS, assert_served_by_mirror, other_ca_pem, outs_of
from tests.support.node_cases import http_spec, https_spec, node_of, node_props

pytestmark = pytest.mark.nodes
PW = "verification-pw"
UNREACHABLE_REALM = "http://harbor-core.harbor.svc.cluster.local/service/token"


@pytest.fixture(scope="module")
def harbor(bed: Testbed) -> Iterator[HarborDouble]:
    """The Harbor API double with a public proxy-cache project ``mif`` on the bed's upstream, its artifacts read
    from the bed's proxying registry."""
    with HarborDouble(PW) as double:
        double.set_settings(proxy_storage={PROJECT: str(bed.base / "mirror-data")})
        api, auth = f"{double.url}/api/v2.0", ("admin", PW)
        reg = requests.post(f"{api}/registries", auth=auth, timeout=10, json={
            "name": "bed-upstream", "type": "docker-registry", "url": bed.upstream_server, "insecure": True})
        assert reg.status_code == 201, reg.text
        rid = int(reg.headers["Location"].rsplit("/", 1)[1])
        proj = requests.post(f"{api}/projects", auth=auth, timeout=10, json={
            "project_name": PROJECT, "registry_id": rid, "metadata": {"public": "true"}})
        assert proj.status_code == 201, proj.text
        yield double


@pytest.fixture
def realm(bed: Testbed) -> Iterator[Testbed]:
    """The bed; its pull path announces the right realm again afterwards."""
    yield bed
    bed.set_realm(None)


def check_props(node: Node, spec: Any, api_url: str) -> dict[str, Any]:
    return {"node": node.name, "host": node.addr, "port": 22, "user": "root", "image": "",
            "crictl": str(crictl_bin()), "trigger": "t", "node_endpoint": harbor_authority(spec),
            "project": PROJECT, "api_url": api_url, "ca_pem": spec.ca_pem or ""}


def upstream_image(bed: Testbed) -> str:
    return bed.image_ref()


@pytest.mark.parametrize("flavor", FLAVORS)
def test_verification_proves_the_path_over_https(
        bed: Testbed, provider: NodeContainerdConfigProvider, pull_provider: NodePullCheckProvider,
        harbor: HarborDouble, flavor: str) -> None:
    node = node_of(bed, flavor)
    node.reset(node.stock_config())
    spec = https_spec(bed)
    outs = outs_of(provider.create(node_props(node, spec)))
    bed.clear_logs()
    check = outs_of(pull_provider.create({**check_props(node, spec, harbor.url), "image": upstream_image(bed)}))
    assert check["through_harbor"] is True and check["ok"] is True
    assert check["harbor_image"] == f"harbor.test:8443/{PROJECT}/{IMAGE_REPO}:{IMAGE_TAG}"
    link = bed.base / "mirror-data/docker/registry/v2/repositories" / IMAGE_REPO / "_manifests/tags" / IMAGE_TAG
    assert check["digest"] == (link / "current" / "link").read_text().strip()
    assert_served_by_mirror(bed, node)
    # The token dance happened, over TLS on Harbor's name: nginx logged the anonymous token fetch.
    assert any(r["path"].startswith("/service/token") and r["client"] == node.addr for r in bed.harbor_requests())
    provider.delete(node.name, outs)


@pytest.mark.parametrize("flavor", FLAVORS)
def test_wrong_ca_fails_the_verification_by_name(
        bed: Testbed, provider: NodeContainerdConfigProvider, pull_provider: NodePullCheckProvider,
        harbor: HarborDouble, flavor: str) -> None:
    """The bypass a pull's success hides: the upstream-name pull works (from the upstream), the proof fails."""
    node = node_of(bed, flavor)
    node.reset(node.stock_config())
    spec = replace(https_spec(bed), ca_pem=other_ca_pem())
    _assert_bypass_fails_the_proof(bed, node, spec, provider, pull_provider, harbor, "TLS trust")


@pytest.mark.parametrize("flavor", FLAVORS)
def test_unreachable_token_realm_is_rejected_and_fails_the_verification(
        realm: Testbed, provider: NodeContainerdConfigProvider, pull_provider: NodePullCheckProvider,
        harbor: HarborDouble, flavor: str) -> None:
    """A Harbor whose externalURL is cluster-internal: the realm check says so before any node is touched, and
    on a configured node every pull by the upstream name silently falls back while the proof fails by name."""
    bed = realm
    spec = http_spec(bed)
    endpoint = f"http://{harbor_authority(spec)}"
    assert check_realm(endpoint).level == "ok"
    bed.set_realm(UNREACHABLE_REALM)
    verdict = check_realm(endpoint)
    assert verdict.level == "fail" and verdict.realm == UNREACHABLE_REALM, verdict
    node = node_of(bed, flavor)
    node.reset(node.stock_config())
    _assert_bypass_fails_the_proof(bed, node, spec, provider, pull_provider, harbor, "token realm")


def test_api_proof_fails_when_harbor_holds_no_artifact(
        bed: Testbed, provider: NodeContainerdConfigProvider, pull_provider: NodePullCheckProvider,
        harbor: HarborDouble, tmp_path: Path) -> None:
    """The node pulled by Harbor's name from an endpoint whose project is not what Harbor's API knows (here:
    the API looks at another registry's storage): the proof says the cache was bypassed."""
    node = bed.nodes[0]
    node.reset(node.stock_config())
    spec = http_spec(bed)
    outs = outs_of(provider.create(node_props(node, spec)))
    harbor.set_settings(proxy_storage={PROJECT: str(tmp_path)})
    try:
        with pytest.raises(VerificationError, match="cache bypassed"):
            pull_provider.create({**check_props(node, spec, harbor.url), "image": upstream_image(bed)})
    finally:
        harbor.set_settings(proxy_storage={PROJECT: str(bed.base / "mirror-data")})
    provider.delete(node.name, outs)


def _assert_bypass_fails_the_proof(bed: Testbed, node: Node, spec: NodeMirrorSpec,
                                   provider: NodeContainerdConfigProvider, pull_provider: NodePullCheckProvider,
                                   harbor: HarborDouble, link: str) -> None:
    """Configure ``node``: a pull by the upstream name still works (the upstream served it, the cache was
    bypassed), and the verification fails naming ``link``; then the node is restored."""
    outs = outs_of(provider.create(node_props(node, spec)))
    bed.clear_logs()
    assert node.crictl("pull", upstream_image(bed)).returncode == 0
    assert bed.upstream_requests(client=node.addr), "the fallback should have pulled from the upstream"
    with pytest.raises(VerificationError, match=rf"by Harbor's name failed \({link}\)"):
        pull_provider.create({**check_props(node, spec, harbor.url), "image": upstream_image(bed)})
    provider.delete(node.name, outs)
