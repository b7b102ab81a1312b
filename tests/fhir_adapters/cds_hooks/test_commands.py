"""`vigil serve`, `vigil feedback report` and `vigil audit`, through their registered parsers."""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

import fhir_adapters
from fhir_adapters.cds_hooks.models import FeedbackItem
from fhir_adapters.cds_hooks.storage import AuditRecord, CardRecord, SqliteStore
from vigil.commands import audit, feedback, serve

from .support import free_port, hook_request, no_data, stop, wait_until_serving


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="vigil")
    subparsers = parser.add_subparsers(dest="command", required=True)
    for module in (serve, feedback, audit):
        module.register(subparsers)
    return parser.parse_args(argv)


def run(*argv: str) -> int:
    args = parse(*argv)
    code: int = args.func(args)
    return code


@pytest.fixture
def database(tmp_path: Path) -> Path:
    path = tmp_path / "vigil.sqlite3"
    store = SqliteStore(path)
    store.record(
        AuditRecord(
            time=datetime(2024, 6, 1, 9, tzinfo=UTC).timestamp(),
            service="calf-fasciculation",
            status=200,
            hook_instance="h1",
            ruleset_id="calf-fasciculation",
            ruleset_version="1.0.0",
            ruleset_hash="abc",
            patient="Patient/p1",
            escalation="urgent",
            cards=(CardRecord("c1", "critical", ("severe-hypokalemia",)),),
        )
    )
    store.record(
        AuditRecord(
            time=datetime(2024, 6, 2, 9, tzinfo=UTC).timestamp(),
            service="calf-fasciculation",
            status=401,
        )
    )
    item = {
        "card": "c1",
        "outcome": "overridden",
        "outcomeTimestamp": "2024-06-01T10:00:00Z",
        "overrideReason": {"reason": {"system": "s", "code": "a", "display": "Already addressed"}},
    }
    store.add_feedback("calf-fasciculation", [FeedbackItem.model_validate(item)], "iss")
    store.close()
    return path


