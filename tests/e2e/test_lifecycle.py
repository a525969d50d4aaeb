"""harbor-cache's whole lifecycle under the real engine, on a private sandbox (issue 6).

One sandbox (subnet 10.253 or the next free one, or HARBOR_CACHE_E2E_SUBNET; free loopback ports) and one
stack are shared by the module's tests, which run in file order: up -> no-change preview and second up ->
StackReference -> no plaintext secrets -> refresh drift -> settings change -> Harbor down -> unreachable node
-> destroy -> an HTTPS variant (Certificate drift, CA through a StackReference).
The Helm release is the real Harbor chart (../shared/charts), rendered into the API server with
kube-controller-manager running; what it rendered is checked on the stored objects (tests/support/chart_wiring.py).
The program runs from a temp copy of the project with a temp file backend and passphrase. Timings of the
sandbox start, up, no-change preview, refresh and destroy go to bench/e2e-timings.json.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import shutil
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from components.harbor_values import PinnedSecretNames
from lab.engine import engine_env, python_project, stack
from lab.paths import ROOT, TOOLS_BIN, harbor_chart
from lab.processes import free_port
from lab.project import StackFile, copy_project, ssh_keypair
from lab.sandbox import Sandbox, SandboxSpec
from lab.testbed import IMAGE_REPO, IMAGE_TAG
from tests.support import chart_wiring as wiring
from tests.support.lifecycle import Timings, certs_tree, containerd_pids, hosts_toml
from tests.support.requirements import require_engine, require_root
from tests.support.sandboxes import admin_password

pytestmark = pytest.mark.engine

STACK = "e2e"
SUBNETS = ("10.253", "10.254", "10.249", "10.248")  # 10.251: node tests; 10.252: a person's sandbox
TIMINGS_FILE = ROOT / "bench" / "e2e-timings.json"
READER = Path(__file__).parent / "reader_program"
NS = "harbor"
HARBORS_OWN_PROJECT = "library"  # every Harbor starts with it; the program neither makes nor removes it
INITIAL_NODES = 2  # node3 joins in the settings-change test


@dataclass
class Lifecycle:
    """The shared sandbox, stack and everything the ordered tests hand on to each other."""

    box: Sandbox
    stack: auto.Stack
    work: Path
    backend: Path
    config: StackFile
    secret_values: dict[str, str]
    timings: Timings
    original_trees: dict[str, dict[str, str]]
    output: list[str] = field(default_factory=list)
    destroyed: bool = False

    def up(self, label: str | None = None) -> auto.UpResult:
        """``pulumi up`` (timed under ``label``); fails the test with the engine's output on error."""
        try:
            if label:
                with self.timings.measure(label):
                    return self.stack.up(on_output=self.output.append)
            return self.stack.up(on_output=self.output.append)
        except auto.CommandError as exc:
            pytest.fail(f"pulumi up failed:\n{_tail(str(exc))}")

    def kube_json(self, *args: str) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.box.kube.kubectl(*args, "-o", "json").stdout)
        return result

    def node(self, name: str) -> Any:
        return next(n for n in self.box.bed.nodes if n.name == name)

    @property
    def upstream_host(self) -> str:
        return f"{self.box.spec.host_addr}:5000"


def _changes(summary: auto.UpdateSummary) -> dict[str, int]:
    """The summary's resource changes by operation name ("create", "same", ...)."""
    return {str(getattr(op, "value", op)): n for op, n in (summary.resource_changes or {}).items()}


def _tail(text: str, lines: int = 60) -> str:
    return "\n".join(text.splitlines()[-lines:])


def _free_subnet() -> str:
    """HARBOR_CACHE_E2E_SUBNET, else the first of SUBNETS whose test-bed bridge does not exist (runs coexist)."""
    chosen = os.environ.get("HARBOR_CACHE_E2E_SUBNET")
    if chosen:
        return chosen
    for subnet in SUBNETS:
        if not Path(f"/sys/class/net/hc{subnet.split('.')[1]}-br").exists():
            return subnet
    pytest.fail(f"every e2e subnet {SUBNETS} is in use by another test bed")


def _initial_values(box: Sandbox) -> dict[str, Any]:
    return box.stack_values("e2e", nodes=INITIAL_NODES)


