"""The `vigil` entry point: what every command shares, run as a person runs it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from engine import EngineError, runtime
from vigil.cli import main

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples" / "calf-patients.json"
DEV_FULL = Path("/dev/full")  # every write to it fails with ENOSPC


def vigil_to_full_disk(*args: str | Path) -> subprocess.CompletedProcess[str]:
    with DEV_FULL.open("w") as full:
        return subprocess.run(
            [sys.executable, "-m", "vigil", *map(str, args)],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            timeout=120,
        )


@pytest.mark.skipif(not DEV_FULL.exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize(
    "command",
    [
        ("evaluate", EXAMPLES, "--as-of", "2026-03-01", "--format", "json"),
        ("evaluate", EXAMPLES, "--as-of", "2026-03-01", "--format", "table"),
        ("audit", "--format", "json"),
        ("audit",),
        ("feedback", "report", "--format", "json"),
        ("feedback", "report"),
    ],
)
def test_output_that_cannot_be_written_is_one_line_on_stderr_and_exit_1(
    database: Path, command: tuple[str | Path, ...]
) -> None:
    # `vigil evaluate ... > /dev/full` was an OSError traceback
    options = () if command[0] == "evaluate" else ("--database", database)
    run = vigil_to_full_disk(*command, *options)

    name = "vigil feedback report" if command[0] == "feedback" else f"vigil {command[0]}"
    assert run.returncode == 1
    assert run.stderr.splitlines() == [f"{name}: cannot write the output: No space left on device"]


def test_an_engine_failure_is_one_line_and_exit_1_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def failing(*_: object) -> None:
        raise EngineError("durable_rules failed on a 'c' fact: error 108")

    monkeypatch.setattr(runtime, "run_session", failing)

    code = main(["evaluate", str(EXAMPLES), "--as-of", "2026-03-01", "--format", "json"])

    err = capsys.readouterr().err
    assert code == 1
    assert err == "vigil evaluate: durable_rules failed on a 'c' fact: error 108\n"
