"""ruff (lint and format) and mypy (strict) stay clean: the style is part of what CI checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[1]
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing() -> None:
    run = _run(str(BIN / "ruff"), "check", "--no-cache", ".")
    assert run.returncode == 0, run.stdout + run.stderr


def test_ruff_format_would_change_nothing() -> None:
    run = _run(str(BIN / "ruff"), "format", "--check", "--no-cache", ".")
    assert run.returncode == 0, run.stdout + run.stderr


def test_mypy_strict_finds_nothing() -> None:
    run = _run(str(BIN / "mypy"), "--no-incremental")
    assert run.returncode == 0, run.stdout + run.stderr