@pytest.fixture(scope="module")
def life(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lifecycle]:
    """Sandbox up, stack configured; at the end: destroy (if a test did not), sandbox down, timings written."""
    require_engine()
    require_root()
    base = tmp_path_factory.mktemp("e2e")
    private_key, public_key = ssh_keypair(base)
    password = admin_password("e2e")
    upstream_secret = "e2e-upstream-" + secrets.token_urlsafe(16)
    spec = SandboxSpec(dir=str(base / "sandbox"), admin_password=password, subnet=_free_subnet(),
                       double_port=free_port(), control_port=free_port(), authorized_keys=[public_key])
    box = Sandbox(spec)
    timings = Timings()
    st: auto.Stack | None = None
    run: Lifecycle | None = None
    try:
        box.up()
        timings.record("sandbox_start", box.timings["start"])
        work = copy_project(base / "program")
        backend = base / "state"
        backend.mkdir()
        st = stack(work, STACK, engine_env(backend), python_project("harbor-cache", "e2e copy"))
        config = StackFile(work, STACK)
        config.set(_initial_values(box))
        for key, value in (("adminPassword", password), ("upstreamSecretKey", upstream_secret),
                           ("sshPrivateKey", private_key)):
            st.set_config(f"harbor-cache:{key}", auto.ConfigValue(value, secret=True))
        key_body = max(private_key.splitlines(), key=len)
        run = Lifecycle(box, st, work, backend, config,
                        {"admin password": password, "upstream secret key": upstream_secret,
                         "SSH private key": key_body},
                        timings, {n.name: certs_tree(n) for n in box.bed.nodes})
        yield run
    finally:
        try:
            if st is not None and run is not None and not run.destroyed:
                st.destroy(on_output=run.output.append)
            if st is not None:
                st.workspace.remove_stack(STACK, force=True)
        finally:
            box.down()
            if timings.steps:
                timings.write(TIMINGS_FILE, machine_cores=os.cpu_count(),
                              note="seconds of wall-clock time; the e2e tier's engine operations on this machine")


def _assert_chart_wiring(life: Lifecycle, namespace: str) -> None:
    """What the real chart rendered, on the stored objects: pods from kube-controller-manager (Pending), every
    reference to a pinned Secret names a key it has, RWO volumes with Recreate, no chart default password."""
    kube = life.box.kube
    kube.kubectl("wait", "-n", namespace, "deployment", "--all", "--for=jsonpath={.status.replicas}=1",
                 "--timeout=60s")
    assert {p["status"]["phase"] for p in wiring.items(kube, "pods", namespace)} == {"Pending"}
    names = PinnedSecretNames.for_release("harbor")
    pinned = {getattr(names, f) for f in PinnedSecretNames.__dataclass_fields__}
    problems, used = wiring.pinned_secret_problems(kube, namespace, pinned)
    assert not problems, problems
    assert used == pinned, f"pinned Secrets the chart does not read: {pinned - used}"
    problems = wiring.recreate_problems(kube, namespace, ("harbor-registry", "harbor-jobservice"))
    assert not problems, problems
    chart = harbor_chart(life.config.values()["harbor"]["chart"]["version"])
    problems = wiring.default_password_problems(kube, namespace, chart)
    assert not problems, problems


# ---------------------------------------------------------------------------------------------------- tests


