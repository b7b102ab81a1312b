"""`vigil serve`: a supervisor and N worker processes. The supervisor holds the one listening
socket and hands each connection to the worker with the fewest open (`handoff`); the workers
serve the calls on the connections they are given.

Workers run the pure-Python asyncio loop, not uvloop: under load uvloop ran some calls a full
round late (with ten calls in flight on one worker, p90 97 ms against a p50 of 50 ms; 55
against 53 with asyncio, the same throughput).

The supervisor is the one process that writes the audit log and the token ids claimed
(`audit_channel`, `replay_channel`); a store that cannot be written stops nothing: it is
reported in `Health`, shared with every worker for `GET /health`. It replaces a worker that
dies (durable_rules' C core can crash the process), stops the workers on SIGINT or SIGTERM,
and gives up when a worker dies within seconds of starting. Connections are handed out only
once every worker has warmed up: a worker taking connections early would keep every keep-alive
connection made meanwhile, for good.
"""

from __future__ import annotations

import contextlib
import copy
import logging
import multiprocessing
import os
import signal
import socket
import sys
import time
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnContext, SpawnProcess
from pathlib import Path
from types import FrameType
from typing import Any

import uvicorn
import uvicorn.config

from . import handoff
from .audit_channel import AuditSender, AuditWriter
from .health import Health
from .replay_channel import ReplayClient, ReplayKeeper, channel_pair
from .storage import SqliteStore

APP = "fhir_adapters.cds_hooks.app:app_from_environment"
BACKLOG = 2048
STARTUP_GRACE_SECONDS = 10.0
STOP_TIMEOUT_SECONDS = 15.0
_IDLE_SECONDS = 0.2


class PortUnavailable(Exception):
    """The address cannot be bound (in use, or not an address of this machine)."""


def serve(host: str, port: int, workers: int, database: Path) -> int:
    """Run the service until stopped; the exit status (1 when a worker dies as it starts, or
    the database cannot be opened at the start). Raises PortUnavailable when the address is
    taken."""
    if not handoff.supported():  # Windows: uvicorn's own workers
        check_port(host, port)
        uvicorn.run(APP, factory=True, host=host, port=port, workers=workers, **_SERVER_OPTIONS)
        return 0
    return Supervisor(host, port, workers, database).run()


def check_port(host: str, port: int) -> None:
    """Raise PortUnavailable if anything listens on the address already."""
    listening_socket(host, port).close()


