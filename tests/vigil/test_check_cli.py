"""`vigil check PATH` as an author runs it: every problem at once, one a line, then a summary."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BROKEN = """\
id: broken
version: 1.0.0
status: live
title: Broken on purpose
levels:
  - {id: none, title: No action, indicator: info}
  - {id: review, title: Review, indicator: warning}
concepts:
  sodium: {codes: [loinc#2951-2], unit: mmol/L}
  thirst: {codes: [sct#17173007], unti: x}
  cramp: {codes: [sct#55300003]}
  cramp: {codes: [sct#55300003]}
parameters:
  low_sodium: 130 mg
rules:
  - id: low
    when: sodium < low_sodium
    then: {suggest: review, summary: Low result}
  - id: thirsty
    when: thirst present
    then: {derive: dry}
  - id: low
    when: sodium > 150 mmol/L
    then: {derive: high}
  - id: cramping
    when: crmap present
    then: {derive: cramps}
"""


def vigil(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigil", *args], capture_output=True, text=True, check=False
    )


def test_a_broken_ruleset_reports_every_kind_of_problem_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "ruleset.yaml").write_text(BROKEN)
    result = vigil("check", str(tmp_path))
    file = tmp_path / "ruleset.yaml"
    assert result.returncode == 1 and result.stderr == ""
    assert result.stdout.splitlines() == [
        f"{file}:3:9: error: `status` must be one of draft, active, retired, not `live`",
        f"{file}:10:35: error: unknown key `unti` in concept `thirst`; did you mean `unit`?",
        f"{file}:12:3: error: duplicate key `cramp`: first at line 11 (YAML keeps only one of "
        "them): give each its own name, or remove one",
        f"{file}:14:15: error: parameter `low_sodium` is 130 mg (a mass) but `sodium` is read in "
        "mmol/L (a substance concentration): give it a unit of that dimension",
        f"{file}:22:9: error: duplicate rule id `low`: first at line 16",
        f"{file}:26:11: error: unknown concept 'crmap'; did you mean 'cramp'?",
        f"{file}: 6 errors",
    ]


def test_json_gives_the_same_findings_with_their_codes(tmp_path: Path) -> None:
    (tmp_path / "ruleset.yaml").write_text(BROKEN.replace("crmap", "cramp"))
    result = vigil("check", str(tmp_path / "ruleset.yaml"), "--format", "json")
    report = json.loads(result.stdout)
    assert result.returncode == 1 and report["ruleset"] is None
    assert [f["code"] for f in report["findings"]] == [
        "wrong-value",
        "unknown-key",
        "duplicate-key",
        "unit-dimension",
        "duplicate-id",
    ]


def test_the_packaged_calf_ruleset_checks_clean() -> None:
    result = vigil("check", "calf-fasciculation")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == "calf-fasciculation 2.1.0: no problems; 67 rules, 195 compiled\n"


def test_a_missing_file_exits_2_without_a_traceback(tmp_path: Path) -> None:
    result = vigil("check", str(tmp_path / "nothing.yaml"))
    assert result.returncode == 2 and "Traceback" not in result.stdout + result.stderr
    assert "no packaged ruleset, folder with ruleset.yaml or file named" in result.stdout
