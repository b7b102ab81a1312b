"""`vigil evaluate` writes the card's text of a ruleset with `card:`: `card: {title, lines}` per
patient in JSON, the same lines in the table; a misused `card:` stops the run (exit 2) with a
located error in the ruleset's words."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.engine.carded import AS_OF, RESOURCES, RULESET, bundle
from tests.vigil.test_evaluate_command import vigil
from vigil.cli import main

URGENT = {
    "title": (
        "URGENT TODAY — Symptomatic hypomagnesaemia: magnesium 0.45 mmol/L (2026-06-01) with tetany"
    ),
    "lines": [
        "Do now: Arrange emergency admission [now]",
        "Found: tetany or carpopedal spasm (2026-06-01); magnesium 0.45 mmol/L (2026-06-01) low",
        "Also: Low magnesium: 0.45 mmol/L (2026-06-01)",
        "Not recorded: weakness; not measured in the last 30 days: potassium",
    ],
}
PRIMARY_CARE = {
    "title": "REVIEW IN PRIMARY CARE — Magnesium not repeated: 0.60 mmol/L on 2026-03-20",
    "lines": [
        "Do now: No order proposed",
        "Found: twitching in 2 regions; twitching over 8 days; "
        "potassium 5.90 mmol/L (2026-05-30) high; "
        "magnesium 0.60 mmol/L (2026-03-20) low, not repeated",
        "Also: Twitching in 2 body regions",
        "GAD-7 12: discuss support.",
        "Not recorded: weakness, tetany; not measured in the last 30 days: magnesium",
    ],
}
SELF_CARE = {
    "title": "SELF-CARE ADVICE — Twitching with no red flag found",
    "lines": [
        "Do now: Give the self-care advice below",
        "Not recorded: tetany",
        "Stretch and gently massage the calf.",
    ],
}
WEAK = {
    "title": "REVIEW IN PRIMARY CARE — Twitching with weakness on examination",
    "lines": [
        "Do now: No order proposed",
        "Found: weakness on examination (2026-06-01)",
        "Not recorded: tetany; not measured in the last 30 days: potassium, magnesium",
    ],
}


def folder(tmp_path: Path, text: str = RULESET, data: dict[str, Any] | None = None) -> Path:
    (tmp_path / "ruleset.yaml").write_text(text)
    (tmp_path / "bundle.json").write_text(json.dumps(data or bundle()))
    return tmp_path


def arguments(where: Path, form: str) -> list[str]:
    bundle, ruleset = where / "bundle.json", where / "ruleset.yaml"
    return ["evaluate", str(bundle), "--ruleset", str(ruleset), "--as-of", AS_OF, "--format", form]


def evaluate(where: Path, form: str) -> Any:
    return vigil(*arguments(where, form))


def evaluate_here(where: Path, form: str) -> subprocess.CompletedProcess[str]:
    """`evaluate`, run by `vigil.cli.main` in this process: the same command, its exit code and
    output, without starting an interpreter (a traceback would fail the test as an exception)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(arguments(where, form))
    return subprocess.CompletedProcess(["vigil"], code, out.getvalue(), err.getvalue())


def test_json_gives_each_patients_card_text(tmp_path: Path) -> None:
    run = evaluate(folder(tmp_path), "json")
    assert run.returncode == 0, run.stderr
    cards = {r["patient"]: r["card"] for r in json.loads(run.stdout)["results"]}
    assert cards == {
        "Patient/tetany": URGENT,
        "Patient/spread": PRIMARY_CARE,
        "Patient/benign": SELF_CARE,
        "Patient/weak": WEAK,
    }


def test_the_table_shows_the_card_text_as_the_reasons(tmp_path: Path) -> None:
    run = evaluate(folder(tmp_path), "table")
    assert run.returncode == 0, run.stderr
    shown = [line.strip() for line in run.stdout.splitlines()]
    for card in (URGENT, PRIMARY_CARE, SELF_CARE, WEAK):
        # the patient's row ends with the title; the lines follow under it
        start = next(i for i, line in enumerate(shown) if line.endswith(card["title"]))
        assert shown[start + 1 : start + 1 + len(card["lines"])] == card["lines"]
    assert not any(line.startswith("note:") for line in shown)  # the card says its notes


def test_no_card_text_without_card_section(tmp_path: Path) -> None:
    text = RULESET[: RULESET.index("card:\n")]
    run = evaluate(folder(tmp_path, text), "json")
    assert run.returncode == 0, run.stderr
    assert all("card" not in r for r in json.loads(run.stdout)["results"])


