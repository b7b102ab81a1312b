"""Token ids (`jti`) from the worker processes to one keeper, the supervisor, a socket each.

Each worker used to claim its tokens in the shared SQLite file itself. With two workers under
load a claim waited for the other worker's commit, or the supervisor's audit batch, in SQLite's
sleeping busy handler: 1.8 ms a call on average, 9 ms at the 99th percentile and up to 58 ms,
with the worker's event loop blocked all the while (one worker alone: 0.5 ms). A worker now
writes each claim down its socket and awaits the answer, serving other calls meanwhile; the
supervisor, the one process that writes the file, records every claim that has arrived in one
transaction and answers them in order once it is committed: a token is accepted only when its
jti is on disk, and a jti met twice is new the first time only, whichever workers met it.

When the file cannot be written (locked, read-only, full), the keeper answers from what it can
still read of the file and the claims it keeps in memory meanwhile (one supervisor answers every
claim, so memory is as sound as the file while it lives): signed calls go on being served. The
kept claims are written first once a write works again (tried at most every `RETRY_SECONDS`);
up to `MAX_KEPT` unexpired claims are kept, beyond that a claim is refused (a 503). A claim is
refused too when the file cannot even be read: a token is never accepted unchecked.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence

from .health import Health
from .storage import Claim, ReplayUnavailable, SqliteStore, StoreUnavailable

__all__ = ["MAX_KEPT", "RETRY_SECONDS", "ReplayClient", "ReplayKeeper", "channel_pair"]

log = logging.getLogger("vigil.cds_hooks")
CLAIM_TIMEOUT_SECONDS = 5.0
RETRY_SECONDS = 1.0
MAX_KEPT = 200_000
_NEW, _SEEN, _FAILED = b"1", b"0", b"!"


def channel_pair() -> tuple[socket.socket, socket.socket]:
    """The supervisor's end and the worker's end of a worker's claim channel."""
    return socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)


class ReplayClient(asyncio.Protocol):
    """A worker's replay cache: each claim is a JSON line to the supervisor, answered by a
    line of its own, in the order sent."""

    def __init__(
        self,
        channel: socket.socket,
        timeout: float = CLAIM_TIMEOUT_SECONDS,
        on_lost: Callable[[], None] | None = None,
    ) -> None:
        """`on_lost` is called once if the channel is lost: the supervisor's end closed, or an
        answer came to no claim (under `vigil serve`: this worker stops, and its replacement
        gets a channel of its own)."""
        self._channel: socket.socket | None = channel
        self._timeout = timeout
        self._on_lost = on_lost
        self._transport: asyncio.Transport | None = None
        self._connecting = asyncio.Lock()
        self._waiting: deque[asyncio.Future[bool]] = deque()
        self._pending = b""
        self._gone = False

    async def claim(self, issuer: str, jti: str, expires_at: float) -> bool:
        transport = await self._connected()
        answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._waiting.append(answer)
        transport.write(json.dumps([issuer, jti, expires_at]).encode() + b"\n")
        try:
            return await asyncio.wait_for(answer, self._timeout)
        except TimeoutError:
            # its answer still comes, in its turn, to this cancelled future
            raise ReplayUnavailable("the supervisor did not answer the claim in time") from None

    def close(self) -> None:
        """Close the channel (the supervisor's thread for it ends)."""
        self._gone = True
        if self._transport is not None:
            self._transport.close()
        elif self._channel is not None:
            self._channel.close()

    async def _connected(self) -> asyncio.Transport:
        async with self._connecting:
            if self._gone:
                raise ReplayUnavailable("the supervisor is gone")
            if self._transport is None and self._channel is not None:
                loop = asyncio.get_running_loop()
                channel, self._channel = self._channel, None
                transport, _ = await loop.create_unix_connection(lambda: self, sock=channel)
                self._transport = transport
            assert self._transport is not None
            return self._transport

    def data_received(self, data: bytes) -> None:
        *lines, self._pending = (self._pending + data).split(b"\n")
        for line in lines:
            if not self._waiting:
                log.error("replay: an answer to no claim; the channel is out of step")
                self._lose()
                return
            answer = self._waiting.popleft()
            if answer.done():  # timed out
                continue
            if line in (_NEW, _SEEN):
                answer.set_result(line == _NEW)
            else:
                answer.set_exception(ReplayUnavailable("the supervisor could not record it"))

    def connection_lost(self, exc: Exception | None) -> None:
        closed_here = self._gone
        self._gone = True
        self._fail_waiting()
        if not closed_here and self._on_lost is not None:
            self._on_lost()

    def _lose(self) -> None:
        self.close()
        self._fail_waiting()
        if self._on_lost is not None:
            self._on_lost()

    def _fail_waiting(self) -> None:
        while self._waiting:
            answer = self._waiting.popleft()
            if not answer.done():
                answer.set_exception(ReplayUnavailable("the supervisor is gone"))


