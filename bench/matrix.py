"""The pull matrix (issue 20), in the shape of Spegel's benchmark: image sizes in 1 and in 4 layers, 1 node and a
fleet pulling at once, and a rolling v1 -> v2 update that shares all but the top layer.

Every case is pulled ``direct`` (hosts.toml names only the upstream), ``cold`` (through the cache, its store
wiped), ``warm`` (the cache holds the image) and ``prewarmed`` (the store wiped, then the image pre-warmed through
the proxy project, then the nodes' first pull), by the upstream name with ``crictl pull`` on namespace nodes whose
image store is emptied before every pull. The upstream sits behind the slow link (``bench/slowlink.py``); the bytes
it sent per pull come from its access log, and each pull is checked by where its layers came from. On 1 node the
warm pull is compared with the physical floor (``pulls.floor``). The plan comes from the environment
(``plan_from_env``); ``HARBOR_CACHE_BENCH_QUICK=1`` runs a small one in about two minutes.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import asdict, dataclass
from typing import Any

from bench import pulls
from bench.common import SUBNET, WORK, Figure, now, save, step
from bench.images import BuiltImage, build, push
from bench.matrix_figures import figures
from bench.prewarm import IMPLEMENTATION as PREWARM_IMPL
from bench.prewarm import prewarm as warm_through_cache
from bench.slowlink import SlowUpstream
from lab.testbed import PROJECT, Node, Testbed

MODES = ("direct", "cold", "warm", "prewarmed")


@dataclass(frozen=True)
class Case:
    """One image shape pulled by ``nodes`` nodes at once, ``runs`` times."""

    size_mb: int
    layers: int
    nodes: int
    runs: int

    @property
    def key(self) -> str:
        """``100MB-4L-8N``."""
        return f"{self.size_mb}MB-{self.layers}L-{self.nodes}N"

    @property
    def repo(self) -> str:
        """The image's repository (one per size and layer count)."""
        return f"bench/m{self.size_mb}-l{self.layers}"


@dataclass(frozen=True)
class Plan:
    """The cases, the rolling update's image (size, layers), its fleet size and runs, and the bed's node count."""

    cases: tuple[Case, ...]
    update_size_mb: int
    update_layers: int
    update_nodes: int
    update_runs: int

    @property
    def bed_nodes(self) -> int:
        """Nodes the bed needs."""
        return max([c.nodes for c in self.cases] + [self.update_nodes])


def _ints(name: str, default: str) -> list[int]:
    text = os.environ.get(name, default).strip()
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise ValueError(f"{name}={text!r}: expected comma-separated integers, e.g. {default!r}") from None


def plan_from_env(env: dict[str, str] | None = None) -> Plan:
    """The matrix to run: full by default, small with ``HARBOR_CACHE_BENCH_QUICK=1``; each part overridable:
    ``HARBOR_CACHE_BENCH_MATRIX_SIZES`` (MiB), ``..._BIG`` (MiB, pulled on 1 node once; empty for none),
    ``..._LAYERS``, ``..._NODES``, ``..._RUNS`` (1-node cases), ``..._FLEET_RUNS`` (the others),
    ``..._UPDATE`` (size,layers,nodes)."""
    if env is not None:
        saved = dict(os.environ)
        os.environ.update(env)
    try:
        quick = os.environ.get("HARBOR_CACHE_BENCH_QUICK", "") == "1"
        sizes = _ints("HARBOR_CACHE_BENCH_MATRIX_SIZES", "2,8" if quick else "10,100")
        big = _ints("HARBOR_CACHE_BENCH_MATRIX_BIG", "" if quick else "1024")
        layers = _ints("HARBOR_CACHE_BENCH_MATRIX_LAYERS", "1,4")
        nodes = _ints("HARBOR_CACHE_BENCH_MATRIX_NODES", "1,2" if quick else "1,8")
        runs = _ints("HARBOR_CACHE_BENCH_MATRIX_RUNS", "1" if quick else "2")[0]
        fleet_runs = _ints("HARBOR_CACHE_BENCH_MATRIX_FLEET_RUNS", "1")[0]  # multi-node cases: link-bound, long
        update = _ints("HARBOR_CACHE_BENCH_MATRIX_UPDATE", "8,4,2" if quick else "100,4,8")
    finally:
        if env is not None:
            os.environ.clear()
            os.environ.update(saved)
    if len(update) != 3 or update[1] < 2:
        raise ValueError("HARBOR_CACHE_BENCH_MATRIX_UPDATE: expected size,layers,nodes with at least 2 layers")
    cases = [Case(s, la, n, runs if n == 1 else fleet_runs) for s in sizes for la in layers for n in nodes]
    cases += [Case(s, la, 1, 1) for s in big for la in layers]
    return Plan(tuple(cases), update[0], update[1], update[2], runs)


