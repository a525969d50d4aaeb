"""Node-side pull operations for the pull matrix: modes (direct or through the cache), the cache's store, pulls,
the node's image store, and what crossed the upstream link.

Nodes are the test bed's (``lab/testbed/``), configured by the real node script over SSH. The Harbor-shaped cache
is the bed's proxy-mode registry behind Harbor's URL layout, pointed at the slow upstream (``bench/slowlink.py``);
like Harbor, on a blob miss it streams the blob to the client and fetches it a second time to store it.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.images import BuiltImage
from bench.slowlink import SlowUpstream
from components.containerd import NodeMirrorSpec, UpstreamMirror, etc_hosts_line, render_certs_files
from components.node_script import ScriptParams
from components.node_ssh import run_node_script
from components.ssh import SshTarget
from lab.testbed import PROJECT, SOCKET, Node, Testbed, crictl_bin

PULL_TIMEOUT = 1200.0
AUTH = "Authorization: Bearer bench"  # the bed's pull path admits any token, like Harbor's anonymous one


def cache_spec(bed: Testbed, up: SlowUpstream) -> NodeMirrorSpec:
    """Harbor's pull path on the bridge (HTTP nodePort-like), upstream = the slow registry."""
    return NodeMirrorSpec(harbor_host=bed.host_addr, harbor_port=bed.harbor_port, scheme="http",
                          upstreams=(UpstreamMirror(up.host, PROJECT, up.url),))


def configure(bed: Testbed, node: Node, spec: NodeMirrorSpec) -> None:
    """Run the real node script (apply) over SSH: config_path set, hosts.toml written, containerd restarted."""
    params = ScriptParams(certs_dir=spec.certs_dir, state_dir=node.state_dir, restart_cmd=node.restart_cmd,
                          health_cmd=node.health_cmd, health_timeout=30)
    props: dict[str, Any] = {
        **SshTarget(node.name, node.addr).to_props(),
        "files": render_certs_files(spec), "hosts_line": etc_hosts_line(spec), "params": params.to_dict(),
        "timeout": 120,
    }
    run_node_script(props, bed.client_key.read_text(), "apply")


def configure_all(bed: Testbed, spec: NodeMirrorSpec) -> None:
    """Configure every node of the bed at once."""
    with ThreadPoolExecutor(max_workers=len(bed.nodes)) as pool:
        list(pool.map(lambda n: configure(bed, n, spec), bed.nodes))


def set_mode(nodes: list[Node], up: SlowUpstream, spec: NodeMirrorSpec, direct: bool) -> None:
    """Direct: hosts.toml names only the upstream server; cache: the rendered mirror file (re-read per pull)."""
    # containerd 1.6 tries HTTPS for a plain-HTTP ``server`` with no [host] table, hence the explicit table.
    plain = f'server = "{up.url}"\n\n[host."{up.url}"]\n  capabilities = ["pull", "resolve"]\n'
    text = plain if direct else render_certs_files(spec)[f"{up.host}/hosts.toml"]
    for node in nodes:
        (node.path / "etc-containerd" / "certs.d" / up.host / "hosts.toml").write_text(text)


def restart_cache(bed: Testbed, remote: str, wipe: bool) -> None:
    """Restart the proxy-mode registry behind Harbor's path with ``remote`` upstream; ``wipe``: a cold cache."""
    pid = bed.state.pids.get("mirror")
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)  # its store is wiped or kept as is: nothing to shut down gracefully
        try:
            os.waitpid(pid, 0)  # our child (started below): reap it, or kill(pid, 0) keeps finding the zombie
        except ChildProcessError:
            for _ in range(100):  # the bed's first registry is the bed's child, not ours
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.05)
    data = bed.base / "mirror-data"
    if wipe:
        shutil.rmtree(data, ignore_errors=True)
        data.mkdir()
    conf = bed.base / "mirror.yml"
    lines = [f"  remoteurl: {remote}" if line.startswith("  remoteurl:") else line
             for line in conf.read_text().splitlines()]
    conf.write_text("\n".join(lines) + "\n")
    (bed.base / "mirror.sock").unlink(missing_ok=True)
    log = open(bed.base / "logs" / "mirror.log", "ab")  # handed to the child
    proc = subprocess.Popen(["docker-registry", "serve", str(conf)], stdout=log, stderr=log,
                            stdin=subprocess.DEVNULL, start_new_session=True)
    log.close()
    bed.state.pids["mirror"] = proc.pid  # bed.stop() kills it
    end = time.monotonic() + 20
    while time.monotonic() < end:
        with contextlib.suppress(OSError):
            req = urllib.request.Request(f"http://{bed.host_addr}:{bed.harbor_port}/v2/",
                                         headers={"Authorization": "Bearer bench"})
            with urllib.request.urlopen(req, timeout=2) as r:  # noqa: S310 - http on the bench bridge only
                if r.status == 200:
                    return
        time.sleep(0.1)
    raise TimeoutError("the cache registry did not come back")


def cached(bed: Testbed, digest: str) -> bool:
    """Whether the cache's store holds this blob completely (its data file is in place)."""
    hexd = digest.split(":", 1)[1]
    return (bed.base / "mirror-data" / "docker" / "registry" / "v2" / "blobs" / "sha256" / hexd[:2] / hexd
            / "data").exists()


