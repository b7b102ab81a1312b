"""`update` rewrites a failing scenario's `expect:` to what the ruleset gives now, and nothing
else of the file: other keys, comments and blank lines stay byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest

from authoring.testing import Difference, run_suite, update
from authoring.testing.update import rewrite, trailing_comment
from tests.authoring.testing.folders import LOW, NORMAL, ruleset_folder, scenario

HEAD = scenario("2.4 mmol/L", "").removesuffix("expect:\n")


def test_only_the_failing_keys_change_and_comments_stay(tmp_path: Path) -> None:
    text = (
        scenario(
            "2.4 mmol/L",
            "  # what the clinician expects\n"
            "  escalation: none   # as the guideline says\n"
            "  fired:\n"
            "    - severe-hypokalaemia   # the rule under test\n"
            "  not fired: [severe-hypokalaemia]\n"
            "  no warnings: true\n",
        )
        + "\n# a closing comment\n"
    )
    folder = ruleset_folder(tmp_path, low=LOW, normal=NORMAL, wrong=text)
    path = folder / "scenarios" / "wrong.yaml"

    changed = update(list(run_suite(folder).failed))

    assert [(c.file, c.keys) for c in changed] == [(path, ("escalation", "not fired"))]
    assert path.read_text() == HEAD + (
        "expect:\n"
        "  # what the clinician expects\n"
        "  escalation: urgent   # as the guideline says\n"
        "  fired:\n"
        "    - severe-hypokalaemia   # the rule under test\n"
        "  no warnings: true\n"
        "\n# a closing comment\n"
    )
    assert run_suite(folder).exit_code == 0


def test_a_flow_style_block_is_written_again_in_block_style() -> None:
    text = HEAD + "expect: {escalation: none, fired exactly: []}\n"
    changes = [
        Difference("escalation", "none", "urgent", "urgent"),
        Difference("fired exactly", "no rule", "severe-hypokalaemia", ("severe-hypokalaemia",)),
    ]

    assert rewrite(text, "x.yaml", changes) == HEAD + (
        "expect:\n  escalation: urgent\n  fired exactly: [severe-hypokalaemia]\n"
    )


def test_texts_are_quoted_and_notes_keep_their_form() -> None:
    text = HEAD + "expect:\n  do now: 'Do now: nothing'\n  notes: {advice: old text}\n"
    changes = [
        Difference("do now", "", "", "Do now: Repeat U&E [by 2026-03-04]"),
        Difference("notes", "", "", {"advice": "Stop: the drug", "other": ("one", "two")}),
    ]

    assert rewrite(text, "x.yaml", changes) == HEAD + (
        "expect:\n"
        '  do now: "Do now: Repeat U&E [by 2026-03-04]"\n'
        "  notes:\n"
        '    advice: "Stop: the drug"\n'
        "    other:\n"
        '      - "one"\n'
        '      - "two"\n'
    )


def test_a_passing_scenario_is_left_alone(tmp_path: Path) -> None:
    folder = ruleset_folder(tmp_path)
    before = (folder / "scenarios" / "low.yaml").read_bytes()

    assert update(list(run_suite(folder).scenarios)) == []
    assert (folder / "scenarios" / "low.yaml").read_bytes() == before


@pytest.mark.parametrize(
    ("line", "comment"),
    [
        ("  escalation: none   # why\n", "   # why"),
        ("  do now: 'Do now: #1 # first'  # pinned\n", "  # pinned"),
        ("  fired: [a#b]\n", ""),
    ],
)
def test_a_trailing_comment_is_told_from_text(line: str, comment: str) -> None:
    assert trailing_comment(line) == comment
