"""The benchmarks still run and still agree: each `--quick` run cross-checks Vigil, durable_rules
used directly and the plain-Python specification on every patient, and exits non-zero on any
disagreement or error. Timings are printed, never asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[2] / "bench"


@pytest.mark.parametrize(
    "script", ["engine_bench.py", "fhir_bench.py", "cds_hooks_bench.py", "service_cpu.py"]
)
def test_quick_benchmark_runs_and_prints_its_table(script: str) -> None:
    run = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=BENCH.parent,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "| ---" in run.stdout
