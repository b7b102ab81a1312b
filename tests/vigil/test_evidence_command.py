"""`vigil evaluate` with a ruleset that reads kinds of evidence and suppresses a rule by a review
date: a real subprocess, real files."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.fhir_adapters.record_semantics import VIGIL, bundle, observation
from tests.fhir_adapters.test_suppression import referral

ROOT = Path(__file__).parents[2]

RULESET = """
id: weakness-cli
version: 0.1.0
status: draft
title: Examined weakness, unless reviewed
levels:
  - {id: none, title: None, indicator: info}
  - {id: neurology, title: Neurology, indicator: warning}
concepts:
  mrc_grade: {kind: score, codes: [vigil#mrc-grade]}
  neurology_referral: {kind: event, resource: ServiceRequest, codes: [sct#308474002]}
  weakness:
    codes: [sct#26544005]
    evidence:
      examined: {category: [exam], verification: [confirmed, none]}
      reported: {category: [survey, none, other], verification: [unconfirmed]}
    scores: {"mrc_grade <= 4": examined present, "mrc_grade = 5": examined absent}
    superseded: reported by examined absent
dates:
  neurology_review: latest of neurology_referral within 365 days
rules:
  - id: examined-weakness
    when: weakness examined
    suppressed-when: weakness examined all dated on or before neurology_review
    then: {suggest: neurology, summary: Examined weakness}
  - id: reviewed
    when: {suppressed: [examined-weakness]}
    then: {suggest: none, summary: "Reviewed {neurology_review}: {suppressed} held back"}
"""


def vigil(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigil", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def run(
    tmp_path: Path, ruleset: str, *resources: dict[str, object]
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "ruleset.yaml").write_text(ruleset)
    data = tmp_path / "patient.json"
    data.write_text(json.dumps(bundle(*resources)))
    return vigil(
        "evaluate", data, "--ruleset", tmp_path, "--as-of", "2026-03-01", "--format", "json"
    )


def suggestions(completed: subprocess.CompletedProcess[str]) -> dict[str, str]:
    assert completed.returncode == 0, completed.stderr
    (result,) = json.loads(completed.stdout)["results"]
    return {s["rule"]: s["summary"] for s in result["suggestions"]}


def grade(id_: str, when: str, value: int) -> dict[str, object]:
    return observation(id_, "mrc-grade", when, system=VIGIL, valueInteger=value)


def test_an_examined_weakness_after_the_review_refers(tmp_path: Path) -> None:
    found = suggestions(
        run(tmp_path, RULESET, grade("g", "2026-02-01", 3), referral("r", "2026-01-01"))
    )

    assert found == {"examined-weakness": "Examined weakness"}


def test_an_examined_weakness_before_the_review_is_held_back(tmp_path: Path) -> None:
    found = suggestions(
        run(tmp_path, RULESET, grade("g", "2026-01-01", 3), referral("r", "2026-02-01"))
    )

    assert found == {"reviewed": "Reviewed 2026-02-01: examined-weakness held back"}


def test_a_misspelt_evidence_class_exits_2_naming_the_place(tmp_path: Path) -> None:
    broken = RULESET.replace("when: weakness examined\n", "when: weakness examind\n")
    completed = run(tmp_path, broken, grade("g", "2026-01-01", 3))

    assert completed.returncode == 2
    assert completed.stdout == ""
    (line,) = completed.stderr.strip().splitlines()
    assert "ruleset.yaml:23:11" in line
    assert "weakness has no evidence class 'examind' (its classes: examined, reported)" in line