def test_at_the_first_level_the_title_is_the_first_fired_rule_of_it(tmp_path: Path) -> None:
    text = RULESET.replace("no suggestion at or above primary-care", "gad7 < 0")
    anxious = [r for r in RESOURCES if r.get("id") in ("spread", "f1", "g1")]
    run = evaluate(folder(tmp_path, text, bundle(anxious)), "json")
    assert run.returncode == 0, run.stderr
    [result] = json.loads(run.stdout)["results"]
    assert result["card"] == {
        "title": "FOR INFORMATION — GAD-7 12: anxiety can cause and sustain twitching",
        "lines": [
            "Do now: No order proposed",
            "GAD-7 12: discuss support.",
            "Not recorded: weakness, tetany; not measured in the last 30 days: potassium, "
            "magnesium",
        ],
    }


def test_a_concepts_shown_places_and_unit_write_its_values(tmp_path: Path) -> None:
    text = RULESET.replace(
        "    shown-decimals: 2\n", "    shown-decimals: 1\n    shown-unit: millimoles a litre\n", 1
    )
    tetany = [r for r in RESOURCES if r.get("id") in ("tetany", "t1", "m1")]
    run = evaluate(folder(tmp_path, text, bundle(tetany)), "json")
    assert run.returncode == 0, run.stderr
    [result] = json.loads(run.stdout)["results"]
    assert result["card"]["title"] == (
        "URGENT TODAY — Symptomatic hypomagnesaemia: magnesium 0.5 millimoles a litre "
        "(2026-06-01) with tetany"
    )
    assert result["card"]["lines"][1] == (
        "Found: tetany or carpopedal spasm (2026-06-01); "
        "magnesium 0.5 millimoles a litre (2026-06-01) low"
    )


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "    weakness:\n      examined:",
            "    weaknes:\n      examined:",
            "no red flag 'weaknes' (red flags: weakness, tetany,",
        ),
        (
            "      examined: weakness on examination",
            "      examind: weakness on examination",
            "weakness has no state 'examind' (examined, reported, not-recorded)",
        ),
        (
            '    widespread: "twitching in',
            '    widespread: {not-recorded: x}\n    chronic: "twitching in',
            "widespread is never recorded absent, so never not recorded",
        ),
        (
            "advice-at: [self-care]",
            "advice-at: [self_care]",
            "there is no level 'self_care' (none, self-care,",
        ),
        (
            "{concept: potassium, words: potassium}",
            "{concept: potasium, words: potassium}",
            "no concept 'potasium' to list its results",
        ),
        (
            "{concept: potassium, words: potassium}",
            "{concept: tetany, words: tetany}",
            "tetany is a finding: it has no results",
        ),
        (
            "indicator: warning, label: REVIEW IN PRIMARY CARE}",
            "indicator: warning}",
            "level 'primary-care' needs a label: for the card's title",
        ),
        (
            "carpopedal: carpopedal spasm,",
            "carpopedal_spasm: carpopedal spasm,",
            "no concept or derived finding 'carpopedal_spasm' to list",
        ),
        (
            "twitching in {fasciculation regions} regions",
            "twitching in {fasciculaton regions} regions",
            "{fasciculaton regions} names no concept or parameter; did you mean 'fasciculation'?",
        ),
        (
            "with {symptoms}",
            "with {symptom}",
            "{symptom} names no concept or parameter",
        ),
    ],
)
def test_a_misused_card_section_stops_the_run_at_its_line(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in RULESET
    # in-process for the dozen cases: test_a_misused_card_section_fails_the_command_line runs
    # one of them as a person does
    run = evaluate_here(folder(tmp_path, RULESET.replace(old, new, 1)), "json")
    assert run.returncode == 2
    assert message in run.stderr
    assert "Traceback" not in run.stderr
    assert "ruleset.yaml:" in run.stderr  # located: the file and line


def test_a_misused_card_section_fails_the_command_line(tmp_path: Path) -> None:
    broken = RULESET.replace("{symptoms}", "{symptom}", 1)
    run = evaluate(folder(tmp_path, broken), "json")
    assert run.returncode == 2
    assert "{symptom} names no concept or parameter" in run.stderr
    assert "Traceback" not in run.stderr
    assert "ruleset.yaml:" in run.stderr
