"""A TCP proxy on loopback that delivers every byte a fixed time after it arrived, in both directions.

The bench's stand-in for the network between the API and a remote S3: the bundled S3 server answers
on loopback within a millisecond or two, which no S3 across a network does. Only the delay is added:
bandwidth is loopback's, and bytes are forwarded unchanged (SigV4 signatures name the proxy's host,
which is the Host header the S3 server sees).
"""

from __future__ import annotations

import asyncio
import socket
import threading


class LatencyProxy:
    """Listens on a free 127.0.0.1 port and forwards to `upstream_port`, `one_way_delay` seconds late."""

    def __init__(self, upstream_port: int, one_way_delay: float) -> None:
        self.upstream_port = upstream_port
        self.one_way_delay = one_way_delay
        self.loop = asyncio.new_event_loop()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, name="latency-proxy", daemon=True)

    def start(self) -> LatencyProxy:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(asyncio.start_server(self._connection, sock=self.listener))
        self.loop.run_forever()

    async def _connection(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        await asyncio.gather(
            self._pipe(client_reader, upstream_writer),
            self._pipe(upstream_reader, client_writer),
            return_exceptions=True,
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy `reader` to `writer`, each chunk leaving `one_way_delay` after it came in (chunks do not
        wait for each other: a long body takes the delay once, not once per chunk)."""
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                await asyncio.sleep(max(0.0, due - self.loop.time()))
                if not chunk:
                    writer.close()
                    return
                writer.write(chunk)
                await writer.drain()

        delivery = asyncio.create_task(deliver())
        try:
            while chunk := await reader.read(256 * 1024):
                queue.put_nowait((self.loop.time() + self.one_way_delay, chunk))
        finally:
            queue.put_nowait((self.loop.time() + self.one_way_delay, b""))
            await delivery