def test_up_creates_everything(life: Lifecycle) -> None:
    result = life.up("up")
    assert result.summary.result == "succeeded"
    assert set(_changes(result.summary)) == {"create"}, _changes(result.summary)

    # Kubernetes: namespace, pinned Secrets (admin password from the stack secret), the real chart's objects.
    life.kube_json("get", "namespace", NS)
    names = {s["metadata"]["name"] for s in life.kube_json("get", "secrets", "-n", NS)["items"]}
    assert {"harbor-pinned-admin", "harbor-pinned-secret-key", "harbor-pinned-core"} <= names, names
    admin = life.kube_json("get", "secret", "harbor-pinned-admin", "-n", NS)
    assert base64.b64decode(admin["data"]["HARBOR_ADMIN_PASSWORD"]).decode() == life.box.spec.admin_password
    svc = life.kube_json("get", "service", "harbor", "-n", NS)
    assert svc["spec"]["type"] == "NodePort"
    assert [p["nodePort"] for p in svc["spec"]["ports"]] == [life.box.spec.harbor_port]
    core = life.kube_json("get", "configmap", "harbor-core", "-n", NS)
    endpoint = f"{life.box.spec.host_addr}:{life.box.spec.harbor_port}"
    assert core["data"]["EXT_ENDPOINT"] == result.outputs["harborUrl"].value == f"http://{endpoint}"
    _assert_chart_wiring(life, NS)

    # Harbor (the double): registry, proxy project on it, replica project and its pull policy.
    state = life.box.double.state()
    (registry,) = state["registries"].values()
    assert (registry["name"], registry["type"], registry["url"]) == (
        "e2e-upstream", "docker-registry", life.box.spec.upstream_url)
    projects = {p["name"]: p for p in state["projects"].values()}
    assert set(projects) - {HARBORS_OWN_PROJECT} == {"mif", "mif-replica"}
    assert projects["mif"]["registry_id"] == registry["id"]
    assert projects["mif"]["metadata"]["public"] == "true"
    (policy,) = state["policies"].values()
    assert policy["enabled"] and policy["dest_namespace"] == "mif-replica"
    assert {"type": "name", "value": "quickstart/**"} in policy["filters"]

    # Nodes: rendered hosts.toml, and a pull by the upstream name served by Harbor's path.
    for name in ("node1", "node2"):
        text = hosts_toml(life.node(name), life.upstream_host).read_text()
        assert f'[host."http://{endpoint}/v2/mif"]' in text and "override_path = true" in text, text
        ok, log = life.box.pulled_through_cache(name)
        assert ok, f"{name} did not pull through Harbor's path: {log}"
    assert not hosts_toml(life.node("node3"), life.upstream_host).exists()
    verification = result.outputs["nodeVerification"].value
    assert verification["ok"] is True and verification["through_harbor"] is True, verification
    assert verification["harbor_image"] == f"{endpoint}/mif/{IMAGE_REPO}:{IMAGE_TAG}", verification
    assert verification["digest"].startswith("sha256:"), verification  # Harbor's API: the artifact is cached
    assert result.outputs["imagePrefix"].value == f"{endpoint}/mif"


def test_no_change_preview_and_second_up(life: Lifecycle) -> None:
    pids = containerd_pids(life.box.bed)
    with life.timings.measure("preview_no_changes"):
        life.stack.preview(expect_no_changes=True, on_output=life.output.append)
    again = life.up("up_no_changes")
    assert set(_changes(again.summary)) == {"same"}, _changes(again.summary)
    assert containerd_pids(life.box.bed) == pids, "a no-change up restarted containerd"


def test_another_program_reads_outputs_through_stack_reference(life: Lifecycle) -> None:
    work = life.work.parent / "reader"
    shutil.copytree(READER, work)
    reader = stack(work, "reader", engine_env(life.backend), python_project("harbor-cache-reader"))
    try:
        reader.set_config("harbor-cache-reader:source", auto.ConfigValue(f"organization/harbor-cache/{STACK}"))
        outputs = reader.up(on_output=life.output.append).outputs
    finally:
        reader.destroy(on_output=life.output.append)
        reader.workspace.remove_stack("reader")
    endpoint = f"{life.box.spec.host_addr}:{life.box.spec.harbor_port}"
    assert outputs["imagePrefix"].value == f"{endpoint}/mif"
    assert outputs["image"].value == f"{endpoint}/mif/quickstart/hello:v1"
    assert outputs["cacheProjects"].value == ["mif", "mif-replica"]
    assert outputs["caCertificate"].value == ""  # http sandbox: no CA (https exports the PEM)


def test_state_and_engine_output_hold_no_plaintext_secret(life: Lifecycle) -> None:
    # `pulumi stack export` as a person runs it (the Automation API's export_stack adds --show-secrets).
    exported = subprocess.run([str(TOOLS_BIN / "pulumi"), "stack", "export", "--stack", STACK], cwd=life.work,
                              env={**os.environ, **engine_env(life.backend)}, capture_output=True, text=True,
                              check=True)
    deployment = json.loads(exported.stdout)["deployment"]
    assert any(r["type"] == "kubernetes:core/v1:Secret" for r in deployment["resources"])
    deployment = json.dumps(deployment)
    files = "".join(p.read_text(errors="replace") for p in life.backend.rglob("*") if p.is_file())
    engine_output = "\n".join(life.output)
    database = wiring.secret_data(life.box.kube, NS)["harbor-database"]["POSTGRES_PASSWORD"]  # generated, pinned
    for what, value in {**life.secret_values, "internal database password": database}.items():
        assert value not in deployment, f"the {what} is in the exported state"
        assert value not in files, f"the {what} is in the backend's files"
        assert value not in engine_output, f"the {what} is in the engine's output"


