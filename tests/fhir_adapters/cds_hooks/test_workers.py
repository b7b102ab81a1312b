"""`vigil serve --workers N`: connections handed out evenly by the supervisor, a dead worker
replaced, every call audited and every token id claimed by the supervisor, a port in use
refused with one line."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from fhir_adapters.cds_hooks import handoff
from fhir_adapters.cds_hooks.storage import SqliteStore
from fhir_adapters.cds_hooks.workers import PortUnavailable, Supervisor, check_port

from .support import EC, ISS, free_port, hook_request, no_data, stop, token

SERVICE = "calf-fasciculation"

pytestmark = pytest.mark.skipif(
    not Path("/proc/net/tcp").exists() or not handoff.supported(),
    reason="the tests read the workers' connections from Linux's /proc",
)

SUPERVISOR = """
import sys
from pathlib import Path
from fhir_adapters.cds_hooks.workers import Supervisor
port, grace, database = int(sys.argv[1]), float(sys.argv[2]), Path(sys.argv[3])
sys.exit(Supervisor("127.0.0.1", port, 2, database, startup_grace=grace).run())
"""


FALLBACK = """
import sys
from pathlib import Path
from fhir_adapters.cds_hooks import handoff, workers
handoff.supported = lambda: False  # as on Windows: no descriptors passed between processes
sys.exit(workers.serve("127.0.0.1", int(sys.argv[1]), 2, Path(sys.argv[3])))
"""


@contextmanager
def running_supervisor(
    tmp_path: Path, grace: float = 1.0, auth: bool = False, script: str = SUPERVISOR
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """A supervisor of two workers in a subprocess (a short startup grace, to test restarts),
    with `--insecure-dev` unless `auth`: then support's EC key signs the tokens. `script`
    replaces the supervisor (its arguments: port, grace, database)."""
    config = tmp_path / "vigil.toml"
    config.write_text(f'database = "{database(tmp_path)}"\n')
    env = {**os.environ, "VIGIL_CDS_INSECURE_DEV": "1", "PYTHONWARNINGS": "ignore"}
    if auth:
        (tmp_path / "jwks.json").write_text(json.dumps({"keys": [EC.as_dict(private=False)]}))
        with config.open("a") as text:
            text.write(f'[[issuers]]\niss = "{ISS}"\njwks_file = "jwks.json"\n')
        del env["VIGIL_CDS_INSECURE_DEV"]
    env["VIGIL_CDS_CONFIG"] = str(config)
    port = free_port()
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", script, str(port), str(grace), str(database(tmp_path))],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while len(workers_of(process.pid)) < 2 or not answers(url):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError((tmp_path / "serve.log").read_text()[-2000:])
                time.sleep(0.2)
            yield process, url
        finally:
            stop(process, timeout=20)


@pytest.fixture
def supervisor(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    with running_supervisor(tmp_path) as running:
        yield running


def database(tmp_path: Path) -> Path:
    return tmp_path / "vigil.sqlite3"


def answers(url: str) -> bool:
    try:
        return httpx.get(url + "/cds-services", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def workers_of(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(c) for c in children if b"resource_tracker" not in _cmdline(int(c))]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def established_on(pid: int, port: int) -> int:
    """How many established TCP connections to `port` the process holds."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == "01" and fields[9] in inodes:
                count += 1
    return count


def test_connections_opened_at_once_are_split_evenly_between_the_workers(
    supervisor: tuple[subprocess.Popen[bytes], str],
) -> None:
    process, url = supervisor
    port = int(url.rsplit(":", 1)[1])
    # Right after the first answer: a worker still warming up must not be missing the burst.
    time.sleep(0.2)
    # The kernel completes each connect before any worker accepts: a burst, as an EHR's
    # connection pool opens them.
    connections = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(24)]
    try:
        for connection in connections:
            connection.sendall(b"GET /cds-services HTTP/1.1\r\nHost: test\r\n\r\n")
        for connection in connections:
            assert connection.recv(64).startswith(b"HTTP/1.1 200")
        held = [established_on(pid, port) for pid in workers_of(process.pid)]
    finally:
        for connection in connections:
            connection.close()
    assert sorted(held) == [12, 12]


def test_a_token_accepted_by_one_worker_is_refused_by_the_other(tmp_path: Path) -> None:
    with running_supervisor(tmp_path, auth=True) as (process, url):
        port = int(url.rsplit(":", 1)[1])
        path = f"/cds-services/{SERVICE}"
        body = hook_request("p1", prefetch=no_data())
        first, second = httpx.Client(base_url=url), httpx.Client(base_url=url)
        try:
            # one connection each: the second is handed to the worker holding none
            assert first.get("/cds-services").status_code == 200
            assert second.get("/cds-services").status_code == 200
            assert sorted(established_on(pid, port) for pid in workers_of(process.pid)) == [1, 1]
            for taker, replayer in ((first, second), (second, first)):
                headers = bearer(url + path)
                assert taker.post(path, json=body, headers=headers).status_code == 200
                assert replayer.post(path, json=body, headers=headers).status_code == 401
                assert taker.post(path, json=body, headers=headers).status_code == 401
        finally:
            first.close()
            second.close()


