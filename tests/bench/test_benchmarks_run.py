"""The benchmarks still run and still agree: each `--quick` run cross-checks Vigil, durable_rules
used directly and the plain-Python specification on every patient, and exits non-zero on any
disagreement or error. Timings are printed, never asserted."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[2] / "bench"


def _run_quick(script: str, *options: str) -> str:
    run = subprocess.run(
        [sys.executable, str(BENCH / script), "--quick", *options],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=BENCH.parent,
    )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "| ---" in run.stdout
    print(run.stdout)
    return run.stdout


@pytest.mark.parametrize(
    "script", ["engine_bench.py", "fhir_bench.py", "cds_hooks_bench.py", "service_cpu.py"]
)
def test_quick_benchmark_runs_and_prints_its_table(script: str) -> None:
    _run_quick(script)


def test_engine_benchmark_agrees_with_durable_rules_on_every_hyperkalaemia_patient() -> None:
    # the run exits 1 on the first patient where durable_rules used directly and Vigil differ
    out = _run_quick("engine_bench.py", "--ruleset", "hyperkalaemia")
    assert "Ruleset hyperkalaemia" in out
    assert "(a) durable_rules used directly (compiled definition, bare Host)" in out
    assert "(b) Vigil" in out


def test_fhir_benchmark_reads_one_hyperkalaemia_patient_of_each_size() -> None:
    out = _run_quick("fhir_bench.py", "--ruleset", "hyperkalaemia")
    assert "Ruleset hyperkalaemia" in out
    for size in ("| 10 |", "| 100 |", "| 1,000 |"):
        assert size in out


def test_diff_benchmark_runs_on_a_generated_hyperkalaemia_population() -> None:
    assert "| hyperkalaemia | 100 |" in _run_quick("diff_bench.py", "--ruleset", "hyperkalaemia")
