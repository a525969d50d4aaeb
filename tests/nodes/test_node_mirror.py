"""Node tests: real sshd + containerd (1.6 and 2.x) in namespaces, through the real script and provider.

A pull is judged by where the bytes came from (the Harbor-shaped nginx log and the upstream log), never by
its success alone: containerd silently falls back to the upstream ``server``.
"""

from __future__ import annotations

import datetime
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from components.containerd import NodeMirrorSpec, harbor_authority
from components.node_ssh import NodeContainerdConfigProvider, NodePullCheckProvider
from components.ssh import NodeError
from lab.testbed import IMAGE_REPO, PROJECT, Node, Testbed, crictl_bin
from tests.support.node_cases import http_spec, https_spec, node_of, node_props

pytestmark = pytest.mark.nodes
FLAVORS = ["1.6", "2"]
CRI_V2 = 'plugins."io.containerd.grpc.v1.cri"'
CRI_V3 = "plugins.'io.containerd.cri.v1.images'"
CERTS_LIST = "/etc/containerd/certs.d:/etc/docker/certs.d"


def outs_of(result: Any) -> dict[str, Any]:
    """A provider result's outputs (never None for these calls)."""
    assert result.outs is not None
    return dict(result.outs)


def config_variants(node: Node) -> dict[str, str | None]:
    """Starting config.toml files: stock default, no registry table, config_path already set, empty, none."""
    stock = node.stock_config()
    version, plugin = ("2", CRI_V2) if node.flavor == "1.6" else ("3", CRI_V3)
    return {
        "stock": stock,
        "no-registry-table": f"version = {version}\n\n# a comment\n[{plugin}]\n"
                             "  max_concurrent_downloads = 2\n",
        "has-config-path": stock.replace('config_path = ""', 'config_path = "/etc/containerd/certs.d"')
                                .replace("config_path = ''", "config_path = '/etc/containerd/certs.d'"),
        "has-config-path-list": stock.replace('config_path = ""', f'config_path = "{CERTS_LIST}"')
                                     .replace("config_path = ''", f"config_path = '{CERTS_LIST}'"),
        "empty": "",
        "missing": None,
    }


def pull(bed: Testbed, node: Node, image: str | None = None) -> None:
    """crictl pull through the node's CRI (default: by the upstream name); it must succeed."""
    bed.clear_logs()
    result = node.crictl("pull", image or bed.image_ref())
    assert result.returncode == 0, result.stderr


def harbor_image(bed: Testbed, spec: NodeMirrorSpec) -> str:
    """The test image by Harbor's own name (as the Kyverno rewrite names it): ``<harbor>[:port]/<project>/...``."""
    return bed.image_ref(f"{harbor_authority(spec)}/{PROJECT}")


def containerd_log_size(node: Node) -> int:
    """Where the node's containerd log ends now (to read only what a step adds)."""
    return (node.path / "containerd.log").stat().st_size


def containerd_log_since(node: Node, offset: int) -> str:
    """What the node's containerd logged since ``offset``."""
    with (node.path / "containerd.log").open("rb") as log:
        log.seek(offset)
        return log.read().decode(errors="replace")


def other_ca_pem() -> str:
    """A CA that did not sign the bed's Harbor certificate."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "not the Harbor CA")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def assert_served_by_mirror(bed: Testbed, node: Node) -> None:
    """Every byte came through the Harbor project path; the node never asked the upstream."""
    mine = [r for r in bed.harbor_requests() if r["client"] == node.addr]
    answered = [r for r in mine if r["status"] != "401"]  # 401: the token challenge before the retry
    manifests = [r for r in answered if r["path"].startswith(f"/v2/{PROJECT}/{IMAGE_REPO}/manifests/")]
    blobs = [r for r in answered if r["path"].startswith(f"/v2/{PROJECT}/{IMAGE_REPO}/blobs/")]
    assert manifests and all(r["status"] == "200" for r in manifests), mine
    assert len(blobs) >= 2 and all(r["status"] == "200" for r in blobs), mine  # config + layer
    assert not [r for r in mine if "/v2/" in r["path"][4:]], "a doubled /v2 path reached Harbor"
    assert bed.upstream_requests(client=node.addr) == [], "the node pulled from the upstream directly"


def effective_config_path(node: Node) -> str:
    """config_path as the node's containerd reads it (``containerd config dump``)."""
    dump = node.sh("/usr/bin/containerd config dump").stdout
    table, found = "", []
    for line in (raw.strip() for raw in dump.splitlines()):
        if line.startswith("["):
            table = line
        elif line.startswith("config_path") and table.endswith(".registry]"):  # the CRI registry table
            found.append(line.split("=", 1)[1].strip().strip("'\""))
    assert len(found) == 1, found
    return found[0]


