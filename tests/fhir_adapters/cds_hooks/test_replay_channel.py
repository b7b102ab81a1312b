"""The workers' jti claims kept by the supervisor: answered in order once recorded, shared by
every worker, and refused (never guessed) when the supervisor cannot answer."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fhir_adapters.cds_hooks import replay_channel
from fhir_adapters.cds_hooks.replay_channel import ReplayClient, ReplayKeeper, channel_pair
from fhir_adapters.cds_hooks.storage import ReplayUnavailable, SqliteStore

ISS = "https://ehr.example.org"
LATER = time.time() + 3600


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "vigil.sqlite3")
    yield s
    s.close()


def worker(keeper: ReplayKeeper) -> ReplayClient:
    """A worker's client on a new channel to `keeper`."""
    mine, theirs = channel_pair()
    keeper.add(mine)
    return ReplayClient(theirs)


def test_a_jti_is_new_once_whichever_worker_claims_it(store: SqliteStore) -> None:
    keeper = ReplayKeeper(store)
    first, second = worker(keeper), worker(keeper)

    async def run() -> list[bool]:
        try:
            return [
                await first.claim(ISS, "j1", LATER),
                await second.claim(ISS, "j1", LATER),
                await second.claim(ISS, "j2", LATER),
                await first.claim("https://other.example.org", "j1", LATER),
            ]
        finally:
            first.close()
            second.close()

    assert asyncio.run(run()) == [True, False, True, True]
    assert not store.claim(ISS, "j2", LATER)  # on disk


def test_claims_in_flight_together_each_get_their_own_answer(store: SqliteStore) -> None:
    keeper = ReplayKeeper(store)
    clients = [worker(keeper), worker(keeper)]
    jtis = [f"j{n % 150}" for n in range(600)]  # each of 150 ids claimed four times

    async def run() -> list[bool]:
        claims = [clients[n % 2].claim(ISS, jti, LATER) for n, jti in enumerate(jtis)]
        try:
            return await asyncio.gather(*claims)
        finally:
            for client in clients:
                client.close()

    answers = asyncio.run(run())
    new = sorted(jti for jti, answer in zip(jtis, answers, strict=True) if answer)
    assert new == sorted(set(jtis))
    assert answers[:150] == [True] * 150  # the first claim of each id went first, in order


def test_a_store_that_cannot_record_refuses_every_claim(store: SqliteStore) -> None:
    keeper = ReplayKeeper(store)
    client = worker(keeper)
    store.close()

    async def run() -> None:
        try:
            with pytest.raises(ReplayUnavailable, match="could not record"):
                await client.claim(ISS, "j1", LATER)
        finally:
            client.close()

    asyncio.run(run())


def test_claims_fail_at_once_when_the_supervisor_is_gone() -> None:
    mine, theirs = channel_pair()
    client = ReplayClient(theirs, timeout=30)

    async def run() -> float:
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, mine.close)
        started = time.monotonic()
        with pytest.raises(ReplayUnavailable, match="gone"):
            await client.claim(ISS, "j1", LATER)
        with pytest.raises(ReplayUnavailable, match="gone"):
            await client.claim(ISS, "j2", LATER)
        client.close()
        return time.monotonic() - started

    assert asyncio.run(run()) < 10  # far from the 30 s timeout


def test_the_worker_is_told_once_when_the_supervisor_closes_the_channel() -> None:
    told: list[str] = []

    async def claim_then_lose(close_from_supervisor: bool) -> None:
        mine, theirs = channel_pair()
        client = ReplayClient(theirs, on_lost=lambda: told.append("lost"))
        claimed = asyncio.create_task(client.claim(ISS, "j1", LATER))
        await asyncio.sleep(0.05)
        if close_from_supervisor:
            mine.close()
        else:
            client.close()  # the worker's own closing is no news to it
        with pytest.raises(ReplayUnavailable):
            await claimed
        await asyncio.sleep(0.05)
        mine.close()

    asyncio.run(claim_then_lose(close_from_supervisor=False))
    assert told == []
    asyncio.run(claim_then_lose(close_from_supervisor=True))
    assert told == ["lost"]