def test_without_descriptor_passing_uvicorns_workers_serve_audit_and_refuse_replays(
    tmp_path: Path,
) -> None:
    with running_supervisor(tmp_path, auth=True, script=FALLBACK) as (process, url):
        path = f"/cds-services/{SERVICE}"
        sent, statuses = [], []
        for _ in range(8):
            body = hook_request("p1", prefetch=no_data())
            headers = bearer(url + path)
            for _ in range(2):  # the second time on a new connection, maybe another worker's
                response = httpx.post(url + path, json=body, headers=headers, timeout=30)
                statuses.append(response.status_code)
            sent.append(body["hookInstance"])
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    assert statuses == [200, 401] * 8
    assert sorted(h for h in audited(tmp_path) if h) == sorted(sent)


def test_a_worker_that_dies_is_replaced(tmp_path: Path) -> None:
    with running_supervisor(tmp_path, auth=True) as (process, url):
        before = workers_of(process.pid)
        time.sleep(1.5)  # past the startup grace the test supervisor was given
        os.kill(before[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while True:
            now = workers_of(process.pid)
            if len(now) == 2 and before[0] not in now:
                break
            assert time.monotonic() < deadline, "the dead worker was not replaced"
            time.sleep(0.2)
        assert before[1] in now
        (replacement,) = set(now) - set(before)
        port = int(url.rsplit(":", 1)[1])
        # Once it serves, the replacement is handed new connections like any worker, and
        # claims its tokens through a channel of its own.
        path = f"/cds-services/{SERVICE}"
        body = hook_request("p1", prefetch=no_data())
        while True:
            with httpx.Client(base_url=url, timeout=10) as client:
                assert client.get("/cds-services").status_code == 200
                if established_on(replacement, port) == 1:
                    headers = bearer(url + path)
                    assert client.post(path, json=body, headers=headers).status_code == 200
                    assert client.post(path, json=body, headers=headers).status_code == 401
                    break
            assert time.monotonic() < deadline, "the replacement took no connection"
            time.sleep(0.2)


def test_sigterm_stops_every_worker(tmp_path: Path) -> None:
    with running_supervisor(tmp_path) as (process, _):
        children = workers_of(process.pid)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    assert not [pid for pid in children if _cmdline(pid)]  # no worker left running


def test_sigterm_while_the_workers_warm_up_stops_cleanly(tmp_path: Path) -> None:
    config = tmp_path / "vigil.toml"
    config.write_text(f'database = "{database(tmp_path)}"\n')
    env = {**os.environ, "VIGIL_CDS_CONFIG": str(config), "VIGIL_CDS_INSECURE_DEV": "1"}
    process = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR, str(free_port()), "1.0", str(database(tmp_path))],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env=env,
    )
    deadline = time.monotonic() + 30
    while not workers_of(process.pid):  # spawned, still loading the rulesets
        assert time.monotonic() < deadline
        time.sleep(0.05)
    children = workers_of(process.pid)
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=30)
    assert process.returncode == 0, output.decode(errors="replace")[-2000:]
    assert b"worker(s) on http" not in output  # it never started handing out connections
    assert not [pid for pid in children if _cmdline(pid)]


def test_a_port_in_use_is_refused(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortUnavailable, match=f"cannot listen on 127.0.0.1:{port}: "):
            check_port("127.0.0.1", port)
        with pytest.raises(PortUnavailable, match=f"cannot listen on 127.0.0.1:{port}: "):
            Supervisor("127.0.0.1", port, 1, database(tmp_path)).run()  # before any worker


def bearer(endpoint: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token(endpoint)}"}


def call_on_fresh_connections(url: str, count: int) -> list[str]:
    """`count` patient-view calls, each on a connection of its own; their hookInstances."""
    sent = []
    for n in range(count):
        body = hook_request(f"p{n}", prefetch=no_data())
        with httpx.Client(base_url=url, timeout=30) as client:
            response = client.post(f"/cds-services/{SERVICE}", json=body)
        assert response.status_code == 200 and response.json() == {"cards": []}
        sent.append(body["hookInstance"])
    return sent


def audited(tmp_path: Path) -> list[str]:
    store = SqliteStore(database(tmp_path))
    try:
        return [r.hook_instance or "" for r in store.query(limit=1000) if r.kind == "service"]
    finally:
        store.close()


def test_every_call_of_every_worker_is_audited_by_the_supervisor(tmp_path: Path) -> None:
    with running_supervisor(tmp_path) as (process, url):
        sent = call_on_fresh_connections(url, 16)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    assert sorted(audited(tmp_path)) == sorted(sent)


def test_a_worker_killed_loses_none_of_the_records_of_calls_it_answered(tmp_path: Path) -> None:
    with running_supervisor(tmp_path) as (process, url):
        sent = call_on_fresh_connections(url, 16)
        for pid in workers_of(process.pid):
            os.kill(pid, signal.SIGKILL)  # no chance to flush anything
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    assert sorted(audited(tmp_path)) == sorted(sent)


def test_workers_whose_supervisor_is_gone_stop_rather_than_answer_unaudited(
    tmp_path: Path,
) -> None:
    with running_supervisor(tmp_path) as (process, url):
        workers = workers_of(process.pid)
        process.kill()  # SIGKILL: the supervisor cannot stop its workers, nor read their pipes
        process.wait(timeout=10)
        body = hook_request("p1", prefetch=no_data())
        deadline = time.monotonic() + 30
        statuses = set()
        while any(_cmdline(pid) for pid in workers):
            assert time.monotonic() < deadline, "workers kept running without their supervisor"
            try:
                with httpx.Client(base_url=url, timeout=5) as client:
                    statuses.add(client.post(f"/cds-services/{SERVICE}", json=body).status_code)
            except httpx.HTTPError:
                pass  # a worker already stopped
            time.sleep(0.1)
        assert 200 not in statuses  # no call was answered without its audit record