def snapshot(node: Node) -> dict[str, bytes]:
    """Every file under the node's /etc/containerd plus its /etc/hosts, for byte-for-byte comparisons."""
    files = {str(p.relative_to(node.path)): p.read_bytes()
             for p in sorted((node.path / "etc-containerd").rglob("*")) if p.is_file()}
    files["etc-hosts"] = (node.path / "etc-hosts").read_bytes()
    return files


# ------------------------------------------------------------------------------------------ pulls

@pytest.mark.parametrize("flavor", FLAVORS)
def test_pull_goes_through_mirror_http(
        bed: Testbed, provider: NodeContainerdConfigProvider, flavor: str) -> None:
    node = node_of(bed, flavor)
    node.reset(node.stock_config())
    outs = outs_of(provider.create(node_props(node, http_spec(bed))))
    assert outs["restarted"] is True and outs["containerd_version"].startswith(flavor.split(".")[0])
    pull(bed, node)
    assert_served_by_mirror(bed, node)
    provider.delete(node.name, outs)


@pytest.mark.parametrize("flavor", FLAVORS)
def test_pull_goes_through_mirror_https_with_ca_and_hosts_entry(
        bed: Testbed, provider: NodeContainerdConfigProvider, flavor: str) -> None:
    node = node_of(bed, flavor)
    node.reset(node.stock_config())
    outs = outs_of(provider.create(node_props(node, https_spec(bed))))
    assert f"{bed.host_addr} harbor.test # harbor-cache" in (node.path / "etc-hosts").read_text()
    ca = node.path / "etc-containerd" / "certs.d" / "harbor.test:8443" / "ca.crt"
    assert ca.read_text().strip() == bed.ca_pem.strip()
    pull(bed, node)
    assert_served_by_mirror(bed, node)
    provider.delete(node.name, outs)
    assert "harbor.test" not in (node.path / "etc-hosts").read_text()


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("flavor", FLAVORS)
def test_pull_by_harbor_name_reads_harbors_hosts_toml(
        bed: Testbed, provider: NodeContainerdConfigProvider, flavor: str, scheme: str) -> None:
    """Issue 19: Harbor's own hosts.toml needs a [host] table. containerd 1.6 rejects a file without one
    ("invalid `host` tree") and falls back to ``https://<name>`` with the directory's *.crt files: over HTTPS
    the ca.crt beside it still saves the pull, over HTTP the pull goes to the TLS scheme and fails."""
    node = node_of(bed, flavor)
    node.reset(node.stock_config())
    spec = https_spec(bed) if scheme == "https" else http_spec(bed)
    outs = outs_of(provider.create(node_props(node, spec)))
    offset = containerd_log_size(node)
    pull(bed, node, harbor_image(bed, spec))
    assert_served_by_mirror(bed, node)
    assert "failed to decode hosts.toml" not in containerd_log_since(node, offset)
    provider.delete(node.name, outs)


@pytest.mark.parametrize("flavor", FLAVORS)
def test_wrong_ca_falls_back_to_the_upstream_unseen(
        bed: Testbed, provider: NodeContainerdConfigProvider, flavor: str) -> None:
    """Negative control: with a CA that does not match, the pull by the upstream name still succeeds, but from
    the upstream (why a successful pull proves nothing); by Harbor's name there is no fallback, so it fails."""
    node = node_of(bed, flavor)
    node.reset(node.stock_config())
    spec = replace(https_spec(bed), ca_pem=other_ca_pem())
    outs = outs_of(provider.create(node_props(node, spec)))
    pull(bed, node)
    mine = [r for r in bed.harbor_requests() if r["client"] == node.addr]
    assert not [r for r in mine if r["status"] == "200" and "/blobs/" in r["path"]], mine
    assert bed.upstream_requests(client=node.addr), "the fallback should have pulled from the upstream"
    bed.clear_logs()
    assert node.crictl("pull", harbor_image(bed, spec)).returncode != 0
    provider.delete(node.name, outs)


