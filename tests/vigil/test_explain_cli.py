"""`vigil explain` as a clinician runs it: a real subprocess on the packaged rulesets, the
text and Markdown they read pinned, and a bad `--patient` or file as one line, exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from fhir_adapters.scenarios import load_scenario

ROOT = Path(__file__).parents[2]
EXAMPLES = ROOT / "examples" / "calf-patients.json"
HYPERKALAEMIA = ROOT / "rulesets" / "hyperkalaemia" / "scenarios"


def vigil(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigil", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1"},
    )


def test_a_calf_red_flag_case_names_its_evidence_and_its_near_misses() -> None:
    run = vigil("explain", EXAMPLES, "--as-of", "2026-03-01", "--patient", "dana")

    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert out.startswith("Ruleset calf-fasciculation 2.1.0, as of 2026-03-01T00:00:00+00:00\n")
    assert (
        " potassium (mmol/L)         latest 2.3 mmol/L on 2026-02-27 (Observation/dana-o3); 1 "
    ) in out
    assert (
        "9. severe-hypokalemia (Severe hypokalaemia): suggested urgent\n"
        "   matched potassium: 2.3 mmol/L, < 2.5 mmol/L [Observation/dana-o3]\n"
        "   card: Severe hypokalaemia: potassium 2.30 mmol/L (2026-02-27)\n"
    ) in out
    assert (
        "   matched finding `bulbar` (derived by bulbar) [Observation/dana-o2]\n"
        "   matched bulbar sign: present [Observation/dana-o2]\n"
    ) in out
    assert (
        "Near misses (one condition short)\n"
        "- hypokalemia-with-weakness (Symptomatic hypokalaemia) [suggests urgent]\n"
        "    held `potassium < symptomatic_potassium`: potassium latest 2.3 mmol/L "
        "[Observation/dana-o3]\n"
        "    failed `neuromuscular-signs`: finding `neuromuscular-signs` was not derived\n"
    ) in out
    assert (
        "- twitching-with-atrophy (Twitching or cramp with muscle wasting) [suggests neurology]\n"
    ) in out
    assert (
        "- low-potassium (Low potassium) [suggests primary-care]\n"
        "    held `in scope`: in the ruleset's scope [Observation/dana-o1]\n"
        "    failed `potassium >= severe_potassium and low`: potassium 2.3 mmol/L on 2026-02-27 "
        "(Observation/dana-o3) is not at or above 2.5 mmol/L (0.2 mmol/L below)\n"
    ) in out
    assert "Patient/amira" not in out


def test_a_hyperkalaemia_case_gives_its_windowed_and_trend_conditions_values(
    tmp_path: Path,
) -> None:
    case = load_scenario(HYPERKALAEMIA / "creatinine-rise-of-25-is-not-aki.yaml")
    data = tmp_path / "patient.json"
    data.write_text(json.dumps(case.bundle))

    run = vigil(
        "explain", data, "--ruleset", "hyperkalaemia", "--as-of", case.now.isoformat(),
        "--format", "markdown",
    )  # fmt: skip

    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert out.startswith(
        "# hyperkalaemia 1.0.0, as of 2026-03-02T10:00:00+00:00\n\n"
        "## Patient/scenario-patient: repeat-within-3-days\n"
    )
    assert (
        "| creatinine (umol/L) | latest 125 umol/L on 2026-03-02 (Observation/o3); "
        "lowest 100 umol/L on 2026-02-28 (Observation/o2); 2 current results "
        "(Observation/o2, Observation/o3) |"
    ) in out
    assert (
        "- **aki (Acute kidney injury) [derives `aki`]**: 1 of 1 conditions failed "
        "(closest of 3 alternatives)\n"
        "  - failed `creatinine rise over aki_rise_window across codes within aki_current >= "
        "aki_absolute_rise`: creatinine rise 25 umol/L over 48 hours "
        "(Observation/o2 → Observation/o3) is not at or above 26 umol/L (1 umol/L below)\n"
        "    - within aki_current (7 days): 100 umol/L on 2026-02-28 (Observation/o2); "
        "125 umol/L on 2026-03-02 (Observation/o3)\n"
    ) in out
    assert (
        "  - failed `potassium rise over rapid_rise_gap to rapid_rise_window > rapid_rise`: "
        "no potassium value for `potassium rise over rapid_rise_gap to rapid_rise_window > "
        "rapid_rise`\n"
        "    - latest 5.7 mmol/L on 2026-03-02 (Observation/o1)\n"
        "    - no earlier potassium 1 to 12 hours before it\n"
    ) in out
    assert "  - failed `aki`: finding `aki` was not derived\n" in out


def test_an_unknown_patient_or_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    run = vigil("explain", EXAMPLES, "--ruleset", "hyperkalaemia", "--patient", "nobody")
    assert run.returncode == 2
    assert run.stderr.startswith("vigil explain: no Patient/nobody in the input (patients: ")
    assert len(run.stderr.splitlines()) == 1

    missing = vigil("explain", tmp_path / "missing.json", "--ruleset", "hyperkalaemia")
    assert missing.returncode == 2
    assert len(missing.stderr.splitlines()) == 1
    assert "Traceback" not in missing.stderr
