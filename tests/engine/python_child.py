"""Run a Python script in a child process from the project root: what a native crash, a hang
or a fork would break is kept out of the pytest process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def run_python(script: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """`python -c script` in the project root; a hang past `timeout` fails the test."""
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=timeout
    )
