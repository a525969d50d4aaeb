"""Benchmark 1, what the cache saves: pulls of a ~200 MB image from an upstream behind a slow link.

On namespace nodes (the test bed), by the image's upstream name, through the node's CRI (``crictl pull``, as
kubelet pulls): directly from the slow upstream, through the Harbor-shaped cache cold (its store wiped) and
warm; then every node at once, directly versus through the warm cache. Each pull is checked by where its
bytes came from (access logs), and the node's image store is emptied before every pull.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.bigimage import REPO, TAG, image_layout, layer_digest, push
from bench.common import RUNS, SUBNET, WORK, Figure, median, now, save, step
from bench.slowlink import SlowUpstream
from components.containerd import NodeMirrorSpec, UpstreamMirror, etc_hosts_line, render_certs_files
from components.node_script import ScriptParams
from components.node_ssh import run_node_script
from components.ssh import SshTarget
from lab.testbed import PROJECT, SOCKET, Node, Testbed, crictl_bin

PULL_TIMEOUT = 900.0


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


def hosts_toml(node: Node, up: SlowUpstream) -> Path:
    """The node's hosts.toml for the upstream host, seen from the host."""
    return node.path / "etc-containerd" / "certs.d" / up.host / "hosts.toml"


def set_mode(nodes: list[Node], up: SlowUpstream, spec: NodeMirrorSpec, direct: bool) -> None:
    """Direct: hosts.toml names only the upstream server; cache: the rendered mirror file (re-read per pull)."""
    # containerd 1.6 tries HTTPS for a plain-HTTP ``server`` with no [host] table, hence the explicit table.
    plain = f'server = "{up.url}"\n\n[host."{up.url}"]\n  capabilities = ["pull", "resolve"]\n'
    text = plain if direct else render_certs_files(spec)[f"{up.host}/hosts.toml"]
    for node in nodes:
        hosts_toml(node, up).write_text(text)


def restart_mirror(bed: Testbed, remote: str, wipe: bool) -> None:
    """Restart the proxy-mode registry behind Harbor's path with ``remote`` upstream; ``wipe``: cold cache."""
    pid = bed.state.pids.get("mirror")
    if pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
            for _ in range(100):
                os.kill(pid, 0)
                time.sleep(0.05)
            os.kill(pid, signal.SIGKILL)
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
            with urllib.request.urlopen(f"http://{bed.host_addr}:{bed.harbor_port}/v2/", timeout=2) as r:
                if r.status == 200:
                    return
        time.sleep(0.1)
    raise TimeoutError("mirror registry did not come back")


def ctr(node: Node, args: str) -> str:
    """ctr in the node's k8s.io namespace."""
    return node.sh(f"/usr/bin/ctr --address {SOCKET} -n k8s.io {args}", check=False).stdout


def clear(node: Node, ref: str, digest: str) -> None:
    """Empty the node's image store of the test image (image, content and snapshots) and check it is gone."""
    ep = f"unix://{SOCKET}"
    node.sh(f"{crictl_bin()} --runtime-endpoint {ep} --image-endpoint {ep} rmi {ref} >/dev/null 2>&1; true",
            check=False)
    for _ in range(50):
        ctr(node, "content prune references")
        if digest not in ctr(node, "content ls -q"):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{node.name}: layer {digest} still in the content store")


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


def sources(bed: Testbed, up: SlowUpstream, node: Node) -> dict[str, int]:
    """Layer GETs since the last log clear: by this node from the upstream, via Harbor, and by the cache."""
    blob = f"/{REPO}/blobs/sha256:"
    upstream = [line for line in up.requests() if blob in line and '"GET ' in line]
    return {
        "node_from_upstream": sum(line.startswith(node.addr + " ") for line in upstream),
        "node_via_harbor": sum(r["client"] == node.addr and blob in r["path"] and r["method"] == "GET"
                               for r in bed.harbor_requests()),
        "cache_from_upstream": sum(line.startswith(bed.host_addr + " ") for line in upstream),
    }


def pull_checked(bed: Testbed, up: SlowUpstream, node: Node, ref: str, digest: str, want: str,
                 seen: list[dict[str, Any]]) -> float:
    """Clear the node, pull once, check where the layer came from (``direct``, ``cold``, ``warm``); log to seen."""
    clear(node, ref, digest)
    bed.clear_logs()
    up.clear_log()
    took = pull(node, ref)
    src = sources(bed, up, node)
    seen.append({"mode": want, "seconds": round(took, 2), **src})
    ok = {
        "direct": src["node_from_upstream"] >= 1 and src["node_via_harbor"] == 0,
        "cold": src["node_from_upstream"] == 0 and src["node_via_harbor"] >= 1 and src["cache_from_upstream"] >= 1,
        "warm": src["node_from_upstream"] == 0 and src["node_via_harbor"] >= 1 and src["cache_from_upstream"] == 0,
    }[want]
    if not ok:
        raise RuntimeError(f"{want} pull on {node.name} took an unexpected path: {src}")
    return took


def pull_all(bed: Testbed, up: SlowUpstream, nodes: list[Node], ref: str, digest: str) -> tuple[float, list[float]]:
    """Clear every node, then pull on all at once; wall time and each node's time."""
    for node in nodes:
        clear(node, ref, digest)
    bed.clear_logs()
    up.clear_log()
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
        each = list(pool.map(lambda n: pull(n, ref), nodes))
    return time.monotonic() - start, [round(x, 2) for x in each]


