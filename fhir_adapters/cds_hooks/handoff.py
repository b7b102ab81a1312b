"""Connections from the supervisor to the workers: the supervisor accepts each connection on
the service's one listening socket and hands it (its file descriptor, over a Unix socket) to
the ready worker holding the fewest open connections.

An EHR keeps its connections open and sends call after call down them, so where a connection
lands decides a worker's share of the calls for as long as it stays open. Left to the kernel
(one SO_REUSEPORT socket per worker, spread by a hash of the addresses), ten connections split
6/4 or 7/3 in each of four load rounds; the worker holding seven answered each call after six
others (in one round the p90 of fresh patients was 59 ms for a p50 of 24). Handed over by
count, they split 5/5 every time. Only the connection passes through the supervisor, once:
the calls go straight to the worker.

The control socket carries, from the supervisor, one byte with each connection's descriptor;
from the worker, `ready` once it serves, then its count of open connections each time one
closes (absolute, so a message lost is corrected by the next).
"""

from __future__ import annotations

import asyncio
import contextlib
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import uvicorn

__all__ = ["Balancer", "HandedServer", "supported"]

_READY = b"ready"
_PAUSE_SECONDS = 0.05


def supported() -> bool:
    """Whether this system can pass sockets between processes (SCM_RIGHTS: Linux, BSD, macOS)."""
    return hasattr(socket, "send_fds") and hasattr(socket, "AF_UNIX")


def control_pair() -> tuple[socket.socket, socket.socket]:
    """The supervisor's end and the worker's end of a control socket."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)


@dataclass(eq=False)
class _Worker:
    control: socket.socket
    ready: bool = False
    open: int = 0
    last: int = 0  # when it was last handed a connection (a count of hand-overs)
    _pending: bytes = field(default=b"", repr=False)

    def read(self) -> bool:
        """Take the worker's messages; False when its end is closed (the worker is gone)."""
        try:
            data = self.control.recv(4096)
        except BlockingIOError:
            return True
        except OSError:
            return False
        if not data:
            return False
        *lines, self._pending = (self._pending + data).split(b"\n")
        for line in lines:
            if line == _READY:
                self.ready = True
            elif line.isdigit():
                self.open = int(line)
        return True


class Balancer:
    """The supervisor's side, on a thread of its own so that a connection is never kept
    waiting by an audit write: accepts on the listening socket and hands each connection to
    the ready worker with the fewest open. While no worker is ready, connections wait in the
    kernel's backlog."""

    def __init__(self) -> None:
        self._selector = selectors.DefaultSelector()
        self._workers: dict[int, _Worker] = {}
        self._listener: socket.socket | None = None
        self._listening = False
        self._lock = threading.Lock()
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._wake_reader.setblocking(False)
        self._selector.register(self._wake_reader, selectors.EVENT_READ)
        self._calls: list[Callable[[], None]] = []  # run on the balancer's thread
        self._handed = 0
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="vigil-balancer", daemon=True)
        self._thread.start()

    def add(self, control: socket.socket) -> None:
        """A new worker's control socket (the supervisor's end)."""
        control.setblocking(False)
        with self._lock:
            self._workers[control.fileno()] = _Worker(control)
        self._call_soon(lambda: self._watch(control))

    def _watch(self, control: socket.socket) -> None:
        self._selector.register(control, selectors.EVENT_READ)

    def listen(self, listener: socket.socket) -> None:
        """Start handing out the connections of `listener`."""
        listener.setblocking(False)
        self._listener = listener
        self._call_soon(self._update_listening)

    def ready(self) -> int:
        with self._lock:
            return sum(w.ready for w in self._workers.values())

    def open_connections(self) -> list[int]:
        """Each ready worker's count of open connections, as last reported."""
        with self._lock:
            return [w.open for w in self._workers.values() if w.ready]

    def close(self) -> None:
        """Stop accepting; connections not yet accepted are refused when the listener closes."""
        self._stopped = True
        self._wake()
        self._thread.join(timeout=5)
        with self._lock:
            for worker in self._workers.values():
                worker.control.close()
            self._workers.clear()
        if self._listener is not None:
            self._listener.close()
        self._selector.close()
        self._wake_reader.close()
        self._wake_writer.close()

    def _call_soon(self, call: Callable[[], None]) -> None:
        with self._lock:
            self._calls.append(call)
        self._wake()

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_writer.send(b"w")

    def _run(self) -> None:
        while not self._stopped:
            for key, _ in self._selector.select(timeout=1.0):
                if key.fileobj is self._wake_reader:
                    with contextlib.suppress(OSError):
                        self._wake_reader.recv(4096)
                elif key.fileobj is self._listener:
                    self._accept()
                else:
                    self._read(key.fileobj)  # type: ignore[arg-type]
            with self._lock:
                calls, self._calls = self._calls, []
            for call in calls:
                call()

    def _read(self, control: socket.socket) -> None:
        with self._lock:
            worker = self._workers.get(control.fileno())
        if worker is None:
            return
        if not worker.read():
            self._drop(worker)
        self._update_listening()

    def _drop(self, worker: _Worker) -> None:
        with self._lock:
            self._workers.pop(worker.control.fileno(), None)
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(worker.control)
        worker.control.close()

    def _update_listening(self) -> None:
        """Watch the listener only while some worker is ready to take a connection."""
        if self._listener is None:
            return
        want = self.ready() > 0
        if want and not self._listening:
            self._selector.register(self._listener, selectors.EVENT_READ)
        elif not want and self._listening:
            self._selector.unregister(self._listener)
        self._listening = want

    def _accept(self) -> None:
        assert self._listener is not None
        while True:
            try:
                connection, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionAbortedError:  # the client gave up meanwhile
                continue
            except OSError:  # out of files: the connection waits; do not spin on it meanwhile
                time.sleep(_PAUSE_SECONDS)
                return
            with connection:
                if connection.family in (socket.AF_INET, socket.AF_INET6):
                    # a response written in two parts must not wait for the client's ACK
                    connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._hand_over(connection)

    def _hand_over(self, connection: socket.socket) -> None:
        """To the ready worker with the fewest open connections, of those the one handed a
        connection longest ago; one that cannot take it now (gone, or its socket full) is
        passed over. With none, the connection is closed."""
        with self._lock:
            candidates = sorted(
                (w for w in self._workers.values() if w.ready), key=lambda w: (w.open, w.last)
            )
        for worker in candidates:
            try:
                socket.send_fds(worker.control, [b"c"], [connection.fileno()])
            except BlockingIOError:
                continue
            except OSError:
                self._drop(worker)
                continue
            self._handed += 1
            worker.open, worker.last = worker.open + 1, self._handed
            return
        self._update_listening()