class Matrix:
    """The bed, the slow upstream, the cache and the pre-warm for one matrix run."""

    def __init__(self, bed: Testbed, up: SlowUpstream) -> None:
        self.bed, self.up = bed, up
        self.spec = pulls.cache_spec(bed, up)

    def ref(self, image: BuiltImage) -> str:
        """The image by its upstream name (what nodes pull)."""
        return f"{self.up.host}/{image.repo}:{image.tag}"

    def _reset_logs(self) -> None:
        self.bed.clear_logs()
        self.up.clear_log()

    def pull(self, nodes: list[Node], image: BuiltImage, mode: str, own: list[str]) -> dict[str, Any]:
        """Empty the nodes of ``image`` (its blobs ``own``), pull it on all at once in ``mode``; the record."""
        for node in nodes:
            pulls.clear(node, self.ref(image), own)
        self._reset_logs()
        wall, each = pulls.pull_all(nodes, self.ref(image))
        if mode == "cold":
            pulls.wait_stored(self.bed, own)
        gets = pulls.layer_gets(self.bed, self.up, nodes, set(own))
        pulls.check_path(mode, gets)
        return {"seconds": round(wall, 2), "each": each, "upstream_bytes": pulls.upstream_bytes(self.up),
                "gets": gets, "load_avg": [round(x, 1) for x in os.getloadavg()]}

    def prewarm(self, image: BuiltImage) -> dict[str, Any]:
        """Pre-warm ``image`` through the proxy project and wait until the cache stored it; seconds and bytes."""
        self._reset_logs()
        start = time.monotonic()
        warm_through_cache(f"http://{self.bed.host_addr}:{self.bed.harbor_port}", PROJECT, image.repo, image.tag)
        pulls.wait_stored(self.bed, image.blob_digests)
        return {"seconds": round(time.monotonic() - start, 2), "upstream_bytes": pulls.upstream_bytes(self.up)}

    def wipe(self) -> None:
        """A cold cache: its store emptied and the registry restarted."""
        pulls.restart_cache(self.bed, self.up.url, wipe=True)

    def case_run(self, case: Case, image: BuiltImage, record: dict[str, Any]) -> None:
        """direct, cold, warm (and the floor on 1 node), prewarmed: one run of one case, appended to ``record``."""
        nodes, own = self.bed.nodes[:case.nodes], image.blob_digests
        pulls.set_mode(nodes, self.up, self.spec, direct=True)
        record["modes"]["direct"].append(self.pull(nodes, image, "direct", own))
        pulls.set_mode(nodes, self.up, self.spec, direct=False)
        self.wipe()
        record["modes"]["cold"].append(self.pull(nodes, image, "cold", own))
        record["modes"]["warm"].append(self.pull(nodes, image, "warm", own))
        if case.nodes == 1:
            record["floor_s"].append(round(pulls.floor(self.bed, nodes[0], image), 2))
        self.wipe()
        record["prewarm"].append(self.prewarm(image))
        record["modes"]["prewarmed"].append(self.pull(nodes, image, "prewarmed", own))

    def update_run(self, images: dict[str, BuiltImage], nodes: list[Node], record: dict[str, Any]) -> None:
        """Nodes run v1; v2 (all layers but the top shared) rolls out direct, through a cold cache (it holds v1),
        warm; v3 (the same shape) is pre-warmed first. Only the new blobs are removed between pulls."""
        v1, v2, v3 = images["v1"], images["v2"], images["v3"]
        new = {tag: [img.config_digest, img.layers[-1].digest] for tag, img in images.items()}
        self.wipe()
        pulls.set_mode(nodes, self.up, self.spec, direct=False)
        for tag in ("v3", "v2", "v1"):
            for node in nodes:
                pulls.clear(node, self.ref(images[tag]), new[tag] if tag != "v1" else v1.blob_digests)
        self.prewarm(v1)
        pulls.pull_all(nodes, self.ref(v1))  # the fleet runs v1, the cache holds v1
        pulls.set_mode(nodes, self.up, self.spec, direct=True)
        record["modes"]["direct"].append(self.pull(nodes, v2, "direct", new["v2"]))
        pulls.set_mode(nodes, self.up, self.spec, direct=False)
        record["modes"]["cold"].append(self.pull(nodes, v2, "cold", new["v2"]))
        record["modes"]["warm"].append(self.pull(nodes, v2, "warm", new["v2"]))
        record["prewarm"].append(self.prewarm(v3))
        record["modes"]["prewarmed"].append(self.pull(nodes, v3, "prewarmed", new["v3"]))