def test_an_answer_to_no_claim_loses_the_channel() -> None:
    told: list[str] = []
    mine, theirs = channel_pair()
    client = ReplayClient(theirs, on_lost=lambda: told.append("lost"))

    async def run() -> None:
        claimed = asyncio.create_task(client.claim(ISS, "j1", LATER))
        await asyncio.sleep(0.05)  # sent, and waiting
        mine.sendall(b"0\n1\n")  # the "1" answers nothing
        assert await claimed is False
        await asyncio.sleep(0.05)
        with pytest.raises(ReplayUnavailable, match="gone"):
            await client.claim(ISS, "j2", LATER)

    try:
        asyncio.run(run())
    finally:
        mine.close()
    assert told == ["lost"]


def test_an_answer_too_late_is_not_taken_for_the_next_claim() -> None:
    mine, theirs = channel_pair()
    client = ReplayClient(theirs, timeout=0.2)

    async def run() -> None:
        with pytest.raises(ReplayUnavailable, match="in time"):
            await client.claim(ISS, "slow", LATER)
        answer_next = asyncio.create_task(client.claim(ISS, "next", LATER))
        await asyncio.sleep(0.05)
        mine.sendall(b"1\n0\n")  # the late answer to "slow" (new), then "next" (seen)
        assert await answer_next is False
        client.close()

    try:
        asyncio.run(run())
    finally:
        mine.close()


def test_a_line_that_is_no_claim_is_refused_and_the_others_answered(store: SqliteStore) -> None:
    keeper = ReplayKeeper(store)
    lines = [b'["i", "a", 1e12]', b"not json", b'["i", 7, 1e12]', b'["i", "a", 1e12]', b"[]"]
    assert keeper.answer(lines) == b"1\n!\n!\n0\n!\n"


def test_the_keeper_stops_serving_a_channel_its_worker_closed(store: SqliteStore) -> None:
    keeper = ReplayKeeper(store)
    mine, theirs = channel_pair()
    keeper.add(mine)
    theirs.close()
    deadline = time.monotonic() + 5
    while mine.fileno() != -1:  # closed by the keeper's thread on its way out
        assert time.monotonic() < deadline
        time.sleep(0.01)


@settings(max_examples=40, deadline=None)
@given(
    claims=st.lists(
        st.tuples(st.sampled_from([0, 1]), st.sampled_from([ISS, "iss\n2"]), st.text(max_size=12)),
        max_size=40,
    )
)
def test_any_token_ids_from_two_workers_are_new_exactly_once(
    claims: list[tuple[int, str, str]],
) -> None:
    store = SqliteStore(":memory:")
    keeper = ReplayKeeper(store)
    clients = [worker(keeper), worker(keeper)]

    async def run() -> list[bool]:
        try:
            return await asyncio.gather(
                *(clients[w].claim(issuer, jti, LATER) for w, issuer, jti in claims)
            )
        finally:
            for client in clients:
                client.close()

    try:
        answers = asyncio.run(run())
    finally:
        store.close()
    new = [
        (issuer, jti) for (_, issuer, jti), answer in zip(claims, answers, strict=True) if answer
    ]
    assert sorted(new) == sorted({(issuer, jti) for _, issuer, jti in claims})


def test_a_keeper_whose_store_is_locked_answers_from_memory_then_writes_the_ids(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(replay_channel, "RETRY_SECONDS", 0.0)
    store = SqliteStore(tmp_path / "vigil.sqlite3")
    keeper = ReplayKeeper(store)
    line = json.dumps(["iss", "j1", time.time() + 300]).encode()
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert keeper.answer([line, line]) == b"1\n0\n"  # new once, even in memory
        assert keeper.health.report()["failing"] == {"tokens": "the database is locked"}
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    keeper.retry()
    assert store.claimed("iss", "j1")
    assert keeper.health.report()["status"] == "ok"
    assert keeper.answer([line]) == b"0\n"
    store.close()


def test_a_claim_refused_for_want_of_memory_leaves_the_others_answered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # with the store locked and room in memory for one more id, the first claim is kept (new)
    # and the second refused: a token answered 503 must not be remembered as used
    monkeypatch.setattr(replay_channel, "RETRY_SECONDS", 0.0)
    monkeypatch.setattr(replay_channel, "MAX_KEPT", 1)
    store = SqliteStore(tmp_path / "vigil.sqlite3")
    keeper = ReplayKeeper(store)
    first, second = (json.dumps(["iss", j, time.time() + 300]).encode() for j in ("j1", "j2"))
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        assert keeper.answer([first, second]) == b"1\n!\n"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert keeper.answer([second, first]) == b"1\n0\n"  # sent again, j2 is new; j1 was used
    store.close()