def test_refresh_sees_out_of_band_changes_and_up_undoes_them(life: Lifecycle) -> None:
    double = life.box.double
    state = double.state()
    (registry,) = state["registries"].values()
    (policy_id,) = state["policies"]
    node1 = life.node("node1")
    toml = hosts_toml(node1, life.upstream_host)
    rendered = toml.read_text()
    double.api("DELETE", "/projects/mif")
    # Harbor checks a registry's URL live on every write, so the drift is one Harbor accepts: the description.
    double.api("PUT", f"/registries/{registry['id']}", {"description": "edited out of band"})
    policy = double.api("GET", f"/replication/policies/{policy_id}")
    double.api("PUT", f"/replication/policies/{policy_id}", {**policy, "enabled": False})
    toml.write_text(rendered.replace("override_path = true", "override_path = false"))

    with life.timings.measure("refresh"):
        refreshed = life.stack.refresh(on_output=life.output.append)
    changes = _changes(refreshed.summary)
    # The project gone, and its retention (a resource of its own) with it; 3 drifted.
    assert changes.get("delete") == 2 and changes.get("update", 0) >= 3, changes

    fixed = life.up()
    assert fixed.summary.result == "succeeded"
    state = double.state()
    projects = {p["name"]: p for p in state["projects"].values()}
    assert projects["mif"]["registry_id"] == registry["id"]
    assert state["registries"][str(registry["id"])]["description"] == registry["description"]
    assert state["policies"][str(policy_id)]["enabled"] is True
    assert toml.read_text() == rendered
    life.stack.preview(expect_no_changes=True, on_output=life.output.append)


def test_settings_change_updates_only_what_it_should(life: Lifecycle) -> None:
    pids = containerd_pids(life.box.bed)
    trees = {n: certs_tree(life.node(n)) for n in ("node1", "node2")}

    def change(values: dict[str, Any]) -> None:
        values["nodes"]["hosts"] = life.box.node_settings()["hosts"]  # node3 joins
        values["proxyProject"]["public"] = False
        values["replication"]["nameFilter"] = "quickstart/hello"

    life.config.edit(change)
    result = life.up()
    changes = _changes(result.summary)
    assert (changes.get("create"), changes.get("update"), changes.get("delete")) == (1, 2, None), changes
    assert {n: certs_tree(life.node(n)) for n in ("node1", "node2")} == trees
    now = containerd_pids(life.box.bed)
    assert {k: now[k] for k in ("node1", "node2")} == {k: pids[k] for k in ("node1", "node2")}
    assert hosts_toml(life.node("node3"), life.upstream_host).exists()
    assert life.box.pulled_through_cache("node3")[0]
    state = life.box.double.state()
    projects = {p["name"]: p for p in state["projects"].values()}
    assert projects["mif"]["metadata"]["public"] == "false"
    (policy,) = state["policies"].values()
    assert {"type": "name", "value": "quickstart/hello"} in policy["filters"]


def test_harbor_down_fails_clearly_then_converges(life: Lifecycle) -> None:
    life.config.edit(lambda v: v["proxyProject"].update(public=True))
    life.box.double.faults(down=True)
    try:
        with pytest.raises(auto.CommandError) as failed:
            life.stack.up(on_output=life.output.append)
    finally:
        life.box.double.faults(down=False)
    message = str(failed.value)
    assert "cannot reach Harbor at" in message and life.box.double.url in message, _tail(message)
    converged = life.up()
    assert converged.summary.result == "succeeded"
    projects = {p["name"]: p for p in life.box.double.state()["projects"].values()}
    assert projects["mif"]["metadata"]["public"] == "true"
    life.stack.preview(expect_no_changes=True, on_output=life.output.append)


def test_unreachable_node_fails_by_name_and_the_others_are_configured(life: Lifecycle) -> None:
    mirror = "mirror.e2e.test"
    lost = life.box.bed.unreachable_addr()

    def change(values: dict[str, Any]) -> None:
        values["nodes"]["hosts"].append({"name": "node9", "address": lost})
        values["upstream"]["mirrorHosts"] = [mirror]

    life.config.edit(change)
    with pytest.raises(auto.CommandError) as failed:
        life.stack.up(on_output=life.output.append)
    message = str(failed.value)
    assert f"node node9 (root@{lost}:22)" in message, _tail(message)
    for node in life.box.bed.nodes:
        assert hosts_toml(node, mirror).exists(), f"{node.name} was not configured while node9 failed"

    def revert(values: dict[str, Any]) -> None:
        values["nodes"]["hosts"] = values["nodes"]["hosts"][:-1]
        values["upstream"].pop("mirrorHosts")

    life.config.edit(revert)
    assert life.up().summary.result == "succeeded"
    assert not any(hosts_toml(node, mirror).exists() for node in life.box.bed.nodes)