def _record(key: str, kind: str, **shape: int) -> dict[str, Any]:
    return {"case": key, "kind": kind, **shape, "modes": {m: [] for m in MODES}, "floor_s": [], "prewarm": []}


def main() -> dict[str, Figure]:
    """Run the matrix and save it under ``matrix`` in results.json."""
    plan = plan_from_env()
    started = now()
    base = WORK / "matrix"
    shutil.rmtree(base / "bed", ignore_errors=True)
    images: dict[str, BuiltImage] = {}
    with step("build images"):
        for case in plan.cases:
            images.setdefault(case.repo, build(WORK / "images" / case.repo, case.repo, "v1", case.size_mb,
                                               case.layers))
        urepo = f"bench/update-m{plan.update_size_mb}-l{plan.update_layers}"
        update = {tag: build(WORK / "images" / urepo / tag, urepo, tag, plan.update_size_mb, plan.update_layers,
                             top_seed="" if tag == "v1" else tag) for tag in ("v1", "v2", "v3")}
    records: list[dict[str, Any]] = []
    with Testbed(base / "bed", ["1.6"] * plan.bed_nodes, SUBNET) as bed, \
            SlowUpstream(base / "upstream", bed.tag, bed.state.bridge, SUBNET, bed.base / "upstream.sock") as up:
        m = Matrix(bed, up)
        with step("push images, configure nodes"):
            for image in [*images.values(), *update.values()]:
                push(image, f"{bed.host_addr}:5000")  # the fast host-side door to the same registry
            pulls.configure_all(bed, m.spec)
        for case in plan.cases:
            rec = _record(case.key, "pull", size_mb=case.size_mb, layers=case.layers, nodes=case.nodes)
            records.append(rec)
            for i in range(case.runs):
                with step(f"matrix {case.key} run {i + 1}/{case.runs}"):
                    m.case_run(case, images[case.repo], rec)
                print(f"[bench]   {case.key}: " + ", ".join(
                    f"{mode} {rec['modes'][mode][-1]['seconds']}s" for mode in MODES), flush=True)
        rec = _record(f"update-{plan.update_size_mb}MB-{plan.update_layers}L-{plan.update_nodes}N", "update",
                      size_mb=plan.update_size_mb, layers=plan.update_layers, nodes=plan.update_nodes)
        records.append(rec)
        for i in range(plan.update_runs):
            with step(f"matrix rolling update v1 -> v2 run {i + 1}/{plan.update_runs}"):
                m.update_run(update, bed.nodes[:plan.update_nodes], rec)
    figs = figures(records)
    details = {"plan": asdict(plan), "cases": records, "prewarm_impl": PREWARM_IMPL,
               "link": "upstream in its own namespace: tc tbf 100mbit both ways on its veth + 40 ms added to "
               "every response chunk by bench.delayrelay (no sch_netem in this kernel)",
               "pull": "crictl pull by upstream name on all the case's nodes at once (CRI, includes unpack); "
               "seconds = wall time until the last node finished; the nodes' store emptied before each pull",
               "upstream_bytes": "response body bytes the upstream's nginx sent during the pull (its access log), "
               "all clients (nodes direct, the cache on a miss)"}
    save("matrix", figs, details, started)
    return figs