class HandedServer(uvicorn.Server):
    """uvicorn serving the connections the supervisor hands over on `control`, instead of
    accepting its own. It reports `ready` once serving, and its open connections as they
    close. When the supervisor's end closes, the server stops."""

    def __init__(self, config: uvicorn.Config, control: socket.socket) -> None:
        super().__init__(config)
        self._control = control
        self._loop: asyncio.AbstractEventLoop | None = None
        self._connecting: set[asyncio.Task[None]] = set()  # the loop keeps only weak references

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=[])
        if self.should_exit:
            return
        self._loop = asyncio.get_running_loop()
        self._control.setblocking(False)
        self._loop.add_reader(self._control.fileno(), self._take)
        self._tell(_READY)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        self._stop_taking()
        await super().shutdown(sockets=sockets)

    def _stop_taking(self) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self._control.fileno())

    def _take(self) -> None:
        assert self._loop is not None
        while True:
            try:
                data, fds, _, _ = socket.recv_fds(self._control, 64, 64)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                data, fds = b"", []
            if not data:  # the supervisor is gone: stop serving
                self._stop_taking()
                self.should_exit = True
                return
            for fd in fds:
                connection = socket.socket(fileno=fd)
                if self.should_exit:
                    connection.close()
                    continue
                task = self._loop.create_task(self._serve_connection(connection))
                self._connecting.add(task)
                task.add_done_callback(self._connecting.discard)

    async def _serve_connection(self, connection: socket.socket) -> None:
        assert self._loop is not None
        try:
            await self._loop.connect_accepted_socket(self._protocol, sock=connection)
        except OSError:  # closed by the client before it could be served
            connection.close()
            self._report_open()

    def _protocol(self) -> asyncio.Protocol:
        # What uvicorn.Server.startup builds for a connection it accepts itself.
        protocol: asyncio.Protocol = self.config.http_protocol_class(  # type: ignore[call-arg]
            config=self.config, server_state=self.server_state, app_state=self.lifespan.state
        )
        lost = protocol.connection_lost

        def connection_lost(exc: Exception | None) -> None:
            lost(exc)
            self._report_open()

        protocol.connection_lost = connection_lost  # type: ignore[method-assign]
        return protocol

    def _report_open(self) -> None:
        self._tell(str(len(self.server_state.connections)).encode())

    def _tell(self, message: bytes) -> None:
        # Lost when the supervisor is gone (the audit pipe stops the worker then) or its
        # socket is full (the next count corrects it).
        with contextlib.suppress(OSError):
            self._control.send(message + b"\n")
