"""An unknown level in `no suggestion at or above LEVEL` is a located problem, from the library
and from the CLI, never a KeyError (found by bench/fuzz_atheris.py's ruleset target)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import engine
from tests.engine.frozen import CALF_1

ROOT = Path(__file__).parents[2]
PACKAGED = CALF_1.read_text()
MISSPELT = PACKAGED.replace(
    "no suggestion at or above primary-care", "no suggestion at or above primavy-care", 1
)


def test_the_misspelt_level_is_in_the_packaged_ruleset_copy() -> None:
    assert MISSPELT != PACKAGED


def test_an_unknown_level_after_no_suggestion_is_a_located_problem() -> None:
    with pytest.raises(engine.RulesetError) as raised:
        engine.load_text(MISSPELT, "calf.yaml")
    (problem,) = raised.value.problems
    assert problem.file == "calf.yaml" and problem.line > 1
    assert "there is no level 'primavy-care'; did you mean 'primary-care'?" in problem.message


def test_the_cli_refuses_it_with_one_line_and_exit_2(tmp_path: Path) -> None:
    ruleset = tmp_path / "ruleset.yaml"
    ruleset.write_text(MISSPELT)
    command = ["evaluate", "examples/calf-patients.json", "--ruleset", str(ruleset)]
    run = subprocess.run(
        [sys.executable, "-m", "vigil", *command, "--as-of", "2026-03-01"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert run.returncode == 2, run.stderr
    assert "Traceback" not in run.stderr
    assert "there is no level 'primavy-care'" in run.stderr