@pytest.mark.parametrize("flavor", FLAVORS)
def test_override_path_false_is_not_served_by_mirror(
        bed: Testbed, provider: NodeContainerdConfigProvider, flavor: str) -> None:
    """The seed's bug, kept as a regression test: the pull 'succeeds', but straight from the upstream."""
    node = node_of(bed, flavor)
    node.reset(node.stock_config())
    spec = http_spec(bed)
    files = dict(node_props(node, spec)["files"])
    key = next(k for k in files if k.startswith("123456789012"))
    files[key] = files[key].replace("override_path = true", "override_path = false")
    outs = outs_of(provider.create(node_props(node, spec, files=files)))
    pull(bed, node)
    mine = [r for r in bed.harbor_requests() if r["client"] == node.addr]
    assert any(r["path"].startswith(f"/v2/{PROJECT}/v2/") and r["status"] == "404" for r in mine), mine
    assert not [r for r in mine if r["status"] == "200" and "/blobs/" in r["path"]]
    assert bed.upstream_requests(client=node.addr), "the fallback should have pulled from the upstream"
    provider.delete(node.name, outs)


# ------------------------------------------------------------------------------------------ config.toml

@pytest.mark.parametrize("variant", ["stock", "no-registry-table", "has-config-path", "has-config-path-list",
                                     "empty", "missing"])
@pytest.mark.parametrize("flavor", FLAVORS)
def test_config_variants_converge_idempotent_and_restore(
        bed: Testbed, provider: NodeContainerdConfigProvider, flavor: str, variant: str) -> None:
    node = node_of(bed, flavor)
    original = config_variants(node)[variant]
    node.reset(original)
    before = snapshot(node)
    props = node_props(node, http_spec(bed))

    outs = outs_of(provider.create(props))
    list_kept = variant == "has-config-path-list" and flavor == "1.6"  # 1.x CRI splits the list itself
    assert effective_config_path(node) == (CERTS_LIST if list_kept else "/etc/containerd/certs.d")
    text = node.config_text() or ""
    table = f"[{CRI_V2}.registry]" if flavor == "1.6" else f"[{CRI_V3.replace(chr(39), chr(34))}.registry]"
    assert text.replace("'", '"').count(table) == 1, text
    if variant == "has-config-path" or list_kept:
        assert outs["config_action"] == "unchanged" and outs["restarted"] is False
        assert text == original
    elif variant == "has-config-path-list":  # 2.x pulls through the transfer service: one directory only
        assert outs["config_action"] == "set" and any("list" in w for w in outs["warnings"])
    else:
        assert outs["config_action"] == "set" and outs["restarted"] is True
    assert node.containerd_running()
    pull(bed, node)
    assert_served_by_mirror(bed, node)

    again = outs_of(provider.update(node.name, outs, props))
    assert again["changed"] == [] and again["restarted"] is False
    assert outs_of(provider.read(node.name, again))["in_sync"] is True

    provider.delete(node.name, again)
    assert snapshot(node) == before, "remove must restore /etc/containerd and /etc/hosts byte for byte"
    assert node.config_text() == original
    assert not (node.path / "harbor-cache-state").exists()
    assert node.containerd_running()


@pytest.mark.parametrize("flavor", FLAVORS)
def test_mirrors_table_conflict_is_reported_and_nothing_changes(
        bed: Testbed, provider: NodeContainerdConfigProvider, flavor: str) -> None:
    node = node_of(bed, flavor)
    plugin = CRI_V2 if flavor == "1.6" else CRI_V3
    version = "2" if flavor == "1.6" else "3"
    original = (f"version = {version}\n\n[{plugin}.registry.mirrors.\"docker.io\"]\n"
                "  endpoint = [\"https://mirror.example\"]\n")
    node.reset(original)
    before = snapshot(node)
    with pytest.raises(NodeError, match=r"node1|node3") as err:
        provider.create(node_props(node, http_spec(bed)))
    assert "mirrors" in str(err.value) and node.name in str(err.value)
    assert snapshot(node) == before


# ------------------------------------------------------------------------------------------ failures

@pytest.mark.parametrize("flavor", FLAVORS)
def test_bad_restart_rolls_back_and_containerd_keeps_running(
        bed: Testbed, provider: NodeContainerdConfigProvider, flavor: str) -> None:
    node = node_of(bed, flavor)
    original = node.stock_config()
    node.reset(original)
    (node.path / "fail-next-restart").touch()  # the first restart stops containerd and fails
    props = node_props(node, http_spec(bed))
    with pytest.raises(NodeError, match="rolled back") as err:
        provider.create(props)
    assert node.name in str(err.value) and node.addr in str(err.value)
    assert node.config_text() == original
    assert node.containerd_running()
    provider.delete(node.name, props)  # take the hosts.toml files away again
    assert node.config_text() == original
    assert not (node.path / "etc-containerd" / "certs.d").exists()


