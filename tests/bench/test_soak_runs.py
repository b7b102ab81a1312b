"""bench/soak.py still runs: a short soak of `vigil serve` (two workers, authentication on,
mixed calls) answers every call as its kind expects, with no 5xx. Its memory goal is judged only
by the full 10-minute run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).parents[2] / "bench"


def test_a_short_soak_answers_every_call_without_a_5xx() -> None:
    run = subprocess.run(
        [
            sys.executable,
            str(BENCH / "soak.py"),
            "--minutes",
            "0.3",
            "--rate",
            "10",
            "--sample-seconds",
            "3",
            "--no-rss-goal",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=BENCH.parent,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    assert "5xx: 0; connection errors: 0; other unexpected statuses: 0" in run.stdout
    assert "| refused | 401 |" in run.stdout and "| feedback | 200 |" in run.stdout
