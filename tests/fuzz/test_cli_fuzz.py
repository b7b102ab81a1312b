"""A few mutated inputs through `vigil evaluate` as a person runs it (the library path is fuzzed
at length in test_reader_fuzz.py): exit 0 with one JSON object, or exit 1 or 2 with one line
on stderr; never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from .mutations import mutated_bundles

ROOT = Path(__file__).parents[2]


def evaluate(path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "vigil", "evaluate", str(path), "--as-of", "2026-03-01"],
        capture_output=True,
        text=True,
        errors="replace",
        timeout=120,
        cwd=ROOT,
    )
    assert "Traceback" not in run.stderr, run.stderr
    if run.returncode == 0:
        assert isinstance(json.loads(run.stdout), dict)
    else:
        assert run.returncode in (1, 2), (run.returncode, run.stderr)
        assert run.stderr.count("\n") == 1 and run.stderr.strip(), run.stderr


@settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(mutated_bundles())
def test_a_mutated_bundle_through_the_cli(tmp_path: Path, bundle: dict[str, Any]) -> None:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    evaluate(path)


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe\x00garbage",
        b'{"resourceType": "Bundle", "entry": [' * 200,
        b'{"resourceType": "Observation", "id": "\\udcff", "status": "final"}',
        b"[" * 100_000 + b"]" * 100_000,
    ],
    ids=["bytes", "unclosed", "surrogate-id", "deep"],
)
def test_hostile_files_through_the_cli(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "input.json"
    path.write_bytes(content)
    evaluate(path)
