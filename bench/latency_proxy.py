"""A TCP proxy on loopback that delivers every byte a fixed time after it arrived, in both directions.

The bench's stand-in for the network between the API and a remote S3: the bundled S3 server answers
on loopback within a millisecond or two, which no S3 across a network does. The delay is added, and with
`bytes_per_second` a bandwidth limit that pushes back on the sender as a slow link does (otherwise bandwidth is
loopback's). Bytes are forwarded unchanged (SigV4 signatures name the proxy's host, which is the Host header
the S3 server sees).
"""

from __future__ import annotations

import asyncio
import socket
import threading


class LatencyProxy:
    """Listens on a free 127.0.0.1 port and forwards to `upstream_port`, `one_way_delay` seconds late."""

    def __init__(self, upstream_port: int, one_way_delay: float, bytes_per_second: float | None = None) -> None:
        self.upstream_port = upstream_port
        self.one_way_delay = one_way_delay
        self.bytes_per_second = bytes_per_second
        self.loop = asyncio.new_event_loop()
        self.listener = socket.socket()
        if bytes_per_second is not None:
            # Loopback lets the kernel buffer megabytes of a connection (tcp_rmem), which a slow link never holds:
            # with a small receive buffer the sender is held back at the link's pace, as it would be.
            self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 64 * 1024)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen()
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
        server = self.loop.run_until_complete(asyncio.start_server(self._connection, sock=self.listener))
        try:
            self.loop.run_forever()
        finally:
            # Connections still open when the proxy stops end here, in their loop, not later in the garbage
            # collector on a closed loop (which reports them as errors in whatever runs then).
            server.close()
            # Again while any is left: a pipe cancelled while it waits may wait once more as it closes (its queue).
            while pending := asyncio.all_tasks(self.loop):
                for task in pending:
                    task.cancel()
                self.loop.run_until_complete(asyncio.wait(pending, timeout=1))
            self.loop.close()

    async def _connection(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        try:
            await asyncio.gather(
                self._pipe(client_reader, upstream_writer),
                self._pipe(upstream_reader, client_writer),
                return_exceptions=True,
            )
        finally:
            client_writer.close()
            upstream_writer.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Copy `reader` to `writer`, each chunk leaving `one_way_delay` after it came in (chunks do not
        wait for each other: a long body takes the delay once, not once per chunk). With a bandwidth limit,
        each chunk also takes its time on the wire, and what waits is bounded, so the sender is held back."""
        rate = self.bytes_per_second
        limited = rate is not None
        queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue(maxsize=16 if limited else 0)

        async def deliver() -> None:
            while True:
                due, chunk = await queue.get()
                await asyncio.sleep(max(0.0, due - self.loop.time()))
                if not chunk:
                    writer.close()
                    return
                if rate is not None:
                    await asyncio.sleep(len(chunk) / rate)
                writer.write(chunk)
                await writer.drain()

        delivery = asyncio.create_task(deliver())
        try:
            while not delivery.done() and (chunk := await reader.read(64 * 1024 if limited else 256 * 1024)):
                await queue.put((self.loop.time() + self.one_way_delay, chunk))
        finally:
            if not delivery.done():  # it ends early only when the other side went away
                await queue.put((self.loop.time() + self.one_way_delay, b""))
            await delivery
