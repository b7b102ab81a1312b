"""The README's promises, checked: its two commands and its embedding example."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
README = (ROOT / "README.md").read_text()


def _code_after(marker: str) -> str:
    match = re.search(rf"<!-- {marker} -->\s*```(?:python|sh)\n(.*?)```", README, re.S)
    assert match, f"README has no code block after <!-- {marker} -->"
    return match.group(1)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    test_command = _code_after("test-command").strip()
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command in ci.splitlines()


def test_the_embedding_example_runs_and_reads_each_patients_escalation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = _code_after("embedding-example")
    exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    printed = capsys.readouterr().out
    assert "Patient/dana urgent" in printed
    assert "- severe-hypokalemia: Severe hypokalaemia: potassium 2.30 mmol/L" in printed
