"""A FHIR server that fails: every fault is a 412 (or cards) within the call's deadline, logged
and counted once, and the worker answers the next call. The prefetch is absent in every call,
so the service reads fhirServer itself."""

from __future__ import annotations

import asyncio
import gzip
import logging
import subprocess
import sys
import zlib
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fhir_adapters.cds_hooks.config import FhirClientConfig
from fhir_adapters.cds_hooks.fhir_client import (
    MAX_RESPONSE_BYTES,
    FetchError,
    FhirClient,
    FhirServer,
)

from .fault_server import FaultServer, fault_server
from .support import (
    ACCESS,
    LiveServer,
    ServerFactory,
    fhir_server,
    free_port,
    hook_request,
    searchset,
    stop,
    wait_until_serving,
)
from .test_service import checked, is_outcome, post
from .test_workers import workers_of

DEADLINE = FhirClientConfig(deadline=1.0)  # read_timeout stays 5 s: the deadline ends it first
MESSAGES = "vigil.cds_hooks.fhir"


@pytest.fixture
def faults() -> Iterator[FaultServer]:
    with fault_server() as server:
        yield server


def call(server: LiveServer, base: str) -> httpx.Response:
    return post(server, hook_request("pk", **fhir_server(base)))


def still_serving(server: LiveServer, faults: FaultServer) -> None:
    """The worker answers the next call, read from a FHIR server that works."""
    [card] = checked(call(server, faults.base("good")))
    assert card["indicator"] == "critical"


def failures(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == MESSAGES]


@pytest.mark.parametrize(
    ("fault", "message", "kind"),
    [
        ("slow", "fhirServer did not answer within 1 s", "deadline"),
        ("trickle", "fhirServer did not answer within 1 s", "deadline"),
        (
            "huge",
            f"fhirServer sent more than {MAX_RESPONSE_BYTES} bytes on /Observation",
            "too large",
        ),
        (
            "endless",
            f"fhirServer sent more than {MAX_RESPONSE_BYTES} bytes on /Observation",
            "too large",
        ),
        (
            "bomb",
            f"fhirServer sent more than {MAX_RESPONSE_BYTES} bytes on /Observation",
            "too large",
        ),
        ("error", "fhirServer answered 500 on /Observation", "status 500"),
        ("html", "fhirServer sent a body that is not JSON on /Observation", "not JSON"),
        ("patient", "fhirServer sent Patient, not a Bundle, on /Observation", "not a Bundle"),
        (
            "elsewhere",
            "fhirServer redirected /Observation outside fhirServer; not followed",
            "redirect",
        ),
        ("loop", "fhirServer redirected /Observation more than 5 times", "redirect"),
    ],
)
def test_a_failing_fhir_server_is_a_412_saying_what_happened(
    serve: ServerFactory,
    faults: FaultServer,
    caplog: pytest.LogCaptureFixture,
    fault: str,
    message: str,
    kind: str,
) -> None:
    caplog.set_level(logging.INFO)
    server = serve(fhir=DEADLINE)
    said = is_outcome(call(server, faults.base(fault)), 412)
    assert said == f"prefetch 'observations' is absent and {message}"
    assert failures(caplog) == [f"fhirServer read failed: {kind} (1 in this worker)"]
    assert [r.status for r in server.store.query()] == [412]
    counters = httpx.get(server.url + "/health").json()["counters"]
    assert counters["fhir_server_failures"] == 1
    still_serving(server, faults)


@pytest.mark.parametrize("fault", ["slow", "trickle", "huge", "endless"])
def test_the_connection_to_a_failing_server_is_closed_not_left_reading(
    serve: ServerFactory, faults: FaultServer, fault: str
) -> None:
    server = serve(fhir=DEADLINE)
    is_outcome(call(server, faults.base(fault)), 412)
    assert faults.closed_by_client(fault).wait(timeout=10)


def test_an_endless_body_is_read_only_up_to_the_cap(
    serve: ServerFactory, faults: FaultServer
) -> None:
    server = serve()
    is_outcome(call(server, faults.base("endless")), 412)
    assert faults.closed_by_client("endless").wait(timeout=10)
    # what the client stopped reading at, plus what the sockets' buffers took in meanwhile
    assert faults.body_bytes["endless"] < MAX_RESPONSE_BYTES + 16 * 1024 * 1024


