"""A FHIR server on loopback that fails in the ways a real one can, for the fault tests.

Its base URL's first path segment picks the fault (`http://127.0.0.1:PORT/trickle` then
`/trickle/Observation?...`); `good` answers the searches from `PATIENTS["pk"]`. It records what
it was sent and how many bytes it got out, and every endless answer stops by itself after a
safety limit, so a client that does not stop reading cannot hang the test run.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from .support import PATIENTS, searchset

SAFETY_BYTES = 128 * 1024 * 1024  # an endless body ends here, even if nobody stops reading it
SAFETY_SECONDS = 15.0  # a slow or trickling answer ends here
CHUNK = 64 * 1024


@dataclass
class Seen:
    """One request the server read: its path and headers (lower-case names)."""

    path: str
    headers: dict[str, str]


@dataclass
class FaultServer:
    port: int
    requests: list[Seen] = field(default_factory=list)
    body_bytes: dict[str, int] = field(default_factory=dict)  # by fault: body bytes sent
    inflated_bytes: dict[str, int] = field(default_factory=dict)  # by fault: before gzip
    hung_up: dict[str, threading.Event] = field(default_factory=dict)  # the client went away
    stopping: threading.Event = field(default_factory=threading.Event)

    def base(self, fault: str) -> str:
        return f"http://127.0.0.1:{self.port}/{fault}"

    def closed_by_client(self, fault: str) -> threading.Event:
        return self.hung_up.setdefault(fault, threading.Event())

    def serve(self, conn: socket.socket) -> None:
        with conn:
            head = _read_head(conn)
            if head is None:
                return
            seen = _parse(head)
            self.requests.append(seen)
            fault, _, rest = seen.path.lstrip("/").partition("/")
            try:
                self._answer(conn, fault, rest, seen)
            except OSError:
                self.closed_by_client(fault).set()

    def _answer(self, conn: socket.socket, fault: str, rest: str, seen: Seen) -> None:
        if fault == "good" or rest.startswith("moved/"):
            _send(conn, 200, _bundle_for(rest))
        elif fault == "cookie":  # a server that starts a session for the access token it got
            body = _bundle_for(rest)
            headers = {"Content-Type": "application/fhir+json", "Content-Length": str(len(body))}
            conn.sendall(_head(200, {**headers, "Set-Cookie": "session=1; Path=/"}) + body)
        elif fault == "lag":
            time.sleep(0.6)
            _send(conn, 200, _bundle_for(rest))
        elif fault == "slow":
            self._hold(conn, fault, b"")
        elif fault == "trickle":
            conn.sendall(_head(200, {"Content-Length": "1000000"}))
            self._hold(conn, fault, b" ", every=0.2)
        elif fault == "huge":
            conn.sendall(_head(200, {"Content-Length": str(10 * 1024**3)}))
            self._hold(conn, fault, b"")
        elif fault == "endless":
            self._endless(conn, fault, gzip=False)
        elif fault == "bomb":
            self._endless(conn, fault, gzip=True)
        elif fault == "error":
            outcome = {"resourceType": "OperationOutcome", "issue": [{"code": "exception"}]}
            _send(conn, 500, json.dumps(outcome).encode())
        elif fault == "html":
            _send(conn, 200, b"<html><body>Sign in</body></html>", "text/html")
        elif fault == "patient":
            _send(conn, 200, json.dumps({"resourceType": "Patient", "id": "pk"}).encode())
        elif fault == "elsewhere":
            # the same socket under another host name: a different origin to a browser or client
            where = f"http://localhost:{self.port}/good/{rest}"
            conn.sendall(_head(302, {"Location": where, "Content-Length": "0"}))
        elif fault == "same":
            conn.sendall(_head(302, {"Location": f"/same/moved/{rest}", "Content-Length": "0"}))
        elif fault == "loop":
            conn.sendall(_head(302, {"Location": seen.path, "Content-Length": "0"}))
        else:
            _send(conn, 404, b"{}")

    def _hold(self, conn: socket.socket, fault: str, byte: bytes, every: float = 0.2) -> None:
        """Keep the connection open, sending `byte` every `every` seconds, until the client
        hangs up (then `closed_by_client(fault)` is set) or the safety limit."""
        conn.settimeout(every)
        ends = time.monotonic() + SAFETY_SECONDS
        while time.monotonic() < ends and not self.stopping.is_set():
            try:
                if conn.recv(1) == b"":
                    break
            except TimeoutError:
                pass
            if byte:
                conn.sendall(byte)
                self.body_bytes[fault] = self.body_bytes.get(fault, 0) + len(byte)
        else:
            return
        self.closed_by_client(fault).set()

    def _endless(self, conn: socket.socket, fault: str, gzip: bool) -> None:
        headers = {"Transfer-Encoding": "chunked"}
        if gzip:
            headers["Content-Encoding"] = "gzip"
        conn.sendall(_head(200, headers))
        compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        sent = inflated = 0
        first = b'{"resourceType": "Bundle", "type": "searchset", "entry": []'
        while inflated < SAFETY_BYTES and not self.stopping.is_set():
            data = first + b" " * (CHUNK - len(first)) if inflated == 0 else b" " * CHUNK
            inflated += len(data)
            if gzip:
                data = compressor.compress(data)
                if not data:
                    continue
            conn.sendall(b"%x\r\n%s\r\n" % (len(data), data))
            sent += len(data)
            self.body_bytes[fault] = sent
            self.inflated_bytes[fault] = inflated
        tail = compressor.compress(b"}") + compressor.flush() if gzip else b"}"
        conn.sendall(b"%x\r\n%s\r\n0\r\n\r\n" % (len(tail), tail))


@contextmanager
def fault_server() -> Iterator[FaultServer]:
    """A FaultServer listening on a free loopback port, one thread a connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    server = FaultServer(listener.getsockname()[1])
    threads: list[threading.Thread] = []

    def accept() -> None:
        while not server.stopping.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=server.serve, args=(conn,), daemon=True)
            threads.append(thread)
            thread.start()

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    try:
        yield server
    finally:
        server.stopping.set()
        with suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        acceptor.join(timeout=5)
        for thread in threads:
            thread.join(timeout=5)


def _read_head(conn: socket.socket) -> bytes | None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            return None
        data += chunk
    return data.split(b"\r\n\r\n", 1)[0]


def _parse(head: bytes) -> Seen:
    line, *fields = head.decode("latin-1").split("\r\n")
    headers = {}
    for f in fields:
        name, _, value = f.partition(":")
        headers[name.strip().lower()] = value.strip()
    return Seen(line.split(" ")[1], headers)


def _bundle_for(rest: str) -> bytes:
    kind = rest.removeprefix("moved/").split("?", 1)[0]
    return json.dumps(searchset([r for r in PATIENTS["pk"] if r["resourceType"] == kind])).encode()


def _head(status: int, headers: dict[str, str]) -> bytes:
    lines = [
        f"HTTP/1.1 {status} X",
        "Connection: close",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _send(
    conn: socket.socket, status: int, body: bytes, kind: str = "application/fhir+json"
) -> None:
    conn.sendall(_head(status, {"Content-Type": kind, "Content-Length": str(len(body))}) + body)
