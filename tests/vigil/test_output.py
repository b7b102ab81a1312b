"""Standard output that cannot take the result: closed, or a full disk for `--help`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples" / "calf-patients.json"


def vigil_without_stdout(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """`vigil ARGS >&-`: the process starts with file descriptor 1 closed."""
    return subprocess.run(
        ["sh", "-c", 'exec "$@" >&-', "sh", sys.executable, "-m", "vigil", *map(str, args)],
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


@pytest.mark.parametrize(
    "command",
    [
        ("evaluate", EXAMPLES, "--as-of", "2026-03-01"),
        ("evaluate", EXAMPLES, "--as-of", "2026-03-01", "--format", "table"),
        ("audit",),
        ("audit", "--format", "json"),
        ("feedback", "report"),
    ],
)
def test_a_closed_stdout_is_one_line_on_stderr_and_exit_1(
    database: Path, command: tuple[str | Path, ...]
) -> None:
    # `vigil evaluate x >&-` was an AttributeError traceback: sys.stdout is None
    options = () if command[0] == "evaluate" else ("--database", database)
    run = vigil_without_stdout(*command, *options)

    name = "vigil feedback report" if command[0] == "feedback" else f"vigil {command[0]}"
    assert run.returncode == 1
    assert run.stderr.splitlines() == [
        f"{name}: cannot write the output: standard output is closed"
    ]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize("command", [("--help",), ("evaluate", "--help"), ("audit", "-h")])
def test_help_that_cannot_be_written_exits_1_with_one_line(command: tuple[str, ...]) -> None:
    # argparse dropped the failed write and exited 0
    with Path("/dev/full").open("w") as full:
        run = subprocess.run(
            [sys.executable, "-m", "vigil", *command],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            timeout=60,
        )

    assert run.returncode == 1
    assert run.stderr.splitlines() == ["vigil: cannot write the output: No space left on device"]


def test_help_is_still_printed() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "vigil", "evaluate", "--help"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )

    assert run.returncode == 0
    assert run.stdout.startswith("usage: vigil evaluate")
    assert "--max-json-size" in run.stdout
