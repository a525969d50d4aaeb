"""The pull matrix in quick mode on a real bed (``scripts/bench matrix`` with tiny images): every mode runs, the
bytes over the slow upstream link are counted, the targets get figures and ``met`` flags, and charts render.

Its bed uses ``HARBOR_CACHE_BENCH_SUBNET`` (default 10.254, the bench's own), not the node tier's shared bed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from bench.common import ROOT
from lab.testbed import tools_ready
from tests.support.requirements import require

SIZE_MIB = 2


def test_quick_matrix_measures_every_mode_and_the_upstream_bytes(tmp_path: Path) -> None:
    require(tools_ready(["1.6"]), "the node test bed", "scripts/install-debian-packages, scripts/build-tools crictl")
    results = tmp_path / "results.json"
    env = {**os.environ, "HARBOR_CACHE_BENCH_QUICK": "1", "HARBOR_CACHE_BENCH_RESULTS": str(results),
           "HARBOR_CACHE_BENCH_DIR": str(tmp_path / "work"), "HARBOR_CACHE_BENCH_MATRIX_SIZES": str(SIZE_MIB),
           "HARBOR_CACHE_BENCH_MATRIX_LAYERS": "4", "HARBOR_CACHE_BENCH_MATRIX_NODES": "1,2",
           "HARBOR_CACHE_BENCH_MATRIX_UPDATE": f"{SIZE_MIB},2,2", "PYTHONPATH": str(ROOT)}
    env.setdefault("HARBOR_CACHE_BENCH_SUBNET", "10.254")
    run = subprocess.run([sys.executable, "-m", "bench", "matrix", "--no-report"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=600, check=False)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    matrix = json.loads(results.read_text())["benchmarks"]["matrix"]
    cases = {c["case"]: c for c in matrix["details"]["cases"]}
    assert set(cases) == {"2MB-4L-1N", "2MB-4L-2N", "update-2MB-2L-2N"}
    size = SIZE_MIB * 1024 * 1024
    for key in ("2MB-4L-1N", "2MB-4L-2N"):
        case, nodes = cases[key], cases[key]["nodes"]
        modes = {m: runs[0] for m, runs in case["modes"].items()}
        assert modes["direct"]["upstream_bytes"] >= nodes * size  # every node fetched every layer itself
        assert modes["cold"]["upstream_bytes"] >= 2 * size  # the cache fetches a missed blob twice (Harbor's way)
        for mode in ("warm", "prewarmed"):
            assert modes[mode]["upstream_bytes"] < 64 * 1024, f"{key} {mode} pulled blobs over the upstream link"
        assert case["prewarm"][0]["upstream_bytes"] >= size
    assert cases["2MB-4L-1N"]["floor_s"][0] > 0
    update = {m: runs[0] for m, runs in cases["update-2MB-2L-2N"]["modes"].items()}
    assert update["direct"]["upstream_bytes"] < 2 * size  # only the new top layer (half the image) per node
    figures = matrix["figures"]
    for name in ("warm_vs_floor", "prewarmed_vs_warm"):
        assert isinstance(figures[name]["met"], bool) and figures[name]["value"] > 0

    from bench.report import write_readme
    readme = tmp_path / "README.md"
    readme.write_text("# Bench\n")
    charts = write_readme(json.loads(results.read_text()), readme, tmp_path / "charts")
    assert all(p.read_bytes()[:4] == b"\x89PNG" for p in charts)
