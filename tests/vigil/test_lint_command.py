"""`vigil lint` as a user runs it: findings, exit codes, JSON, --strict."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.authoring.lint.rulesets import CLEAN, edited, line_of
from vigil.cli import main
from vigil.commands.lint import coloured


def vigil(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "vigil", *args], capture_output=True, text=True, check=False
    )


def test_lint_prints_located_warnings(tmp_path: Path) -> None:
    text = edited(("reviewers: [Dr A Reviewer]", "reviewers: []"))
    (tmp_path / "ruleset.yaml").write_text(text)
    file = tmp_path / "ruleset.yaml"
    plain = vigil("lint", str(tmp_path))
    assert plain.returncode == 0, plain.stderr
    line = line_of(text, "reviewers:")
    assert plain.stdout.splitlines() == [
        f"{file}:{line}:1: warning: ruleset lint-example has no reviewers "
        "[no-reviewers lint-example]",
        "lint-example: 1 warning(s), 0 answered",
    ]


def test_strict_and_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = edited(("reviewers: [Dr A Reviewer]", "reviewers: []"))
    (tmp_path / "ruleset.yaml").write_text(text)
    line = line_of(text, "reviewers:")
    assert main(["lint", str(tmp_path / "ruleset.yaml"), "--strict"]) == 1
    capsys.readouterr()
    assert main(["lint", str(tmp_path), "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["ruleset"] == "lint-example"
    assert [(f["code"], f["subject"], f["level"], f["line"]) for f in document["findings"]] == [
        ("no-reviewers", "lint-example", "warning", line)
    ]


def test_answered_warnings_pass_strict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    answer = "lint-answers: [{warning: no-reviewers, subject: lint-example, answer: Not yet}]\n"
    text = edited(("reviewers: [Dr A Reviewer]\n", "reviewers: []\n" + answer))
    (tmp_path / "ruleset.yaml").write_text(text)
    assert main(["lint", str(tmp_path), "--strict"]) == 0
    assert "note: ruleset lint-example has no reviewers" in capsys.readouterr().out


def test_a_ruleset_that_does_not_load_exits_1_and_none_found_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = CLEAN.replace("potassium >= severe", "potasium >= severe")
    (tmp_path / "ruleset.yaml").write_text(broken)
    assert main(["lint", str(tmp_path)]) == 1
    [error] = capsys.readouterr().out.splitlines()
    line = line_of(broken, "potasium >= severe")
    assert error.startswith(f"{tmp_path / 'ruleset.yaml'}:{line}:")
    assert ": error: " in error
    assert main(["lint", str(tmp_path / "nowhere")]) == 2
    assert "nowhere" in capsys.readouterr().err


def test_a_terminal_sees_each_level_in_colour() -> None:
    line = "ruleset.yaml:3:1: warning: rule x [cites] nothing [no-citation x]"
    assert coloured(line) == (
        "ruleset.yaml:3:1: [yellow]warning[/]: rule x \\[cites] nothing \\[no-citation x]"
    )