def listening_socket(host: str, port: int) -> socket.socket:
    """The service's socket, bound and listening; PortUnavailable when the address is taken."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(BACKLOG)
    except OSError as exc:
        sock.close()
        raise PortUnavailable(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    return sock


def run_worker(
    control: socket.socket, audit_pipe: Connection, claims: socket.socket, health: Health
) -> None:
    """One worker process: the app from the environment, warmed up, then uvicorn serving the
    connections the supervisor hands over on `control`. Audit records and token ids go to the
    supervisor (`audit_pipe`, `claims`); `health` is shared with it."""
    from .app import app_from_environment  # here: the supervisor itself loads no engine

    replay = ReplayClient(claims, on_lost=_stop_this_worker)
    app = app_from_environment(audit_log=AuditSender(audit_pipe), replay=replay, health=health)
    handoff.HandedServer(uvicorn.Config(app, **_SERVER_OPTIONS), control).run()


def _stop_this_worker() -> None:
    # uvicorn finishes the calls in flight; the supervisor, if it is still there, starts a
    # replacement with a claim channel of its own
    _say(f"worker {os.getpid()}: the supervisor no longer answers token claims; stopping")
    os.kill(os.getpid(), signal.SIGTERM)


def _log_config() -> dict[str, Any]:
    """uvicorn's logging, with Vigil's own line for each call instead of uvicorn's access log,
    which writes the request line, query string and all, where a client may put a patient."""
    config = copy.deepcopy(uvicorn.config.LOGGING_CONFIG)
    config["loggers"]["vigil.cds_hooks"] = {
        "handlers": ["default"],
        "level": "INFO",
        "propagate": False,
    }
    return config


_SERVER_OPTIONS: dict[str, Any] = {
    "log_level": "info",
    "log_config": _log_config(),
    "access_log": False,
    "ws": "none",
    "server_header": False,
    "loop": "asyncio",
}


@dataclass
class Supervisor:
    host: str
    port: int
    workers: int
    database: Path
    startup_grace: float = STARTUP_GRACE_SECONDS  # a worker dying sooner is not replaced
    processes: list[SpawnProcess] = field(default_factory=list)
    health: Health = field(default_factory=Health)
    _started: dict[int, float] = field(default_factory=dict)
    _stopping: bool = False

    def run(self) -> int:
        """Serve until SIGINT or SIGTERM; the exit status. Raises PortUnavailable first thing
        when the address is taken."""
        listener = listening_socket(self.host, self.port)  # connections wait in its backlog
        context = multiprocessing.get_context("spawn")
        previous = {sig: signal.signal(sig, self._stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        balancer: handoff.Balancer | None = None
        audit: AuditWriter | None = None
        _log_to_stderr()
        try:
            balancer = handoff.Balancer()
            store = SqliteStore(self.database)
            audit = AuditWriter(store, self.health)
            replays = ReplayKeeper(store, self.health)
            self.processes = [
                self._start(context, audit, replays, balancer) for _ in range(self.workers)
            ]
            if not self._wait_until_ready(audit, balancer):
                return 1
            if self._stopping:  # stopped while warming up
                return 0
            balancer.listen(listener)
            _say(f"{self.workers} worker(s) on http://{self.host}:{self.port}")
            while not self._stopping:
                audit.drain(_IDLE_SECONDS, also=[p.sentinel for p in self.processes])
                replays.retry()
                for index, process in enumerate(self.processes):
                    if process.is_alive() or self._stopping:
                        continue
                    lived = time.monotonic() - self._started.pop(id(process), 0.0)
                    if lived < self.startup_grace:
                        _say(f"worker {process.pid} exited with {process.exitcode} at start")
                        return 1
                    _say(f"worker {process.pid} exited with {process.exitcode}: replaced")
                    self.processes[index] = self._start(context, audit, replays, balancer)
            return 0
        except Exception as exc:  # the database cannot be opened, or no worker starts
            _say(f"stopping: {type(exc).__name__}: {exc}".splitlines()[0])
            return 1
        finally:
            if balancer is not None:
                balancer.close()  # no new connection; the workers' control sockets close
            listener.close()
            if audit is not None:
                self._stop_all(audit)
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _wait_until_ready(self, audit: AuditWriter, balancer: handoff.Balancer) -> bool:
        """Until every worker serves, or the service is stopped (False if a worker dies
        first); after a minute, go on with those ready."""
        deadline = time.monotonic() + STARTUP_GRACE_SECONDS * 6
        while balancer.ready() < self.workers and time.monotonic() < deadline:
            if self._stopping:
                return True
            audit.drain(0.05, also=[p.sentinel for p in self.processes])
            for process in self.processes:
                if not process.is_alive():
                    _say(f"worker {process.pid} exited with {process.exitcode} at start")
                    return False
        return True

    def _start(
        self,
        context: SpawnContext,
        audit: AuditWriter,
        replays: ReplayKeeper,
        balancer: handoff.Balancer,
    ) -> SpawnProcess:
        reader, writer = context.Pipe(duplex=False)
        mine, theirs = handoff.control_pair()
        claims_mine, claims_theirs = channel_pair()
        process = context.Process(
            target=run_worker, args=(theirs, writer, claims_theirs, self.health), daemon=False
        )
        process.start()
        # the worker holds the other copies: its exit closes the pipe and both sockets
        writer.close()
        theirs.close()
        claims_theirs.close()
        audit.add(reader)
        replays.add(claims_mine)
        balancer.add(mine)
        self._started[id(process)] = time.monotonic()
        return process

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def _stop_all(self, audit: AuditWriter) -> None:
        """SIGTERM every worker (uvicorn finishes the calls in flight), reading their audit
        records while they stop, then write what is left."""
        self._stopping = True
        for process in self.processes:
            if process.is_alive():
                process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        with contextlib.suppress(Exception):  # a failing audit log must not keep workers up
            while any(p.is_alive() for p in self.processes) and time.monotonic() < deadline:
                audit.drain(0.05, also=[p.sentinel for p in self.processes])
        for process in self.processes:
            if process.is_alive():
                process.kill()
            process.join()
        try:
            audit.close()
        except Exception as exc:
            _say(f"the last audit records could not be written: {type(exc).__name__}: {exc}")


def _log_to_stderr() -> None:
    """The supervisor's log lines (a store failing, recovering) on stderr, like `_say`'s."""
    logger = logging.getLogger("vigil.cds_hooks")
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("vigil serve: %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _say(message: str) -> None:
    print(f"vigil serve: {message}", file=sys.stderr, flush=True)


__all__ = ["PortUnavailable", "Supervisor", "check_port", "listening_socket", "serve"]
