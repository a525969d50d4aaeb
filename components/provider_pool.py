"""More RPCs at once in the dynamic provider process, so that a large fleet's nodes are configured side by side.

Pulumi's Python dynamic provider serves its gRPC calls from ``ThreadPoolExecutor(max_workers=4)``
(``pulumi/dynamic/__main__.py``), and every node's create/update/delete holds one of those threads for its whole SSH
session. So 64 nodes went 4 at a time whatever ``pulumi up --parallel`` said (bench/README.md, fleet). The SDK
offers no setting for it; :func:`widen_rpc_pool` gives the running gRPC server a larger pool for the calls that
arrive from then on (grpc reads ``_ServerState.thread_pool`` per call). It is called from the node providers'
``configure``, which the dynamic provider runs once per process before the first call. It is a no-op outside a
provider process and when grpc's layout is not the one expected (the SDK's 4 then stay in force).
"""

from __future__ import annotations

import gc
import threading
from concurrent.futures import ThreadPoolExecutor

NODE_RPC_WORKERS = 64
"""Node sessions the provider process runs at once (the engine's ``--parallel`` is the other bound)."""

_lock = threading.Lock()


def _server_states() -> list[object]:
    return [o for o in gc.get_objects()
            if type(o).__name__ == "_ServerState" and type(o).__module__ == "grpc._server"]


def widen_rpc_pool(workers: int = NODE_RPC_WORKERS) -> int:
    """Give every gRPC server in this process a pool of ``workers`` threads if it has fewer; returns how many
    servers were widened (0: none found, or already wide enough)."""
    widened = 0
    with _lock:
        for state in _server_states():
            pool = getattr(state, "thread_pool", None)
            lock = getattr(state, "lock", None)
            if not isinstance(pool, ThreadPoolExecutor) or lock is None:
                continue
            if getattr(pool, "_max_workers", workers) >= workers:
                continue
            with lock:
                state.thread_pool = ThreadPoolExecutor(  # type: ignore[attr-defined]
                    max_workers=workers, thread_name_prefix="harbor-cache-rpc")
            widened += 1
    return widened
