"""components/provider_pool.py: a gRPC server built like pulumi.dynamic's (4 workers) answers more calls at once
after widen_rpc_pool, and the node providers widen it in configure."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from components.provider_pool import widen_rpc_pool

CALLS = 10


@pytest.fixture
def server() -> Iterator[tuple[grpc.Server, int, threading.Barrier]]:
    """A loopback gRPC server with pulumi.dynamic's pool; its one method waits until CALLS calls run at once."""
    barrier = threading.Barrier(CALLS, timeout=3)

    def meet(request: bytes, _context: grpc.ServicerContext) -> bytes:
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            return b"alone"
        return b"together"

    handler = grpc.method_handlers_generic_handler("bench.Pool", {"Meet": grpc.unary_unary_rpc_method_handler(
        meet, request_deserializer=None, response_serializer=None)})
    srv = grpc.server(ThreadPoolExecutor(max_workers=4))
    srv.add_generic_rpc_handlers((handler,))
    port = srv.add_insecure_port("127.0.0.1:0")
    srv.start()
    yield srv, port, barrier
    srv.stop(0)


def _call_all(port: int) -> list[bytes]:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        meet = channel.unary_unary("/bench.Pool/Meet")
        with ThreadPoolExecutor(max_workers=CALLS) as pool:
            return list(pool.map(lambda _: meet(b"", timeout=20), range(CALLS)))


def test_four_workers_cannot_run_ten_calls_at_once(server: tuple[grpc.Server, int, threading.Barrier]) -> None:
    _, port, _ = server
    assert b"together" not in _call_all(port)


def test_widened_server_runs_ten_calls_at_once(server: tuple[grpc.Server, int, threading.Barrier]) -> None:
    _, port, _ = server
    assert widen_rpc_pool(CALLS * 2) >= 1
    assert _call_all(port) == [b"together"] * CALLS
    assert widen_rpc_pool(CALLS * 2) == 0  # already wide enough: nothing replaced


def test_node_provider_configure_widens_the_pool(server: tuple[grpc.Server, int, threading.Barrier]) -> None:
    from pulumi.dynamic import Config, ConfigureRequest

    from components.node_ssh import NodeContainerdConfigProvider

    _, port, _ = server
    config = Config({"harbor-cache:sshPrivateKey": "k"}, "harbor-cache")
    NodeContainerdConfigProvider().configure(ConfigureRequest(config))
    assert _call_all(port) == [b"together"] * CALLS