def _not_harbors_own(objects: dict[str, Any]) -> dict[str, Any]:
    """The objects of one kind, less the project every Harbor starts with (and its quota)."""
    return {k: v for k, v in objects.items()
            if HARBORS_OWN_PROJECT not in (v.get("name"), (v.get("ref") or {}).get("name"))}


def test_destroy_removes_everything_and_restores_the_nodes(life: Lifecycle) -> None:
    with life.timings.measure("destroy"):
        result = life.stack.destroy(on_output=life.output.append)
    life.destroyed = True
    assert result.summary.result == "succeeded"
    gone = life.box.kube.kubectl("get", "namespace", NS, check=False)
    assert gone.returncode != 0 and "NotFound" in gone.stderr, gone.stdout
    state = life.box.double.state()
    leftovers = {k: _not_harbors_own(state[k]) for k in ("registries", "projects", "policies", "retentions", "quotas")}
    assert not any(leftovers.values()), leftovers
    for node in life.box.bed.nodes:
        assert certs_tree(node) == life.original_trees[node.name], f"{node.name} was not restored"


def _serve_leaf_when_issued(box: Sandbox, namespace: str, port: int) -> tuple[threading.Thread, list[Exception]]:
    """In the background: as soon as the program's TLS chain fills the leaf Secret, the sandbox's pull path
    serves it on ``port`` (Harbor's nginx would), so the nodes configured by the same ``up`` pull over it."""
    errors: list[Exception] = []

    def serve() -> None:
        try:
            box.serve_issued_certificate(namespace, "harbor-tls", port)  # TlsArgs.leaf_secret: <release>-tls
        except (TimeoutError, OSError, ValueError, KeyError, subprocess.SubprocessError) as exc:  # for the test
            errors.append(exc)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread, errors


def _up_fails(st: auto.Stack, life: Lifecycle, replace: list[str]) -> str:
    """``pulumi up --replace ...`` that must fail; its output."""
    with pytest.raises(auto.CommandError) as failed:
        st.up(on_output=life.output.append, replace=replace)
    return str(failed.value)


def _https_nodes_and_verification(life: Lifecycle, tls: auto.Stack, up: auto.UpResult, port: int) -> None:
    """Every node pulls over HTTPS (the leaf the chain issued, the CA the program placed) by Harbor's name and
    by the upstream name, from Harbor's path; then the two ways the cache breaks fail the update by name."""
    box, endpoint = life.box, f"{life.box.spec.host_addr}:{port}"
    by_harbor = f"{endpoint}/mif-tls/{IMAGE_REPO}:{IMAGE_TAG}"
    verification = up.outputs["nodeVerification"].value
    assert verification["through_harbor"] is True and verification["harbor_image"] == by_harbor, verification
    ca = up.outputs["caCertificate"].value.strip()
    for node in box.bed.nodes:
        assert (certs_tree(node).get(f"certs.d/{endpoint}/ca.crt") or "").strip() == ca, node.name
        for image in (by_harbor, None):
            ok, log = box.pulled_through_cache(node.name, image=image, project="mif-tls")
            assert ok, f"{node.name} did not pull {image or 'by the upstream name'} over HTTPS from Harbor: {log}"
    deployment = tls.export_stack().deployment or {}
    urns = [r["urn"] for r in deployment["resources"]
            if r["type"] in ("pulumi-python:dynamic/nodes:RealmCheck", "pulumi-python:dynamic/nodes:PullCheck")]
    assert len(urns) == 2, urns
    # An externalURL nodes cannot use: the realm check stops the update before any node is touched.
    box.bed.set_realm("http://harbor.harbor-tls.svc.cluster.local/service/token")
    try:
        out = _up_fails(tls, life, urns)
        assert "the token realm http://harbor.harbor-tls.svc.cluster.local/service/token is plain HTTP while " \
               "nodes use HTTPS" in out, _tail(out)
    finally:
        box.bed.set_realm(None)
    # Harbor down on its node endpoint: upstream-name pulls fall back unseen, the verification names it.
    conf = box.bed.base / "servers" / f"https-{port}.conf"
    saved = conf.read_text()
    conf.unlink()
    box.bed.set_realm(None)  # reloads nginx without the HTTPS server
    try:
        out = _up_fails(tls, life, urns)
        assert "(Harbor down)" in out and "by Harbor's name failed" in out, _tail(out)
    finally:
        conf.write_text(saved)
        box.bed.set_realm(None)
    tls.up(on_output=life.output.append, replace=urns)  # the cache is back: proven again


