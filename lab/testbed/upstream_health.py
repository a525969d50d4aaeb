"""What Harbor does with a proxy-cache project when its upstream goes down, played by the bed's pull path.

Harbor (``server/middleware/repoproxy/proxy.go``, ``controller/proxy/controller.go``,
``controller/registry/controller.go``; docs/faults.md "The upstream registry goes down"):

* it proxies only while the registry's **stored** status is Healthy, and a background check refreshes that
  status every 5 minutes (a GET of the upstream's ``/v2/``; Harbor's HTTP client gives up a connection after 30 s);
* while Healthy, a manifest by tag is first asked of the upstream (a HEAD); when that fails with anything but a
  404 or a rate limit, Harbor serves its local copy, after the upstream's error or timeout; a manifest by digest
  or a blob it holds is served locally at once;
* once Unhealthy, every request is served from the local copy only (what is not cached is 404).

The bed plays it with the same pieces Harbor has: the proxying registry (``mirror``: upstream first for a tag,
its local copy when the upstream fails, local first by digest, as Harbor while Healthy) and a plain registry
over the same storage (``local``: the local copy only, as Harbor while Unhealthy). ``harbor-backend.conf``
tells nginx which one serves the proxy-cache projects, and this checker flips it as Harbor's check would:
``python -m lab testbed upstream-health --dir BED`` (the bed starts it) checks the upstream every
``interval`` seconds (Harbor's 300 by default; ``set_interval`` changes it on a running bed), reloads nginx on a
change and logs each change to ``logs/upstream-status.log`` (``<unix time> healthy|unhealthy``).

Not played: Harbor links a tag in its store 10 s after the HEAD that named it (the local fallback only finds
linked tags), while the proxying registry links it at once; a 404 from the upstream (Harbor answers 404 and
drops the tag; the proxying registry serves its copy): neither happens when the upstream is down.
"""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

HARBOR_INTERVAL = 300.0  # controller/registry/controller.go: regularHealthCheckInterval
CONNECT_TIMEOUT = 30.0  # Harbor's HTTP transport: net.Dialer Timeout
BACKEND_CONF = "harbor-backend.conf"
SETTINGS = "upstream-health.json"
LOG = "upstream-status.log"  # (the checker's own output goes to upstream-health.log)


def write_backend(b: Path, healthy: bool) -> None:
    """Point the proxy-cache projects of the pull path at the proxying registry (healthy) or the local copy."""
    (b / BACKEND_CONF).write_text(f"set $harbor_backend {'mirror_reg' if healthy else 'local_reg'};\n")


def serving_local(b: Path) -> bool:
    """The pull path currently serves proxy-cache projects from the local copy only (status Unhealthy)."""
    return "local_reg" in (b / BACKEND_CONF).read_text()


def set_interval(b: Path, seconds: float) -> None:
    """Check the upstream every ``seconds`` from the next check on (the running checker re-reads it)."""
    (b / SETTINGS).write_text(json.dumps({"interval": seconds}))


def interval(b: Path) -> float:
    try:
        return float(json.loads((b / SETTINGS).read_text())["interval"])
    except (OSError, ValueError, KeyError):
        return HARBOR_INTERVAL


def upstream_healthy(url: str, timeout: float = CONNECT_TIMEOUT) -> bool:
    """Harbor's ping of a docker-registry upstream: ``GET /v2/`` answered 200 or 401."""
    try:
        with urllib.request.urlopen(f"{url}/v2/", timeout=timeout) as resp:  # noqa: S310 (the bed's own http)
            return int(resp.status) == 200
    except urllib.error.HTTPError as err:
        return err.code == 401
    except OSError:
        return False


def transitions(b: Path) -> list[tuple[float, str]]:
    """Every status change the checker logged: (unix time, "healthy" | "unhealthy")."""
    path = b / "logs" / LOG
    lines = path.read_text().splitlines() if path.exists() else []
    return [(float(t), s) for t, s in (line.split() for line in lines if line.strip())]


def run(b: Path, upstream_url: str) -> None:
    """Check the upstream every ``interval(b)`` seconds forever; flip the pull path and log each change."""
    healthy = not serving_local(b)
    due = time.monotonic() + interval(b)
    while True:
        time.sleep(0.2)
        due = min(due, time.monotonic() + interval(b))
        if time.monotonic() < due:
            continue
        now_healthy = upstream_healthy(upstream_url)
        due = time.monotonic() + interval(b)
        if now_healthy == healthy:
            continue
        healthy = now_healthy
        write_backend(b, healthy)
        subprocess.run(["nginx", "-c", str(b / "nginx.conf"), "-s", "reload"], check=False, capture_output=True)
        with open(b / "logs" / LOG, "a") as log:
            log.write(f"{time.time():.2f} {'healthy' if healthy else 'unhealthy'}\n")
