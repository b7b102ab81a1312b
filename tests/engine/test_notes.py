"""Card notes through `Evaluator.evaluate`: conditions on fired rules and the language,
`show-at` levels, placeholders (value, date, age, comments, drugs changed, ended, on hold,
unconfirmed), table order; notes change neither the escalation nor the proposals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import engine
from engine import Evaluator, Quantity, Record
from engine.notes import hidden_rules as note_rules
from engine.notes import holds, parse_note_condition
from engine.proposals import is_hidden
from tests.engine.notes_ruleset import notes_ruleset
from tests.engine.test_language_loader import line_of, problems

AS_OF = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def evaluator(tmp_path: Path, text: str | None = None) -> Evaluator:
    path = tmp_path / "ruleset.yaml"
    path.write_text(text or notes_ruleset())
    return Evaluator(engine.load_ruleset(path))


def potassium(value: float, hours_ago: float, *notes: str) -> Record:
    return Record(
        "potassium",
        "Observation/k",
        AS_OF - timedelta(hours=hours_ago),
        value=Quantity(value, "mmol/L"),
        notes=notes,
    )


def raasi(days_ago: float, **fields: object) -> Record:
    fields.setdefault("status", "active")
    fields.setdefault("code", "rxnorm#35296")
    fields.setdefault("display", "ramipril")
    return Record("raasi", "MedicationRequest/r", AS_OF - timedelta(days=days_ago), **fields)  # type: ignore[arg-type]


def notes_of(evaluation: engine.Evaluation) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for note in evaluation.notes:
        out.setdefault(note.id, []).append(note.text)
    return out


def test_notes_show_by_fired_rules_levels_and_conditions_in_table_order(tmp_path: Path) -> None:
    k = potassium(5.8, 30, "Sample taken from drip arm.", "Repeat advised")
    evaluation = Evaluator.evaluate(evaluator(tmp_path), [k], as_of=AS_OF)
    assert evaluation.escalation == "routine-recheck"
    assert [n.id for n in evaluation.notes] == [
        "note-index",
        "note-comment",
        "note-comment",
        "note-recheck-only",
    ]
    assert notes_of(evaluation) == {
        "note-index": ["Index potassium 5.8 mmol/L (2026-12-06, 30 hours old)"],
        "note-comment": [
            "Laboratory comment: Sample taken from drip arm.",
            "Laboratory comment: Repeat advised",
        ],
        "note-recheck-only": ["Not on a RAAS inhibitor."],
    }
    assert evaluation.to_dict()["notes"][0] == {
        "id": "note-index",
        "text": "Index potassium 5.8 mmol/L (2026-12-06, 30 hours old)",
    }


def test_a_comment_is_shown_as_written_never_filled_in(tmp_path: Path) -> None:
    k = potassium(5.8, 3, "Called {potassium} {high_potassium} {x")
    notes = notes_of(evaluator(tmp_path).evaluate([k], as_of=AS_OF))
    assert notes["note-comment"] == ["Laboratory comment: Called {potassium} {high_potassium} {x"]


def test_a_note_at_another_level_or_whose_condition_fails_is_left_out(tmp_path: Path) -> None:
    evaluation = evaluator(tmp_path).evaluate([potassium(6.5, 24 * 3)], as_of=AS_OF)
    assert evaluation.escalation == "emergency"
    ids = [n.id for n in evaluation.notes]
    assert ids == ["note-index", "note-emergency-only"]  # no comment: the note is left out
    assert notes_of(evaluation)["note-index"] == [
        "Index potassium 6.5 mmol/L (2026-12-04, 3 days old)"
    ]


def test_notes_change_neither_the_escalation_nor_the_proposals(tmp_path: Path) -> None:
    records = [potassium(5.8, 2)]
    with_notes = evaluator(tmp_path).evaluate(records, as_of=AS_OF)
    plain = tmp_path / "plain"
    plain.mkdir()
    without = evaluator(plain, notes_ruleset("")).evaluate(records, as_of=AS_OF)
    assert without.notes == ()
    assert with_notes.escalation == without.escalation
    assert with_notes.proposals == without.proposals
    assert with_notes.suggestions == without.suggestions
    assert with_notes.findings == without.findings  # the notes' hidden findings stay hidden
    assert [f.rule for f in with_notes.trace] == [f.rule for f in without.trace]


def test_medicine_placeholders_name_each_drug_on_its_own_line(tmp_path: Path) -> None:
    records = [
        potassium(5.8, 2),
        # ramipril: a new strength 20 days ago, last asserted 2 years ago
        raasi(400, product="rxnorm#198188", asserted=AS_OF - timedelta(days=800)),
        raasi(20, product="rxnorm#198189", asserted=AS_OF - timedelta(days=730)),
    ]
    notes = notes_of(evaluator(tmp_path).evaluate(records, as_of=AS_OF))
    assert notes["note-changed"] == ["ramipril: dose changed on 2026-11-17"]
    assert notes["note-unconfirmed"] == ["ramipril: last recorded 2024-12-07: confirm still taken"]
    assert "note-held" not in notes and "note-ended" not in notes


def test_a_first_start_is_not_a_dose_change(tmp_path: Path) -> None:
    records = [potassium(5.8, 2), raasi(20, product="rxnorm#198189")]
    notes = notes_of(evaluator(tmp_path).evaluate(records, as_of=AS_OF))
    assert "note-changed" not in notes and "note-unconfirmed" not in notes


def test_on_hold_and_ended_courses_are_named(tmp_path: Path) -> None:
    held = [potassium(5.8, 2), raasi(100, status="on-hold")]
    assert notes_of(evaluator(tmp_path).evaluate(held, as_of=AS_OF))["note-held"] == [
        "ramipril on hold: keep withheld until K < 5.5"
    ]
    ended = [
        potassium(5.8, 2),
        raasi(100, end=AS_OF - timedelta(days=40), code="rxnorm#29046", display="lisinopril"),
        raasi(60, end=AS_OF - timedelta(days=5)),
    ]
    notes = notes_of(evaluator(tmp_path).evaluate(ended, as_of=AS_OF))
    assert notes["note-ended"] == ["likely cause: ramipril course ended 2026-12-02"]


# -- misuse: located errors -------------------------------------------------------------------


def test_an_unknown_rule_in_fired_is_located(tmp_path: Path) -> None:
    text = notes_ruleset("notes:\n  - id: n\n    when: raisd fired\n    text: Hello\n")
    assert problems(text, tmp_path) == [
        f"{line_of(text, 'raisd fired')}:11: no rule 'raisd' to have fired; did you mean 'raised'?"
    ]


def test_an_unknown_level_in_show_at_is_located(tmp_path: Path) -> None:
    text = notes_ruleset("notes:\n  - id: n\n    show-at: [self-care]\n    text: Hello\n")
    [problem] = problems(text, tmp_path)
    assert problem.startswith(f"{line_of(text, 'show-at')}:")
    assert "there is no level 'self-care'" in problem


def test_unknown_placeholders_are_located(tmp_path: Path) -> None:
    text = notes_ruleset(
        "notes:\n  - id: n\n    text: '{potassium colour} {raasi date} {potasium} {age comment}'\n"
    )
    line = line_of(text, "potassium colour")
    assert problems(text, tmp_path) == [
        f"{line}:11: {{potassium colour}}: unknown part 'colour' (age, changed, comment, date, "
        "days, ended, held, unconfirmed)",
        f"{line}:11: {{potasium}} names no concept or parameter",
        f"{line}:11: {{age comment}}: a demographic concept has no comment",
    ]


def test_a_condition_line_of_a_note_is_checked_like_a_rules(tmp_path: Path) -> None:
    text = notes_ruleset(
        "notes:\n  - id: n\n    when: [raised fired, creatinin present]\n    text: x\n"
    )
    [problem] = problems(text, tmp_path)
    assert problem.startswith(f"{line_of(text, 'creatinin present')}:")
    assert "unknown concept 'creatinin'" in problem


def test_a_note_id_used_twice_apart_is_located(tmp_path: Path) -> None:
    text = notes_ruleset(
        "notes:\n  - {id: n, text: a}\n  - {id: m, text: c}\n  - {id: n, text: b}\n"
    )
    assert problems(text, tmp_path) == [
        f"{line_of(text, 'text: b')}:10: duplicate note id `n`: first at line "
        f"{line_of(text, 'text: a')}; variants of a note (one id) stand one after another"
    ]


def test_the_first_variant_of_a_note_that_holds_is_shown(tmp_path: Path) -> None:
    variants = (
        "notes:\n"
        "  - {id: n, when: very-high fired, text: Very high.}\n"
        "  - {id: n, when: raised fired, text: 'Raised: {potassium comment}'}\n"
        "  - {id: n, when: raised fired, text: Raised.}\n"
        "  - {id: m, text: After.}\n"
    )
    notes = evaluator(tmp_path, notes_ruleset(variants))

    def shown(k: Record) -> list[tuple[str, str]]:
        return [(n.id, n.text) for n in notes.evaluate([k], as_of=AS_OF).notes]

    assert shown(potassium(6.6, 2)) == [("n", "Very high."), ("m", "After.")]
    assert shown(potassium(5.8, 2, "Drip arm")) == [("n", "Raised: Drip arm"), ("m", "After.")]
    assert shown(potassium(5.8, 2)) == [("n", "Raised."), ("m", "After.")]  # nothing to say
    assert shown(potassium(4.0, 2)) == [("m", "After.")]


def test_fired_lines_read_with_not_either_side() -> None:
    for line in ("raised not fired", "not raised fired", "not not raised not fired"):
        condition = parse_note_condition(line, ("when",))
        assert holds(condition, set(), set(), never)
        assert not holds(condition, {"raised"}, set(), never)
    assert holds(parse_note_condition("not not raised fired", ()), {"raised"}, set(), never)


def never(level: str | None) -> bool:
    return False


def test_no_suggestion_in_a_note_is_read_from_the_levels_suggested(tmp_path: Path) -> None:
    extra = (
        "  - {id: any-card, when: not no suggestion, text: A card.}\n"
        "  - {id: below-emergency, when: no suggestion at or above emergency, text: Not yet.}\n"
    )
    path = tmp_path / "ruleset.yaml"
    path.write_text(notes_ruleset() + extra)
    ruleset = engine.load_ruleset(path)
    assert len(note_rules(ruleset)) == 4  # neither line is a hidden rule
    notes = Evaluator(ruleset)

    def ids(value: float) -> list[str]:
        shown = notes.evaluate([potassium(value, 2)], as_of=AS_OF).notes
        return [n.id for n in shown if n.id in ("any-card", "below-emergency")]

    assert ids(4.0) == ["below-emergency"]
    assert ids(5.8) == ["any-card", "below-emergency"]
    assert ids(6.6) == ["any-card"]


def test_one_hidden_rule_a_distinct_line_and_none_for_a_derived_finding(tmp_path: Path) -> None:
    extra = "  - id: again\n    when: [raasi  on hold, on-raasi]\n    text: Again.\n"
    path = tmp_path / "ruleset.yaml"
    path.write_text(notes_ruleset() + extra)
    hidden = note_rules(engine.load_ruleset(path))
    # potassium recorded, raasi on hold, raasi ended within 14 days, raasi started within 90 days
    assert len(hidden) == 4
    assert all(is_hidden(rule.id) and rule.then.derive == rule.id for rule in hidden)


def test_a_part_placeholder_outside_a_note_says_where_it_is_read(tmp_path: Path) -> None:
    text = notes_ruleset("").replace(
        'summary: "Potassium {potassium}"', 'summary: "K {potassium age}"'
    )
    assert problems(text, tmp_path) == [
        f"{line_of(text, 'potassium age')}:47: {{potassium age}}: a concept's age, "
        "comment or drugs are read only in a card note (notes:); here write {potassium}"
    ]
