"""`vigil serve` with its SQLite store locked, read-only or full: signed calls still get their
cards, feedback is refused with a 503 OperationOutcome, no worker is lost, `GET /health` says
degraded and why (and ok again once the store works), the log says so without a traceback, and
the audit of the calls answered meanwhile is written once it can be, or counted as lost."""

from __future__ import annotations

import json
import os
import resource
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from fhir_adapters.cds_hooks import handoff
from fhir_adapters.cds_hooks.storage import SqliteReader

from .support import EC, ISS, free_port, hook_request, packaged, prefetch_for, stop, token

SERVICE = "/cds-services/calf-fasciculation"
TIMEOUT = 10.0  # each call is answered within it, or the test fails

pytestmark = pytest.mark.skipif(
    not Path("/proc").is_dir() or not handoff.supported(), reason="Linux only"
)


@dataclass
class Served:
    process: subprocess.Popen[bytes]
    url: str
    database: Path
    log: Path
    answered: int = 0  # signed patient-view calls answered with their card

    def call(self, bearer: str | None = None) -> httpx.Response:
        """A signed patient-view for a patient whose answer is an urgent card."""
        bearer = bearer or token(self.url + SERVICE)
        body = hook_request("pr", prefetch=prefetch_for("pr", packaged("calf-fasciculation")))
        headers = {"Authorization": f"Bearer {bearer}"}
        return httpx.post(self.url + SERVICE, json=body, headers=headers, timeout=TIMEOUT)

    def cards(self) -> list[dict[str, Any]]:
        response = self.call()
        assert response.status_code == 200, response.text
        cards: list[dict[str, Any]] = response.json()["cards"]
        assert [card["indicator"] for card in cards] == ["critical"]
        self.answered += 1
        return cards

    def feedback(self, card: str) -> httpx.Response:
        path = SERVICE + "/feedback"
        item = {"card": card, "outcome": "overridden", "outcomeTimestamp": "2024-06-01T10:00:00Z"}
        headers = {"Authorization": f"Bearer {token(self.url + path)}"}
        return httpx.post(
            self.url + path, json={"feedback": [item]}, headers=headers, timeout=TIMEOUT
        )

    def health(self) -> dict[str, Any]:
        response = httpx.get(self.url + "/health", timeout=TIMEOUT)
        assert response.status_code == 200
        report: dict[str, Any] = response.json()
        return report

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return [int(pid) for pid in children.read_text().split()]


@contextmanager
def vigil_serve(tmp_path: Path, preexec: Callable[[], None] | None = None) -> Iterator[Served]:
    """`python -m vigil serve` with authentication (support's EC key signs the tokens), one
    worker, the packaged ruleset, its database in `tmp_path / "store"`."""
    folder = tmp_path / "store"
    folder.mkdir(exist_ok=True)
    database = folder / "vigil.sqlite3"
    (tmp_path / "jwks.json").write_text(json.dumps({"keys": [EC.as_dict(private=False)]}))
    config = tmp_path / "vigil.toml"
    config.write_text(
        f'database = "{database}"\n[[issuers]]\niss = "{ISS}"\njwks_file = "jwks.json"\n'
    )
    port = free_port()
    log = tmp_path / "serve.log"
    argv = [sys.executable, "-m", "vigil", "serve", "--config", str(config), "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
            preexec_fn=preexec,
        )
    served = Served(process, f"http://127.0.0.1:{port}", database, log)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(served.url + "/cds-services", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log.read_text()[-2000:])
            time.sleep(0.2)
        yield served
    finally:
        stop(process, timeout=20)


def recovers(served: Served, seconds: float = 30) -> None:
    """Signed calls until /health says ok (the records and token ids kept meanwhile are written
    once a write is tried again, at most once a second)."""
    deadline = time.monotonic() + seconds
    while (report := served.health())["status"] != "ok":
        assert time.monotonic() < deadline, report
        served.cards()
        time.sleep(0.2)


def audited_calls(database: Path) -> list[tuple[str, int, int]]:
    reader = SqliteReader(database)
    try:
        return [(r.kind, r.status, r.count) for r in reader.query(limit=10_000)]
    finally:
        reader.close()