def test_feedback_report_table_and_json(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("feedback", "report", "--database", str(database)) == 0
    out = capsys.readouterr().out
    assert "severe-hypokalemia" in out and "Already addressed (1)" in out
    assert run("feedback", "report", "--database", str(database), "--format", "json") == 0
    [rule] = json.loads(capsys.readouterr().out)["rules"]
    assert rule == {
        "rule": "severe-hypokalemia",
        "accepted": 0,
        "overridden": 1,
        "override_reasons": {"Already addressed": 1},
    }


def test_audit_table_json_and_since(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("audit", "--database", str(database)) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == [
        "time",
        "kind",
        "service",
        "status",
        "patient",
        "escalation",
        "cards",
        "reason",
    ]
    assert "critical: severe-hypokalemia" in table[2] and "401" in table[1]
    argv = ("audit", "--database", str(database), "--format", "json", "--since", "2024-06-02")
    assert run(*argv) == 0
    [call] = json.loads(capsys.readouterr().out)["calls"]
    assert call["status"] == 401 and call["time"] == "2024-06-02T09:00:00+00:00"


FORGED_ROW = "\n2024-06-03T09:00:00+00:00  service  calf-fasciculation  200  Patient/p9  -  -"


def test_audit_table_escapes_control_characters_in_stored_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "vigil.sqlite3"
    store = SqliteStore(path)
    store.record(AuditRecord(time=1.0, service="nope" + FORGED_ROW, status=404))
    store.record(AuditRecord(time=2.0, service="svc", status=200, patient="Patient/\x1b[2Jp1"))
    store.close()
    assert run("audit", "--database", str(path)) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 3 and "\x1b" not in out
    assert "nope\\x0a2024-06-03T09:00:00+00:00  service" in out
    assert "Patient/\\x1b[2Jp1" in out
    assert run("audit", "--database", str(path), "--format", "json") == 0
    services = [c["service"] for c in json.loads(capsys.readouterr().out)["calls"]]
    assert services == ["svc", "nope" + FORGED_ROW]  # JSON keeps the value as stored


def test_feedback_table_escapes_control_characters_in_override_reasons(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    item = {
        "card": "c1",
        "outcome": "overridden",
        "outcomeTimestamp": "2024-06-01T11:00:00Z",
        "overrideReason": {"reason": {"system": "s", "code": "b", "display": "x" + FORGED_ROW}},
    }
    store = SqliteStore(database)
    store.add_feedback("calf-fasciculation", [FeedbackItem.model_validate(item)], "iss")
    store.close()
    assert run("feedback", "report", "--database", str(database)) == 0
    out = capsys.readouterr().out
    assert len(out.splitlines()) == 2 and "x\\x0a2024-06-03T09:00:00+00:00" in out


def test_commands_refuse_bad_input_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run("audit", "--database", str(tmp_path / "none.sqlite3")) == 2
    assert run("audit", "--since", "yesterday") == 2
    bad = tmp_path / "bad.toml"
    bad.write_text("database = [")
    assert run("feedback", "report", "--config", str(bad)) == 2
    assert run("serve", "--config", str(bad)) == 2
    assert run("serve", "--insecure-dev", "--host", "0.0.0.0") == 2
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    assert run("serve", "--config", str(empty)) == 2  # no issuers: every call would be refused
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 6 and all(line.startswith("vigil ") for line in lines)
    assert "no database at" in lines[0] and "--insecure-dev refuses" in lines[4]


def foreign_database(path: Path) -> Path:
    """A SQLite file whose `audit` table is someone else's."""
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE audit (id INTEGER PRIMARY KEY, who TEXT, what TEXT)")
        db.execute("INSERT INTO audit (who, what) VALUES ('nurse', 'login')")
    db.close()
    return path


def config_naming(tmp_path: Path, database: Path) -> Path:
    config = tmp_path / "vigil.toml"
    config.write_text(f"database = {json.dumps(str(database))}\n")
    return config


@pytest.mark.parametrize("command", [("audit",), ("feedback", "report")])
def test_read_commands_refuse_a_file_that_is_not_a_vigil_database_in_one_line(
    command: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 200)
    foreign = foreign_database(tmp_path / "other.sqlite3")
    assert run(*command, "--database", str(text)) == 2
    assert run(*command, "--config", str(config_naming(tmp_path, text))) == 2
    assert run(*command, "--database", str(foreign)) == 2
    lines = capsys.readouterr().err.splitlines()
    prefix = f"vigil {' '.join(command)}: "
    assert len(lines) == 3 and all(line.startswith(prefix) for line in lines)
    assert str(text) in lines[0] and str(text) in lines[1] and str(foreign) in lines[2]


def snapshot(directory: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir())}


def journal_mode(path: Path) -> str:
    db = sqlite3.connect(path)
    try:
        return str(db.execute("PRAGMA journal_mode").fetchone()[0])
    finally:
        db.close()


@pytest.mark.parametrize("command", [("audit",), ("feedback", "report")])
def test_read_commands_leave_a_foreign_or_empty_file_as_it_was(
    command: tuple[str, ...], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = tmp_path / "files"
    files.mkdir()
    other = files / "other.sqlite3"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE notes (body TEXT)")
    db.close()
    empty = files / "empty.sqlite3"
    empty.touch()
    before = snapshot(files)
    assert run(*command, "--database", str(other)) == 2
    assert run(*command, "--config", str(config_naming(tmp_path, empty))) == 2
    assert snapshot(files) == before  # no Vigil tables created, no -wal or -shm beside them
    assert journal_mode(other) == "delete"
    err = capsys.readouterr().err.splitlines()
    assert err == [
        f"vigil {' '.join(command)}: {path} is not a Vigil database: it has none of Vigil's tables"
        for path in (other, empty)
    ]


def test_read_commands_name_what_a_foreign_audit_table_lacks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    foreign = foreign_database(tmp_path / "other.sqlite3")
    assert run("audit", "--database", str(foreign)) == 2
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(
        f"vigil audit: {foreign} is not a Vigil database: its audit table has no"
    )
    assert "kind" in line


def test_read_commands_do_not_change_a_vigil_database(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = database.read_bytes()
    assert run("audit", "--database", str(database)) == 0
    assert run("feedback", "report", "--database", str(database)) == 0
    assert database.read_bytes() == before
    assert "severe-hypokalemia" in capsys.readouterr().out


def test_audit_reads_the_database_while_the_service_writes_it(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = SqliteStore(database)
    try:
        store.record(AuditRecord(time=time.time(), service="calf-fasciculation", status=503))
        assert run("audit", "--database", str(database), "--format", "json") == 0
    finally:
        store.close()
    newest = json.loads(capsys.readouterr().out)["calls"][0]
    assert newest["status"] == 503


SERVE_SCRIPT = """
import argparse, sys
from vigil.commands import serve
parser = argparse.ArgumentParser(prog="vigil")
serve.register(parser.add_subparsers())
args = parser.parse_args(sys.argv[1:])
sys.exit(args.func(args))
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """`vigil serve --insecure-dev --workers 2` with the packaged rulesets, in a subprocess."""
    config = tmp_path / "vigil.toml"
    config.write_text(f'database = "{tmp_path / "vigil.sqlite3"}"\n')
    port = free_port()
    log = (tmp_path / "serve.log").open("wb")
    argv = ["--config", str(config), "--port", str(port), "--workers", "2", "--insecure-dev"]
    process = subprocess.Popen(
        [sys.executable, "-c", SERVE_SCRIPT, "serve", *argv],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(url + "/cds-services", process, tmp_path / "serve.log")
        yield url
    finally:
        stop(process, timeout=15)
        log.close()
        banner = (tmp_path / "serve.log").read_text()
        assert "INSECURE DEV MODE" in banner


def test_vigil_serve_with_two_workers_serves_the_packaged_ruleset(served: str) -> None:
    [service] = httpx.get(served + "/cds-services").json()["services"]
    assert service["id"] == "calf-fasciculation"
    assert "Observation?patient={{context.patientId}}" in service["prefetch"]["observations"]
    if not hasattr(fhir_adapters, "evaluate_bundle"):
        pytest.skip("fhir_adapters.evaluate_bundle is not there yet")
    body = hook_request("nobody", prefetch=no_data())
    response = httpx.post(served + "/cds-services/calf-fasciculation", json=body, timeout=30)
    assert response.status_code == 200 and response.json() == {"cards": []}


def test_vigil_serve_logs_each_call_by_service_and_status_only(served: str, tmp_path: Path) -> None:
    body = hook_request("secret-77", prefetch=no_data())
    url = served + "/cds-services/calf-fasciculation?patient=Patient/secret-77"
    assert httpx.post(url, json=body, timeout=30).status_code == 200
    log = tmp_path / "serve.log"
    deadline = time.monotonic() + 10
    while "service calf-fasciculation 200" not in log.read_text():
        assert time.monotonic() < deadline, log.read_text()[-2000:]
        time.sleep(0.1)
    text = log.read_text()
    assert "secret-77" not in text  # uvicorn's access log would have written the query string
    assert "POST" not in text


def test_vigil_audit_shows_counted_refusals_and_their_reasons(tmp_path: Path) -> None:
    path = tmp_path / "vigil.sqlite3"
    store = SqliteStore(path)
    refused = AuditRecord(
        time=1.0, service="calf-fasciculation", status=401, reason="unknown issuer", count=37
    )
    store.record(refused)
    store.close()
    argv = [sys.executable, "-m", "vigil", "audit", "--database", str(path)]
    table = subprocess.run(argv, capture_output=True, text=True, check=False)
    assert table.returncode == 0, table.stderr
    [_, row] = table.stdout.splitlines()
    assert "401 x37" in row and row.endswith("unknown issuer")
    as_json = subprocess.run([*argv, "--format", "json"], capture_output=True, text=True)
    [call] = json.loads(as_json.stdout)["calls"]
    assert (call["status"], call["count"], call["reason"]) == (401, 37, "unknown issuer")
