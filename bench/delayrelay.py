"""A TCP-to-unix-socket relay that delays every chunk of the response by a fixed time (a userspace netem).

This kernel has no ``sch_netem`` (``CONFIG_NET_SCH_NETEM`` is not set), so the slow link is built from this
relay (latency) and ``tc tbf`` (rate). Chunks are forwarded ``delay`` seconds after they arrive, pipelined
(not serialised), so latency is added without cutting throughput; a bounded queue keeps backpressure.

    python -m bench.delayrelay --listen 127.0.0.1:5001 --unix /path/registry.sock --delay 0.04
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib

CHUNK = 65536
QUEUE = 64  # chunks in flight per direction (4 MiB): far above 40 ms x 100 Mbit/s


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, delay: float) -> None:
    """Copy reader to writer, each chunk ``delay`` seconds after it was read; half-close at EOF."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(QUEUE)

    async def read() -> None:
        while data := await reader.read(CHUNK):
            await queue.put((loop.time() + delay, data))
        await queue.put((loop.time() + delay, b""))

    async def write() -> None:
        while True:
            due, data = await queue.get()
            if (wait := due - loop.time()) > 0:
                await asyncio.sleep(wait)
            if not data:
                if writer.can_write_eof():
                    writer.write_eof()
                return
            writer.write(data)
            await writer.drain()

    with contextlib.suppress(ConnectionError, OSError):
        await asyncio.gather(read(), write())


async def _serve(listen: str, unix: str, up_delay: float, down_delay: float) -> None:
    host, port = listen.rsplit(":", 1)

    async def handle(client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            server_r, server_w = await asyncio.open_unix_connection(unix)
        except OSError:
            client_w.close()
            return
        await asyncio.gather(_pump(client_r, server_w, up_delay), _pump(server_r, client_w, down_delay))
        for w in (server_w, client_w):
            with contextlib.suppress(ConnectionError, OSError):
                w.close()

    server = await asyncio.start_server(handle, host, int(port))
    async with server:
        await server.serve_forever()


def main() -> None:
    """Parse arguments and serve until killed."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listen", required=True, help="host:port to accept on")
    ap.add_argument("--unix", required=True, help="unix socket to relay to")
    ap.add_argument("--delay", type=float, default=0.04, help="seconds added to every response chunk")
    ap.add_argument("--request-delay", type=float, default=0.0, help="seconds added to every request chunk")
    args = ap.parse_args()
    asyncio.run(_serve(args.listen, args.unix, args.request_delay, args.delay))


if __name__ == "__main__":
    main()