class ReplayKeeper:
    """The supervisor's side: a thread for each worker's channel reads the claims that have
    arrived, records them in one transaction and answers each. The store's lock keeps them
    and the audit writer (on the supervisor's main thread) from waiting on SQLite's own."""

    def __init__(self, store: SqliteStore, health: Health | None = None) -> None:
        self.store = store
        self.health = health if health is not None else Health()
        self._lock = threading.Lock()  # one answer at a time: the kept claims are shared
        self._kept: dict[tuple[str, str], Claim] = {}  # answered new, not yet written
        self._retry_at = 0.0

    def add(self, channel: socket.socket) -> None:
        """A new worker's channel (the supervisor's end); served until the worker closes it."""
        serve = threading.Thread(target=self._serve, args=(channel,), name="vigil-replay")
        serve.daemon = True
        serve.start()

    def _serve(self, channel: socket.socket) -> None:
        pending = b""
        with channel:
            while True:
                try:
                    data = channel.recv(65536)
                except OSError:
                    return
                if not data:  # the worker has exited
                    return
                *lines, pending = (pending + data).split(b"\n")
                if not lines:
                    continue
                try:
                    channel.sendall(self.answer(lines))
                except OSError:
                    return

    def answer(self, lines: Sequence[bytes]) -> bytes:
        """The answer line to each claim line, in order."""
        claims = [_claim(line) for line in lines]
        valid = [c for c in claims if c is not None]
        with self._lock:
            new = iter(self._claim(valid))
        return b"".join(_line(None if c is None else next(new)) for c in claims)

    def retry(self) -> None:
        """Write the claims kept in memory, if any and their retry is due (the supervisor
        calls this between batches, so the store is seen working again without a new call)."""
        with self._lock:
            if self._kept and time.monotonic() >= self._retry_at:
                self._claim([])  # no claim of its own: only the kept ones are written

    def _claim(self, claims: Sequence[Claim]) -> list[bool | None]:
        """Whether each claim is new: written to the file with the kept ones when it can be,
        else checked against the file and the kept claims, and kept; None for a claim that
        cannot be checked (the file unreadable, memory full), which is not kept either."""
        if time.monotonic() >= self._retry_at:
            try:
                new = self.store.claim_many(claims, kept=list(self._kept.values()))
            except StoreUnavailable as exc:
                self._retry_at = time.monotonic() + RETRY_SECONDS
                if self.health.failed("tokens", exc.reason):
                    log.error(
                        "replay: token ids cannot be written: %s; checked against the file"
                        " and kept in memory until they can",
                        exc.reason,
                    )
            else:
                if self._kept:
                    log.warning("replay: %d token ids kept in memory written", len(self._kept))
                self._kept.clear()
                self._retry_at = 0.0
                self.health.recovered("tokens")
                return [*new]
        answers: list[bool | None] = []
        reason = ""
        for claim in claims:
            try:
                answers.append(self._claim_in_memory(claim))
            except StoreUnavailable as exc:  # this one is refused; those before it stand
                answers.append(None)
                reason = exc.reason
        if None in answers:
            log.error("replay: %d claims cannot be checked: %s", answers.count(None), reason)
        return answers

    def _claim_in_memory(self, claim: Claim) -> bool:
        now = time.time()
        key = (claim.issuer, claim.jti)
        kept = self._kept.get(key)
        if kept is not None and kept.expires_at >= now:
            return False
        if self.store.claimed(claim.issuer, claim.jti):
            return False
        if len(self._kept) >= MAX_KEPT:
            self._kept = {k: c for k, c in self._kept.items() if c.expires_at >= now}
            if len(self._kept) >= MAX_KEPT:
                raise StoreUnavailable("database error")
        self._kept[key] = claim
        self.health.count("tokens_in_memory")
        return True


def _line(new: bool | None) -> bytes:
    """The answer line to a claim: new, seen, or None: it could not be checked."""
    return (_FAILED if new is None else _NEW if new else _SEEN) + b"\n"


def _claim(line: bytes) -> Claim | None:
    """The claim of a line, or None when it is not one (never from a worker of this version)."""
    try:
        issuer, jti, expires_at = json.loads(line)
    except (ValueError, TypeError):
        return None
    if not isinstance(issuer, str) or not isinstance(jti, str):
        return None
    if not isinstance(expires_at, int | float) or isinstance(expires_at, bool):
        return None
    return Claim(issuer, jti, float(expires_at))
