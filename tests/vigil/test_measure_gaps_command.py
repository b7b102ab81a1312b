"""The hyperkalaemia ruleset's exact measures as a ruleset author meets them on the command line:
the boundary scenarios pass under `vigil test`, and a misused line is one located error."""

from __future__ import annotations

from pathlib import Path

import engine
from tests.engine.test_language_loader import BASE, WHEN_LINE, rule
from tests.vigil.test_evaluate_command import vigil

SCENARIOS = engine.packaged_rulesets()["hyperkalaemia"].parent / "scenarios"
BOUNDARIES = [
    "an-older-creatinine-judged-against-the-median.yaml",
    "egfr-70-then-55-and-50-is-known-ckd.yaml",
    "ck-1000-with-upper-limit-250-is-not-rhabdomyolysis.yaml",
    "ck-1300-with-upper-limit-250-is-rhabdomyolysis.yaml",
    "pre-dialysis-sample-the-day-after-a-session.yaml",
    "stable-ckd-against-the-median-of-the-year.yaml",
    "creatinine-rise-across-two-codes-is-aki.yaml",
    "stable-ckd-after-an-older-6-2.yaml",
]


def test_the_boundary_scenarios_pass() -> None:
    run = vigil("test", "hyperkalaemia", *(SCENARIOS / name for name in BOUNDARIES))

    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1] == "hyperkalaemia: 8 of 8 scenarios passed"


def test_a_range_written_longest_first_is_one_located_error(tmp_path: Path) -> None:
    path = tmp_path / "ruleset.yaml"
    when = "creatinine highest within 730 to 90 days before potassium > 100 umol/L"
    path.write_text(BASE + rule(when))

    run = vigil("test", path)

    assert run.returncode == 2
    assert run.stdout == ""
    assert run.stderr == (
        f"vigil test: {path}:{WHEN_LINE}:11: error: in '{when}': write the shorter duration first, "
        "e.g. 'within 90 to 730 days before potassium'\n"
    )
