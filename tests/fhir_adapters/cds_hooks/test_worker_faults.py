"""A worker killed in the middle of a call (issue 12, faults): the call in flight ends with an
error at once rather than hanging, the other worker goes on serving, the supervisor starts a
replacement, and calls after it succeed."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

from engine import load_ruleset

from .support import fhir_server, hook_request, prefetch_for
from .test_workers import SERVICE, established_on, running_supervisor, workers_of

CALF = load_ruleset("calf-fasciculation")  # what the supervisor serves
IN_FLIGHT_SECONDS = 60.0  # how long the slow FHIR server holds a request, unless released


class _Held(BaseHTTPRequestHandler):
    """Answers a search with an empty Bundle, only once the test releases it."""

    arrived: threading.Event
    release: threading.Event

    def do_GET(self) -> None:
        self.arrived.set()
        self.release.wait(IN_FLIGHT_SECONDS)
        body = json.dumps({"resourceType": "Bundle", "type": "searchset"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/fhir+json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def slow_fhir() -> Iterator[tuple[str, threading.Event, threading.Event]]:
    """A loopback FHIR server that holds every search until released: its base URL, the event
    set when a search arrives, and the one that releases them."""
    arrived, release = threading.Event(), threading.Event()
    handler = type("Held", (_Held,), {"arrived": arrived, "release": release})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/fhir", arrived, release
    finally:
        release.set()
        server.shutdown()
        server.server_close()


def _call(url: str, patient: str = "pk") -> int:
    """One patient-view call with its data prefetched, on a connection of its own."""
    body = hook_request(patient, prefetch=prefetch_for(patient, CALF))
    with httpx.Client(base_url=url, timeout=30) as client:
        return client.post(f"/cds-services/{SERVICE}", json=body).status_code


def test_a_worker_killed_mid_call_fails_that_call_and_the_service_goes_on(
    tmp_path: Path, slow_fhir: tuple[str, threading.Event, threading.Event]
) -> None:
    fhir_url, arrived, _ = slow_fhir
    with running_supervisor(tmp_path) as (process, url):
        port = int(url.rsplit(":", 1)[1])
        time.sleep(1.5)  # past the startup grace the test supervisor was given
        before = workers_of(process.pid)
        assert len(before) == 2
        outcome: list[BaseException | int] = []

        def in_flight() -> None:
            body = hook_request("p1", **fhir_server(fhir_url))  # no prefetch: read from fhirUrl
            try:
                with httpx.Client(base_url=url, timeout=IN_FLIGHT_SECONDS / 2) as client:
                    outcome.append(client.post(f"/cds-services/{SERVICE}", json=body).status_code)
            except httpx.HTTPError as exc:
                outcome.append(exc)

        caller = threading.Thread(target=in_flight)
        caller.start()
        assert arrived.wait(30), "the call never reached the FHIR server"
        (busy,) = [pid for pid in before if established_on(pid, port) == 1]
        (other,) = set(before) - {busy}
        os.kill(busy, signal.SIGKILL)

        caller.join(IN_FLIGHT_SECONDS)
        assert not caller.is_alive()
        (result,) = outcome
        # the connection drops with its worker: an error the caller sees at once, not a hang
        # until its own timeout, and never an answer made up without the data
        # (the FHIR server would hold it past the caller's timeout)
        assert isinstance(result, httpx.HTTPError), result
        assert not isinstance(result, httpx.TimeoutException), result

        # Meanwhile, and while the replacement warms up, the other worker answers every call.
        assert [_call(url) for _ in range(6)] == [200] * 6
        assert other in workers_of(process.pid)

        deadline = time.monotonic() + 60
        while True:
            now = workers_of(process.pid)
            if len(now) == 2 and busy not in now:
                break
            assert time.monotonic() < deadline, "the killed worker was not replaced"
            time.sleep(0.2)
        (replacement,) = set(now) - set(before)

        # Once warm, the replacement takes its share of new connections, and answers them.
        while True:
            with httpx.Client(base_url=url, timeout=30) as client:
                assert client.get("/cds-services").status_code == 200
                if established_on(replacement, port) == 1:
                    body = hook_request("pk", prefetch=prefetch_for("pk", CALF))
                    response = client.post(f"/cds-services/{SERVICE}", json=body)
                    assert response.status_code == 200 and "cards" in response.json()
                    break
            assert time.monotonic() < deadline, "the replacement took no connection"
            time.sleep(0.2)
        assert [_call(url) for _ in range(4)] == [200] * 4
        assert process.poll() is None
    log = (tmp_path / "serve.log").read_text()
    assert f"worker {busy} exited with -9: replaced" in log
