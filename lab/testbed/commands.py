"""Running commands and waiting for services while the bed starts."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
import urllib.request
from collections.abc import Callable, Sequence
from typing import Any


def run(cmd: Sequence[str], check: bool = True, **kw: Any) -> subprocess.CompletedProcess[str]:
    """Run a command, capturing its text output."""
    return subprocess.run(list(cmd), check=check, text=True, capture_output=True, **kw)


def wait_until(what: str, probe: Callable[[], bool], timeout: float = 20.0) -> None:
    """Poll ``probe`` until it returns true (exceptions count as not yet); TimeoutError naming ``what``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with contextlib.suppress(Exception):
            if probe():
                return
        time.sleep(0.1)
    raise TimeoutError(f"testbed: {what} did not come up within {timeout}s")


def tcp_open(addr: str, port: int) -> bool:
    """Something accepts TCP connections on addr:port."""
    with socket.create_connection((addr, port), timeout=1):
        return True


def http_ok(url: str, token: str | None = None) -> bool:
    """GET url answers 200 (bed addresses only), sent with a Bearer ``token`` when given."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (http URLs of the bed)
    with urllib.request.urlopen(request, timeout=2) as r:  # noqa: S310 (http URLs of the bed)
        return bool(r.status == 200)
