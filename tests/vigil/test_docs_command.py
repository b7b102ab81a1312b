"""`vigil docs PATH -o DIR` as an author runs it: the paths written, the scenarios' result,
and one located line (never a traceback) for a ruleset or folder that is wrong."""

from __future__ import annotations

import json
from pathlib import Path

from tests.authoring.docs.tiny import RULESET, tiny_folder
from tests.vigil.test_evaluate_command import vigil


def test_the_pages_are_written_and_their_paths_printed(tmp_path: Path) -> None:
    out = tmp_path / "review"
    run = vigil("docs", tiny_folder(tmp_path) / "ruleset.yaml", "-o", out)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        str(out / "index.html"),
        str(out / "index.md"),
        "tiny-docs: 2 of 2 scenarios passed",
    ]
    assert run.stderr == ""
    html = (out / "index.html").read_text()
    assert '<meta name="viewport"' in html and "<script" not in html
    assert "calcium is below 2.10 mmol/L (4.2 mEq/L; ≈8.42 mg/dL)" in html
    assert "| pass | A low calcium `low.yaml` | review | review |" in (out / "index.md").read_text()


def test_json_names_the_files_and_a_failing_scenario_exits_1(tmp_path: Path) -> None:
    folder = tiny_folder(tmp_path)
    wrong = (
        (folder / "scenarios" / "low.yaml")
        .read_text()
        .replace("escalation: review", "escalation: none")
    )
    (folder / "scenarios" / "low.yaml").write_text(wrong)
    run = vigil("docs", folder, "-o", tmp_path / "out", "--format", "json")
    assert run.returncode == 1, run.stderr
    assert json.loads(run.stdout) == {
        "ruleset": "tiny-docs",
        "version": "0.1.0",
        "written": [str(tmp_path / "out" / "index.html"), str(tmp_path / "out" / "index.md")],
        "scenarios": {"run": 2, "failed": 1},
    }


def test_a_ruleset_with_an_error_is_one_located_line(tmp_path: Path) -> None:
    folder = tiny_folder(
        tmp_path, ruleset=RULESET.replace("calcium < low_calcium", "calcium < nope")
    )
    run = vigil("docs", folder, "-o", tmp_path / "out")
    assert run.returncode == 1
    [line] = run.stderr.splitlines()
    number = (folder / "ruleset.yaml").read_text().splitlines().index(
        "    when: calcium < nope"
    ) + 1
    assert line.startswith(f"{folder / 'ruleset.yaml'}:{number}:") and ": error: " in line
    assert "nope" in line and "Traceback" not in run.stderr
    assert not (tmp_path / "out").exists()


def test_a_missing_ruleset_exits_2_and_an_unwritable_folder_1(tmp_path: Path) -> None:
    run = vigil("docs", tmp_path / "nothing", "-o", tmp_path / "out")
    assert run.returncode == 2 and "error:" in run.stderr and "Traceback" not in run.stderr
    blocker = tmp_path / "file"
    blocker.write_text("")
    run = vigil("docs", tiny_folder(tmp_path), "-o", blocker, "--no-scenarios")
    assert run.returncode == 1
    assert run.stderr.startswith(f"{blocker}") and "cannot write the page" in run.stderr
    assert "Traceback" not in run.stderr