def assert_refused_feedback(served: Served, card: str) -> None:
    response = served.feedback(card)
    assert response.status_code == 503, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "not recorded" in outcome["issue"][0]["diagnostics"]


def test_a_locked_store_degrades_the_service_and_loses_nothing(tmp_path: Path) -> None:
    with vigil_serve(tmp_path) as served:
        assert served.health()["status"] == "ok"
        [card] = served.cards()
        workers = served.workers()
        holder = sqlite3.connect(served.database, isolation_level=None)
        holder.execute("BEGIN EXCLUSIVE")  # every writer waits, then gives up
        try:
            for _ in range(3):
                served.cards()
            assert_refused_feedback(served, card["uuid"])
            report = served.health()
            assert report["status"] == "degraded"
            assert set(report["failing"].values()) == {"the database is locked"}
            assert report["counters"]["tokens_in_memory"] >= 3
        finally:
            holder.execute("ROLLBACK")
            holder.close()
        served.cards()  # a claim once the lock is gone: the token ids kept are written
        assert served.feedback(card["uuid"]).status_code == 200
        recovers(served)
        assert served.health()["counters"]["audit_lost"] == 0
        assert served.workers() == workers and served.process.poll() is None
        served.process.send_signal(signal.SIGTERM)
        assert served.process.wait(timeout=30) == 0
    calls = audited_calls(served.database)
    assert calls.count(("service", 200, 1)) == served.answered  # those under the lock too
    assert ("feedback", 503, 1) in calls and ("feedback", 200, 1) in calls
    text = served.log.read_text()
    assert "the database is locked" in text and "Traceback" not in text


def file_size_limit(size: int) -> Callable[[], None]:
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


def test_a_full_store_degrades_the_service_which_still_refuses_replays(tmp_path: Path) -> None:
    # no file of the service may grow past 384 KiB: its write-ahead log soon cannot
    with vigil_serve(tmp_path, preexec=file_size_limit(384 * 1024)) as served:
        workers = served.workers()
        [card] = served.cards()
        for _ in range(60):
            served.cards()
            if served.health()["status"] == "degraded":
                break
        report = served.health()
        assert report["status"] == "degraded", report
        assert report["counters"]["write_failures"] >= 1
        for _ in range(3):
            served.cards()
        replayed = token(served.url + SERVICE)
        assert served.call(replayed).status_code == 200
        assert served.call(replayed).status_code == 401  # kept in memory, and checked
        for _ in range(20):  # feedback is stored while its few bytes still fit
            if served.feedback(card["uuid"]).status_code != 200:
                break
        assert_refused_feedback(served, card["uuid"])
        assert served.workers() == workers and served.process.poll() is None
    text = served.log.read_text()
    assert "records cannot be written" in text and "Traceback" not in text


def immutable(path: Path, on: bool) -> bool:
    done = subprocess.run(
        ["chattr", "+i" if on else "-i", str(path)], capture_output=True, check=False
    )
    return done.returncode == 0


def test_a_read_only_store_degrades_the_service(tmp_path: Path) -> None:
    probe = tmp_path / "probe"
    probe.write_text("")
    if not immutable(probe, True):
        pytest.skip("making a file read-only under an open descriptor needs chattr +i (root)")
    immutable(probe, False)
    with vigil_serve(tmp_path) as served:
        [card] = served.cards()
        # the database and its write-ahead log; not the -shm index SQLite maps into memory
        # (a write to a mapped page of an immutable file would kill the process with SIGBUS)
        files = [served.database, served.database.with_name(served.database.name + "-wal")]
        try:
            for path in files:
                assert immutable(path, True)
            for _ in range(3):
                served.cards()
            assert_refused_feedback(served, card["uuid"])
            assert served.health()["status"] == "degraded"
        finally:
            for path in files:
                immutable(path, False)
        served.cards()
        assert served.feedback(card["uuid"]).status_code == 200
        recovers(served)
        assert served.process.poll() is None
    assert "Traceback" not in served.log.read_text()
