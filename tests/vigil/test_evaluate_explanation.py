"""`vigil evaluate --format json --explain` carries each patient's trace (`explanation`) beside
the keys it always had; without `--explain`, the table and the CDS Hooks service compute none."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.authoring.explain.small import NOW, SMALL, bundle, potassium

ROOT = Path(__file__).parents[2]


def test_each_patient_s_json_gains_its_explanation(tmp_path: Path) -> None:
    folder = tmp_path / "small"
    folder.mkdir()
    (folder / "ruleset.yaml").write_text(SMALL)
    data = tmp_path / "patient.json"
    data.write_text(json.dumps(bundle(tmp_path, potassium("2.6 mmol/L"))))

    run = subprocess.run(
        [sys.executable, "-m", "vigil", "evaluate", str(data), "--ruleset", str(folder),
         "--as-of", NOW, "--format", "json", "--explain"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )  # fmt: skip

    assert run.returncode == 0, run.stderr
    [result] = json.loads(run.stdout)["results"]
    assert list(result) == [
        "patient", "escalation", "suggestions", "proposals", "do_now", "notes", "red_flags",
        "warnings", "explanation",
    ]  # fmt: skip
    explanation = result["explanation"]
    assert explanation["patient"] == "Patient/scenario-patient"
    low_k = next(n for n in explanation["not_fired"] if n["rule"] == "low-k")
    assert low_k["failed"]["words"] == (
        "potassium 2.6 mmol/L on 2026-03-02 (Observation/o1) is not below 2.5 mmol/L "
        "(0.1 mmol/L above)"
    )
    [k] = [c for c in explanation["concepts"] if c["concept"] == "potassium"]
    assert k["latest"] == {"value": "2.6 mmol/L", "date": "2026-03-02", "source": "Observation/o1"}


def test_the_trace_is_asked_for_and_only_with_json(tmp_path: Path) -> None:
    data = tmp_path / "patient.json"
    folder = tmp_path / "small"
    folder.mkdir()
    (folder / "ruleset.yaml").write_text(SMALL)
    data.write_text(json.dumps(bundle(tmp_path, potassium("2.6 mmol/L"))))
    argv = [sys.executable, "-m", "vigil", "evaluate", str(data), "--ruleset", str(folder)]

    plain = subprocess.run([*argv, "--format", "json"], capture_output=True, text=True, cwd=ROOT)
    table = subprocess.run(
        [*argv, "--format", "table", "--explain"], capture_output=True, text=True, cwd=ROOT
    )

    assert "explanation" not in json.loads(plain.stdout)["results"][0]
    assert table.returncode == 2
    assert (
        table.stderr
        == "vigil evaluate: --explain adds the trace to JSON output: give --format json\n"
    )