def test_one_deadline_covers_every_search_of_a_call(
    serve: ServerFactory, faults: FaultServer
) -> None:
    # each search is answered in 0.6 s, within the 1 s deadline; the two together are not
    server = serve(fhir=DEADLINE)
    said = is_outcome(call(server, faults.base("lag")), 412)
    assert said == "prefetch 'conditions' is absent and fhirServer did not answer within 1 s"
    [card] = checked(call(serve(fhir=FhirClientConfig(deadline=3.0)), faults.base("lag")))
    assert card["indicator"] == "critical"


def test_the_deadline_covers_the_next_pages_of_a_prefetched_bundle(
    serve: ServerFactory, faults: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    server = serve(fhir=DEADLINE)
    page = searchset([])
    page["link"] = [{"relation": "next", "url": faults.base("slow") + "/Observation?page=2"}]
    body = hook_request("pk", **fhir_server(faults.base("slow")), prefetch={"observations": page})
    said = is_outcome(post(server, body), 412)
    assert said == "prefetch 'observations' has more pages and fhirServer did not answer within 1 s"
    assert failures(caplog) == ["fhirServer read failed: deadline (1 in this worker)"]
    still_serving(server, faults)


def test_a_redirect_under_fhir_server_is_followed_with_the_token(
    serve: ServerFactory, faults: FaultServer
) -> None:
    server = serve()
    [card] = checked(call(server, faults.base("same")))
    assert card["indicator"] == "critical"
    moved = [r for r in faults.requests if r.path.startswith("/same/moved/")]
    assert len(moved) == 2  # observations and conditions
    assert all(r.headers["authorization"] == f"Bearer {ACCESS['access_token']}" for r in moved)


def test_a_redirect_to_another_host_is_not_followed(
    serve: ServerFactory, faults: FaultServer
) -> None:
    server = serve()
    is_outcome(call(server, faults.base("elsewhere")), 412)
    # the access token was never sent to the other host
    assert [
        r.path for r in faults.requests if r.headers.get("host", "").startswith("localhost")
    ] == []


def test_a_next_link_climbing_out_of_fhir_server_is_not_followed(
    serve: ServerFactory, faults: FaultServer
) -> None:
    # the link starts with fhirServer's URL, but its `..` takes it to another path of the host
    server = serve()
    page = searchset([])
    page["link"] = [{"relation": "next", "url": faults.base("good") + "/../admin/Observation"}]
    body = hook_request("pk", **fhir_server(faults.base("good")), prefetch={"observations": page})
    [card] = checked(post(server, body))  # the key is read from fhirServer instead
    assert card["indicator"] == "critical"
    assert [r.path for r in faults.requests if not r.path.startswith("/good/")] == []


def test_no_cookie_fhir_server_sets_goes_with_another_call(
    serve: ServerFactory, faults: FaultServer
) -> None:
    # a session fhirServer starts for one call's access token must not be another call's
    server = serve()
    checked(call(server, faults.base("cookie")))
    other = {**ACCESS, "access_token": "another-access-token"}
    body = hook_request("pk", fhirServer=faults.base("cookie"), fhirAuthorization=other)
    checked(post(server, body))
    assert len(faults.requests) == 4  # observations and conditions, twice
    assert [r.headers.get("cookie") for r in faults.requests] == [None] * 4


@pytest.mark.parametrize("tail", ["?tenant=a", "#top"])
def test_a_fhir_server_with_a_query_or_fragment_is_400_and_not_read(
    serve: ServerFactory, faults: FaultServer, tail: str
) -> None:
    # read as a base, `.../good?tenant=a/Observation?patient=pk&...` searched every patient
    server = serve()
    said = is_outcome(call(server, faults.base("good") + tail), 400)
    assert said.startswith("fhirServer: ") and "has no query (?) or fragment (#)" in said
    assert faults.requests == []


def test_a_refused_connection_is_a_412_logged_and_counted(
    serve: ServerFactory, faults: FaultServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    server = serve()
    down = f"http://127.0.0.1:{free_port()}/fhir"
    said = is_outcome(call(server, down), 412)
    assert said == (
        "prefetch 'observations' is absent and fhirServer unreachable on /Observation: ConnectError"
    )
    assert failures(caplog) == ["fhirServer read failed: unreachable (1 in this worker)"]
    still_serving(server, faults)


class Bomb(httpx.AsyncByteStream):
    """A gzip body of spaces without end, made as it is read; counts what it made. Or, given
    `body`, that body in pieces of 7 bytes."""

    def __init__(self, body: bytes = b"") -> None:
        self.inflated = 0
        self.body = body

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.body:
            for start in range(0, len(self.body), 7):
                yield self.body[start : start + 7]
            return
        compressor = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        while self.inflated < 4 * MAX_RESPONSE_BYTES:  # the test's own safety limit
            self.inflated += 1024 * 1024
            data = compressor.compress(b" " * (1024 * 1024))
            if data:
                yield data
        yield compressor.flush()


def test_a_decompression_bomb_is_inflated_only_up_to_the_cap() -> None:
    bomb = Bomb()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=bomb)

    async def go() -> Any:
        client = FhirClient(FhirClientConfig(), transport=httpx.MockTransport(handler))
        try:
            return await client.search(FhirServer("https://ehr.example/fhir", "t"), "Observation")
        finally:
            await client.aclose()

    with pytest.raises(FetchError, match=f"sent more than {MAX_RESPONSE_BYTES} bytes"):
        asyncio.run(go())
    # read a compressed piece at a time, stopping at the first one past the cap
    assert bomb.inflated <= MAX_RESPONSE_BYTES + 2 * 1024 * 1024


BUNDLE = b'{"resourceType": "Bundle", "entry": [{"resource": {"id": "o1"}}]}'


def raw_deflate(data: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


# deflate without its zlib wrapper, as some servers send it, is read as httpx read it
@pytest.mark.parametrize(
    ("encoding", "body"),
    [
        ("gzip", gzip.compress(BUNDLE)),
        ("deflate", zlib.compress(BUNDLE)),
        ("deflate", raw_deflate(BUNDLE)),
    ],
    ids=["gzip", "deflate", "raw deflate"],
)
def test_a_compressed_body_is_read(encoding: str, body: bytes) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert encoding in request.headers["accept-encoding"]
        return httpx.Response(200, headers={"Content-Encoding": encoding}, stream=Bomb(body))

    async def go() -> Any:
        client = FhirClient(FhirClientConfig(), transport=httpx.MockTransport(handler))
        try:
            return await client.search(FhirServer("https://ehr.example/fhir", "t"), "Observation")
        finally:
            await client.aclose()

    assert asyncio.run(go()) == [{"id": "o1"}]


def test_vigil_serve_keeps_its_worker_through_every_fault(
    tmp_path: Path, faults: FaultServer
) -> None:
    config = tmp_path / "vigil.toml"
    config.write_text('database = "vigil.sqlite3"\n[fhir]\ndeadline = 1.0\n')
    port = free_port()
    url = f"http://127.0.0.1:{port}/cds-services/calf-fasciculation"
    command = [sys.executable, "-m", "vigil", "serve", "--config", str(config), "--insecure-dev"]
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [*command, "--port", str(port), "--workers", "1"], stdout=log, stderr=log
        )
        try:
            wait_until_serving(f"http://127.0.0.1:{port}/cds-services", process)
            worker = workers_of(process.pid)
            for fault in ("trickle", "slow", "endless", "bomb", "huge", "elsewhere", "error"):
                body = hook_request("pk", **fhir_server(faults.base(fault)))
                response = httpx.post(url, json=body, timeout=30)
                assert response.status_code == 412, (fault, response.text)
            good = hook_request("pk", **fhir_server(faults.base("good")))
            assert httpx.post(url, json=good, timeout=30).status_code == 200
            assert workers_of(process.pid) == worker
        finally:
            stop(process, timeout=20)
    logged = (tmp_path / "serve.log").read_text()
    for kind in ("deadline (2", "too large (3", "redirect (1", "status 500 (1"):
        assert f"fhirServer read failed: {kind} in this worker)" in logged, logged
