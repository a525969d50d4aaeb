"""Shared helpers: machine facts, medians, figures with targets, and bench/results.json."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_RESULTS = ROOT / "bench" / "results.json"
RESULTS = Path(os.environ.get("HARBOR_CACHE_BENCH_RESULTS", str(DEFAULT_RESULTS)))  # elsewhere: a trial
WORK = Path(os.environ.get("HARBOR_CACHE_BENCH_DIR", "/var/tmp/harbor-cache-bench"))
SUBNET = os.environ.get("HARBOR_CACHE_BENCH_SUBNET", "10.254")  # tests: 10.251 nodes, 10.252 sandbox, 10.253 e2e
RUNS = int(os.environ.get("HARBOR_CACHE_BENCH_RUNS", "3"))


def now() -> str:
    """UTC timestamp for results."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def median(values: list[float]) -> float:
    """Median rounded to milliseconds."""
    return round(statistics.median(values), 3)


@dataclass
class Figure:
    """One reported number with its target (``op`` is ``<=`` or ``>=``; no target when ``target`` is None)."""

    value: float
    unit: str
    target: float | None = None
    op: str = "<="
    runs: list[float] = field(default_factory=list)
    note: str = ""

    @property
    def met(self) -> bool | None:
        """Whether the target is met (None without a target)."""
        if self.target is None:
            return None
        return self.value <= self.target if self.op == "<=" else self.value >= self.target

    def to_dict(self) -> dict[str, Any]:
        """JSON form, with ``met`` and a readable target."""
        out = asdict(self)
        out["target"] = f"{self.op} {self.target}" if self.target is not None else None
        out["runs"] = [round(r, 2) for r in self.runs]
        out["met"] = self.met
        del out["op"]
        return out


def _cmd(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False).stdout.strip()
    except OSError:
        return ""


def machine() -> dict[str, Any]:
    """nproc, memory, kernel and tool versions."""
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                  if line.startswith("MemTotal:"))
    tools = ROOT / ".tools" / "bin"
    return {
        "nproc": os.cpu_count(), "memory_mb": mem_kb // 1024, "kernel": platform.release(),
        "load_avg_at_write": [round(x, 2) for x in os.getloadavg()],
        "tools": {
            "pulumi": _cmd([str(tools / "pulumi"), "version"]),
            "containerd": _cmd(["containerd", "--version"]),
            "python": platform.python_version(),
            "pulumi_sdk": _cmd([str(ROOT / ".venv" / "bin" / "python"), "-c",
                                "import importlib.metadata as m; print(m.version('pulumi'))"]),
            "docker_registry": _cmd(["docker-registry", "--version"]),
            "nginx": subprocess.run(["nginx", "-v"], capture_output=True, text=True, check=False).stderr.strip(),
        },
    }


def save(name: str, figures: dict[str, Figure], details: dict[str, Any], started: str) -> None:
    """Merge one benchmark's results into bench/results.json (other benchmarks' entries are kept)."""
    data: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    data["machine"] = machine()
    data.setdefault("benchmarks", {})[name] = {
        "started": started, "finished": now(),
        "figures": {k: f.to_dict() for k, f in figures.items()}, "details": details,
    }
    RESULTS.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def timed(fn: Callable[[], Any]) -> float:
    """Seconds ``fn`` took (monotonic clock)."""
    start = time.monotonic()
    fn()
    return time.monotonic() - start


@contextmanager
def step(label: str) -> Iterator[None]:
    """Print what is running and how long it took (progress on stderr-free stdout)."""
    start = time.monotonic()
    print(f"[bench] {label} ...", flush=True)
    try:
        yield
    finally:
        print(f"[bench] {label}: {time.monotonic() - start:.1f}s", flush=True)


def run(argv: list[str], timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    """subprocess.run with captured text output and a timeout."""
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=check)