def test_https_variant_certificate_drift_and_ca_through_stack_reference(life: Lifecycle) -> None:
    """A second stack in HTTPS mode on every node: the sandbox's pull path serves the leaf the program's chain
    issued and every node pulls over it; its CA reaches another program; an edited Certificate is undone."""
    ns, spec = "harbor-tls", life.box.spec
    tls = stack(life.work, "e2e-tls", engine_env(life.backend), python_project("harbor-cache", "e2e copy"))
    values = _initial_values(life.box)
    values["harbor"].update(tlsMode="https", namespace=ns)
    values["harbor"]["expose"]["nodePorts"] = {"http": spec.harbor_port + 10, "https": spec.harbor_port + 11}
    values["upstream"]["name"] = "e2e-tls-upstream"
    values["proxyProject"]["name"] = "mif-tls"
    values["replication"] = {"enabled": False}
    values["nodes"] = life.box.node_settings()  # every node (the first stack's destroy restored them)
    StackFile(life.work, "e2e-tls").set(values)
    ssh_key = life.stack.get_config("harbor-cache:sshPrivateKey").value
    for key, secret in (("adminPassword", life.box.spec.admin_password),
                        ("upstreamSecretKey", life.secret_values["upstream secret key"]), ("sshPrivateKey", ssh_key)):
        tls.set_config(f"harbor-cache:{key}", auto.ConfigValue(secret, secret=True))
    try:
        serving, serve_errors = _serve_leaf_when_issued(life.box, ns, spec.harbor_port + 11)
        up = tls.up(on_output=life.output.append)
        serving.join(timeout=30)
        assert not serve_errors, serve_errors
        _https_nodes_and_verification(life, tls, up, spec.harbor_port + 11)
        ca = up.outputs["caCertificate"].value
        assert ca.startswith("-----BEGIN CERTIFICATE-----"), ca[:80]
        certs = life.kube_json("get", "certificates.cert-manager.io", "-n", ns)["items"]
        (leaf,) = [c for c in certs if not c["spec"].get("isCA")]
        endpoint_ip = spec.host_addr
        assert endpoint_ip in leaf["spec"]["ipAddresses"]
        # nginx serves the Secret the Certificate fills (cert-manager's controller issued it)
        (nginx,) = [d for d in wiring.items(life.box.kube, "deployments", ns)
                    if d["metadata"]["name"] == "harbor-nginx"]
        mounted = [v["secret"]["secretName"] for v in nginx["spec"]["template"]["spec"]["volumes"]
                   if v["name"] == "certificate"]
        assert mounted == [leaf["spec"]["secretName"]], mounted
        assert {"tls.crt", "tls.key"} <= set(wiring.secret_data(life.box.kube, ns)[mounted[0]])
        name = leaf["metadata"]["name"]
        life.box.kube.kubectl("patch", "certificates.cert-manager.io", name, "-n", ns, "--type", "merge",
                              "-p", json.dumps({"spec": {"ipAddresses": ["192.0.2.1"]}}))
        refreshed = tls.refresh(on_output=life.output.append)
        assert _changes(refreshed.summary).get("update", 0) >= 1, _changes(refreshed.summary)
        tls.up(on_output=life.output.append)
        restored = life.kube_json("get", "certificates.cert-manager.io", name, "-n", ns)
        assert endpoint_ip in restored["spec"]["ipAddresses"], restored["spec"]
        tls.preview(expect_no_changes=True, on_output=life.output.append)

        reader_dir = life.work.parent / "reader-tls"
        shutil.copytree(READER, reader_dir)
        reader = stack(reader_dir, "reader-tls", engine_env(life.backend), python_project("harbor-cache-reader"))
        try:
            reader.set_config("harbor-cache-reader:source", auto.ConfigValue("organization/harbor-cache/e2e-tls"))
            outputs = reader.up(on_output=life.output.append).outputs
        finally:
            reader.destroy(on_output=life.output.append)
            reader.workspace.remove_stack("reader-tls")
        assert outputs["caCertificate"].value == ca
        assert outputs["imagePrefix"].value == f"{spec.host_addr}:{spec.harbor_port + 11}/mif-tls"
    finally:
        tls.destroy(on_output=life.output.append)
        tls.workspace.remove_stack("e2e-tls", force=True)
    assert life.box.kube.kubectl("get", "namespace", ns, check=False).returncode != 0