def test_unreachable_node_fails_with_its_name_while_others_converge(
        bed: Testbed, provider: NodeContainerdConfigProvider) -> None:
    spec = http_spec(bed)
    for node in bed.nodes:
        node.reset(node.stock_config())
    ghost = {**node_props(bed.nodes[0], spec), "node": "ghost", "host": bed.unreachable_addr()}
    ghost["host_key"] = None
    jobs = [node_props(n, spec) for n in bed.nodes] + [ghost]

    def create(props: dict[str, Any]) -> Any:
        try:
            return outs_of(provider.create(props))
        except NodeError as exc:
            return exc

    with ThreadPoolExecutor(4) as pool:  # like the dynamic provider's gRPC server
        results = dict(zip([j["node"] for j in jobs], pool.map(create, jobs), strict=True))
    assert isinstance(results["ghost"], NodeError)
    assert "ghost" in str(results["ghost"]) and bed.unreachable_addr() in str(results["ghost"])
    for node in bed.nodes:
        outs = results[node.name]
        assert isinstance(outs, dict) and outs["restarted"] is True, outs
        assert effective_config_path(node) == "/etc/containerd/certs.d"
        provider.delete(node.name, outs)
    with pytest.raises(NodeError, match=r"ghost.*refresh keeps"):
        provider.read("ghost", ghost)


def test_pinned_host_key_mismatch_is_rejected(bed: Testbed, provider: NodeContainerdConfigProvider) -> None:
    node = bed.nodes[0]
    node.reset(node.stock_config())
    other = (bed.nodes[1].path / "ssh_host_ed25519_key.pub").read_text().strip()
    with pytest.raises(NodeError, match="host key mismatch"):
        provider.create(node_props(node, http_spec(bed), host_key=other))
    assert node.config_text() == node.stock_config()


def test_refresh_reports_drift_and_update_repairs_it(
        bed: Testbed, provider: NodeContainerdConfigProvider) -> None:
    node = bed.nodes[0]
    node.reset(node.stock_config())
    props = node_props(node, http_spec(bed))
    outs = outs_of(provider.create(props))
    hosts = next((node.path / "etc-containerd" / "certs.d").glob("123456789012*/hosts.toml"))
    hosts.write_text(hosts.read_text().replace("override_path = true", "override_path = false"))
    refreshed = provider.read(node.name, outs)
    assert outs_of(refreshed)["in_sync"] is False
    drift = outs_of(refreshed)["drift"]
    assert any(p.endswith("123456789012.dkr.ecr.test-1.amazonaws.com/hosts.toml") for p in drift)
    assert provider.diff(node.name, outs_of(refreshed), props).changes
    repaired = outs_of(provider.update(node.name, outs_of(refreshed), props))
    assert repaired["restarted"] is False and len(repaired["changed"]) == 1
    assert outs_of(provider.read(node.name, repaired))["in_sync"] is True
    provider.delete(node.name, repaired)


def test_pull_check_reports_the_pull(bed: Testbed, provider: NodeContainerdConfigProvider,
                                     pull_provider: NodePullCheckProvider) -> None:
    node = bed.nodes[0]
    node.reset(node.stock_config())
    outs = outs_of(provider.create(node_props(node, http_spec(bed))))
    bed.clear_logs()
    check = pull_provider.create({"node": node.name, "host": node.addr, "port": 22, "user": "root",
                                  "image": bed.image_ref(), "crictl": str(crictl_bin()), "trigger": "t"})
    assert outs_of(check)["ok"] is True and outs_of(check)["image_id"].startswith("sha256:")
    assert_served_by_mirror(bed, node)
    provider.delete(node.name, outs)


def test_version_2_file_on_containerd_2_is_edited_in_its_own_table(
        bed: Testbed, provider: NodeContainerdConfigProvider) -> None:
    """An upgraded node keeps a version-2 file: containerd 2.x migrates the 1.x registry table."""
    node = node_of(bed, "2")
    original = f'version = 2\n\n[{CRI_V2}.registry]\n  config_path = ""\n'
    node.reset(original)
    outs = outs_of(provider.create(node_props(node, http_spec(bed))))
    assert outs["config_version"] == 2 and outs["config_action"] == "set"
    assert node.config_text() == original.replace('""', '"/etc/containerd/certs.d"')
    assert effective_config_path(node) == "/etc/containerd/certs.d"
    pull(bed, node)
    assert_served_by_mirror(bed, node)
    provider.delete(node.name, outs)
    assert node.config_text() == original