def single_node(bed: Testbed, up: SlowUpstream, spec: NodeMirrorSpec, ref: str, digest: str,
                runs: int, seen: list[dict[str, Any]]) -> dict[str, list[float]]:
    """direct, cold and warm pulls on node1, interleaved per run (layer GET counts appended to ``seen``)."""
    node = bed.nodes[0]
    times: dict[str, list[float]] = {"direct": [], "cold": [], "warm": []}
    for i in range(runs):
        with step(f"cache run {i + 1}/{runs}: node1 direct"):
            set_mode([node], up, spec, direct=True)
            times["direct"].append(pull_checked(bed, up, node, ref, digest, "direct", seen))
        with step(f"cache run {i + 1}/{runs}: node1 cold"):
            set_mode([node], up, spec, direct=False)
            restart_mirror(bed, up.url, wipe=True)
            times["cold"].append(pull_checked(bed, up, node, ref, digest, "cold", seen))
        with step(f"cache run {i + 1}/{runs}: node1 warm"):
            times["warm"].append(pull_checked(bed, up, node, ref, digest, "warm", seen))
        print(f"[bench]   direct {times['direct'][-1]:.1f}s cold {times['cold'][-1]:.1f}s "
              f"warm {times['warm'][-1]:.1f}s", flush=True)
    return times


def fleet(bed: Testbed, up: SlowUpstream, spec: NodeMirrorSpec, ref: str, digest: str,
          runs: int) -> dict[str, Any]:
    """All nodes at once: direct versus the warm cache (the cache is warm from the single-node runs)."""
    nodes = bed.nodes
    out: dict[str, Any] = {"direct": [], "warm": [], "direct_each": [], "warm_each": []}
    for i in range(runs):
        for mode in ("direct", "warm"):
            with step(f"cache run {i + 1}/{runs}: {len(nodes)} nodes {mode}"):
                set_mode(nodes, up, spec, direct=mode == "direct")
                wall, each = pull_all(bed, up, nodes, ref, digest)
                if mode == "warm" and [line for line in up.requests() if "/blobs/" in line]:
                    raise RuntimeError("warm fleet pull fetched a blob from the upstream")
                out[mode].append(round(wall, 2))
                out[f"{mode}_each"].append(each)
    return out


def main(nodes: int | None = None, size_mb: int | None = None, runs: int = RUNS) -> dict[str, Figure]:
    """Run benchmark 1 and save it under ``cache`` in results.json (env overrides for quick trials)."""
    nodes = nodes or int(os.environ.get("HARBOR_CACHE_BENCH_CACHE_NODES", "8"))
    size_mb = size_mb or int(os.environ.get("HARBOR_CACHE_BENCH_IMAGE_MIB", "200"))
    started = now()
    base = WORK / "cache"
    shutil.rmtree(base / "bed", ignore_errors=True)
    with step(f"build {size_mb} MiB image"):
        layout = image_layout(WORK / f"image-{size_mb}mb", size_mb)
    digest, layer_size = layer_digest(layout)
    with Testbed(base / "bed", ["1.6"] * nodes, SUBNET) as bed, \
            SlowUpstream(base / "upstream", bed.tag, bed.state.bridge, SUBNET, bed.base / "upstream.sock") as up:
        with step("push image, point the cache at the slow upstream, configure nodes"):
            push(layout, f"{bed.host_addr}:5000")  # the fast host-side door to the same registry
            restart_mirror(bed, up.url, wipe=True)
            spec = cache_spec(bed, up)
            with ThreadPoolExecutor(max_workers=nodes) as pool:
                list(pool.map(lambda n: configure(bed, n, spec), bed.nodes))
        ref = f"{up.host}/{REPO}:{TAG}"
        seen: list[dict[str, Any]] = []
        single = single_node(bed, up, spec, ref, digest, runs, seen)
        many = fleet(bed, up, spec, ref, digest, runs)
    d, c, w = median(single["direct"]), median(single["cold"]), median(single["warm"])
    ratios_warm = [a / b for a, b in zip(single["direct"], single["warm"], strict=True)]
    ratios_cold = [b / a for a, b in zip(single["direct"], single["cold"], strict=True)]
    fd, fw = median(many["direct"]), median(many["warm"])
    figures = {
        "pull_direct_s": Figure(d, "s", runs=single["direct"]),
        "pull_cold_s": Figure(c, "s", runs=single["cold"]),
        "pull_warm_s": Figure(w, "s", runs=single["warm"]),
        "speedup_warm_vs_direct": Figure(median(ratios_warm), "x", 5.0, ">=", [round(r, 2) for r in ratios_warm],
                                         "median of per-run direct/warm"),
        "cold_vs_direct": Figure(median(ratios_cold), "x", 1.3, "<=", [round(r, 2) for r in ratios_cold],
                                 "median of per-run cold/direct"),
        f"fleet{nodes}_direct_s": Figure(fd, "s", runs=many["direct"]),
        f"fleet{nodes}_warm_s": Figure(fw, "s", runs=many["warm"]),
        f"fleet{nodes}_speedup_warm_vs_direct": Figure(round(fd / fw, 2), "x", note="median direct / median warm"),
    }
    details = {"nodes": nodes, "image_mib": size_mb, "layer_bytes": layer_size,
               "link": "upstream in its own namespace: tc tbf 100mbit both ways on its veth + 40 ms added to "
               "every response chunk by bench.delayrelay (no sch_netem in this kernel)",
               "runs": runs, "single": single, "layer_gets": seen,
               "fleet": many, "pull": "crictl pull by upstream name (CRI, includes unpack), node store emptied "
               "before each pull; cold = cache store wiped and registry restarted"}
    save("cache", figures, details, started)
    return figures