def wait_stored(bed: Testbed, digests: list[str], timeout: float = PULL_TIMEOUT) -> None:
    """Wait until the cache has stored every blob (its own upstream fetch can end after the client's)."""
    end = time.monotonic() + timeout
    while not all(cached(bed, d) for d in digests):
        if time.monotonic() > end:
            missing = [d for d in digests if not cached(bed, d)]
            raise TimeoutError(f"the cache did not store {missing} within {timeout:.0f}s")
        time.sleep(0.2)
    time.sleep(0.3)  # nginx writes the access-log line when the response is done


def ctr(node: Node, args: str) -> str:
    """ctr in the node's k8s.io namespace."""
    return node.sh(f"/usr/bin/ctr --address {SOCKET} -n k8s.io {args}", check=False).stdout


def clear(node: Node, ref: str, digests: list[str]) -> None:
    """Remove ``ref`` from the node's image store and check that its own blobs (``digests``) are gone."""
    ep = f"unix://{SOCKET}"
    node.sh(f"{crictl_bin()} --runtime-endpoint {ep} --image-endpoint {ep} rmi {ref} >/dev/null 2>&1; true",
            check=False)
    for _ in range(50):
        ctr(node, "content prune references")
        held = ctr(node, "content ls -q")
        if not any(d in held for d in digests):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{node.name}: layers of {ref} still in the content store")


def pull(node: Node, ref: str) -> float:
    """Seconds for ``crictl pull ref`` on the node (raises on failure)."""
    ep = f"unix://{SOCKET}"
    start = time.monotonic()
    result = node.sh(f"{crictl_bin()} --runtime-endpoint {ep} --image-endpoint {ep} --timeout 60s pull {ref}",
                     check=False, timeout=PULL_TIMEOUT)
    took = time.monotonic() - start
    if result.returncode != 0:
        raise RuntimeError(f"{node.name}: crictl pull {ref} failed: {result.stderr.strip()[-300:]}")
    return took


def pull_all(nodes: list[Node], ref: str) -> tuple[float, list[float]]:
    """Pull on every node at once; wall time and each node's time."""
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
        each = list(pool.map(lambda n: pull(n, ref), nodes))
    return time.monotonic() - start, [round(x, 2) for x in each]


def layer_gets(bed: Testbed, up: SlowUpstream, nodes: list[Node], digests: set[str]) -> dict[str, int]:
    """GETs of these blobs since the logs were cleared: by the nodes from the upstream, via Harbor, by the cache."""
    addrs = {n.addr for n in nodes}

    def is_layer(path: str) -> bool:
        return "/blobs/" in path and path.split("?", 1)[0].rsplit("/", 1)[-1] in digests  # containerd adds ?ns=

    upstream = [r for r in up.parsed() if r["method"] == "GET" and is_layer(r["path"])]
    return {
        "nodes_from_upstream": sum(r["client"] in addrs for r in upstream),
        "nodes_via_harbor": sum(r["client"] in addrs and r["method"] == "GET" and is_layer(r["path"])
                                for r in bed.harbor_requests()),
        "cache_from_upstream": sum(r["client"] == bed.host_addr for r in upstream),
    }


def check_path(mode: str, gets: dict[str, int]) -> None:
    """Raise unless the layers came the way ``mode`` says (direct, cold, prewarmed or warm)."""
    ok = {
        "direct": gets["nodes_from_upstream"] >= 1 and gets["nodes_via_harbor"] == 0,
        "cold": gets["nodes_from_upstream"] == 0 and gets["nodes_via_harbor"] >= 1
        and gets["cache_from_upstream"] >= 1,
        "prewarmed": gets["nodes_from_upstream"] == 0 and gets["nodes_via_harbor"] >= 1
        and gets["cache_from_upstream"] == 0,
        "warm": gets["nodes_from_upstream"] == 0 and gets["nodes_via_harbor"] >= 1
        and gets["cache_from_upstream"] == 0,
    }[mode]
    if not ok:
        raise RuntimeError(f"{mode} pull took an unexpected path: {gets}")


def floor(bed: Testbed, node: Node, image: BuiltImage) -> float:
    """The physical floor of a warm pull on ``node``: raw GETs of the image's blobs from the cache (all at once,
    as containerd fetches layers concurrently) and ``tar -xzf`` of its layers in order; seconds."""
    base = f"http://{bed.host_addr}:{bed.harbor_port}/v2/{PROJECT}/{image.repo}/blobs"
    work = node.path / "floor"
    shutil.rmtree(work, ignore_errors=True)
    (work / "root").mkdir(parents=True)
    gets = " ".join(f"curl -sf -H {shlex.quote(AUTH)} -o {work}/{d.split(':')[1]} {base}/{d} & p{i}=$!;"
                    for i, d in enumerate(image.blob_digests))
    waits = " && ".join(f"wait $p{i}" for i in range(len(image.blob_digests)))
    untar = " && ".join(f"tar -xzf {work}/{layer.digest.split(':')[1]} -C {work}/root" for layer in image.layers)
    start = time.monotonic()
    result = node.sh(f"set -e; {gets} {waits} && {untar}", check=False, timeout=PULL_TIMEOUT)
    took = time.monotonic() - start
    shutil.rmtree(work, ignore_errors=True)
    if result.returncode != 0:
        raise RuntimeError(f"{node.name}: floor GET/unpack failed: {result.stderr.strip()[-300:]}")
    return took


def upstream_bytes(up: SlowUpstream) -> int:
    """Response bytes the upstream sent over the slow link since its log was cleared (every client)."""
    return sum(int(r["bytes"] or 0) for r in up.parsed())
