"""Red flags: a ruleset's flags load with located errors in clinical words, and each flag's
state reaches the CDS Hooks card with its date."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest

import engine
import fhir_adapters
from tests.engine.flagged import AS_OF, RULESET, bundle, condition, twitch

WASTING = "{id: wasting, label: muscle wasting, concept: atrophy}"


def problems(text: str, tmp_path: Path) -> list[str]:
    path = tmp_path / "flagged.yaml"
    path.write_text(text)
    with pytest.raises(engine.RulesetError) as caught:
        engine.load_ruleset(path)
    return [f"{p.line}:{p.column}: {p.message}" for p in caught.value.problems]


def test_the_ruleset_loads_each_flag_with_its_id_and_states(tmp_path: Path) -> None:
    (tmp_path / "flagged.yaml").write_text(RULESET)
    ruleset = engine.load_ruleset(tmp_path / "flagged.yaml")
    flags = {flag.id: flag for flag in ruleset.red_flags}
    assert list(flags) == ["weakness", "wasting", "breathlessness", "examined-weakness"]
    assert [state for state, _ in flags["weakness"].states] == ["examined", "reported"]
    assert flags["weakness"].absent is not None


def test_a_flag_naming_an_unknown_concept(tmp_path: Path) -> None:
    text = RULESET.replace(WASTING, WASTING.replace("concept: atrophy", "concept: atrofy"))
    assert problems(text, tmp_path) == [
        "39:51: red flag 'muscle wasting': unknown concept 'atrofy'; did you mean 'atrophy'?"
    ]


def test_an_unknown_concept_in_a_flag_condition(tmp_path: Path) -> None:
    text = RULESET.replace("present-when: breathless present", "present-when: breathles present")
    assert problems(text, tmp_path) == [
        "42:19: unknown concept 'breathles'; did you mean 'breathless'?"
    ]


def test_a_flag_naming_a_concept_that_is_never_present(tmp_path: Path) -> None:
    text = RULESET.replace(WASTING, WASTING.replace("concept: atrophy", "concept: mrc_grade"))
    assert problems(text, tmp_path) == [
        "39:51: red flag 'muscle wasting': mrc_grade is a score, which is never present or "
        "absent; write present-when: with a condition"
    ]


def test_a_lookback_without_a_unit(tmp_path: Path) -> None:
    text = RULESET.replace("lookback: red_flag_lookback}\n  atrophy", "lookback: 365}\n  atrophy")
    assert problems(text, tmp_path) == [
        "13:64: mrc_grade lookback 365 has no unit: how far back its records count is a "
        "duration such as '365 days'"
    ]


def test_a_window_without_a_unit_in_a_flag(tmp_path: Path) -> None:
    text = RULESET.replace(
        "absent-when: breathless absent", "absent-when: breathless absent within 365"
    )
    assert problems(text, tmp_path) == [
        "43:18: in 'breathless absent within 365': '365' has no unit; write e.g. 365 hours or "
        "365 days (hours, days, weeks, months, years)"
    ]


@pytest.mark.parametrize(
    ("flag", "message"),
    [
        (
            WASTING.replace("}", ", present-when: atrophy present}"),
            "39:5: red flag 'muscle wasting': say when it is present with exactly one of "
            "concept, finding, present-when or states (it has concept and present-when)",
        ),
        (
            "{id: wasting, label: muscle wasting}",
            "39:5: red flag 'muscle wasting': say when it is present with exactly one of "
            "concept, finding, present-when or states (it has none of them)",
        ),
        (
            WASTING.replace("id: wasting", "id: weakness"),
            "39:5: duplicate red flag id `weakness`: first at line 32",
        ),
    ],
)
def test_a_flag_says_when_it_is_present_once(flag: str, message: str, tmp_path: Path) -> None:
    assert problems(RULESET.replace(WASTING, flag), tmp_path) == [message]


def test_absent_is_not_a_present_state(tmp_path: Path) -> None:
    text = RULESET.replace("      examined: examined-weakness", "      absent: examined-weakness")
    assert problems(text, tmp_path) == [
        "35:15: red flag 'weakness': 'absent' cannot name a present state (lower-case words "
        "joined by -, not absent or not-recorded)"
    ]


def test_a_flag_naming_a_finding_no_rule_derives(tmp_path: Path) -> None:
    text = RULESET.replace("finding: examined-weakness}", "finding: examined-weaknes}")
    assert problems(text, tmp_path) == [
        "44:47: red flag 'weakness on examination': no rule derives 'examined-weaknes'; "
        "did you mean 'examined-weakness'?"
    ]


def test_a_date_placeholder_names_a_concept(tmp_path: Path) -> None:
    text = RULESET.replace("Twitching ({twitch date})", "Twitching ({twich date})")
    assert problems(text, tmp_path) == [
        "24:44: {twich date} names no concept or parameter; did you mean 'twitch'?"
    ]


def test_the_card_shows_each_flag_in_its_state_with_its_date(tmp_path: Path) -> None:
    (tmp_path / "flagged.yaml").write_text(RULESET)
    ruleset = engine.load_ruleset(tmp_path / "flagged.yaml")
    when = datetime.fromisoformat(AS_OF)
    results = {r.patient: r for r in fhir_adapters.evaluate_bundle(bundle(), ruleset, as_of=when)}
    detail = results["Patient/present"].cards(lambda: "id")[0]["detail"]
    assert "| weakness | examined (2026-02-10) | `Observation/m1` |" in detail
    assert "| muscle wasting | present (2026-02-01) | `Observation/a2` |" in detail
    absent = results["Patient/absent"].cards(lambda: "id")[0]["detail"]
    assert "| breathlessness | absent (2026-02-02) | `Observation/b1` |" in absent
    assert "| weakness on examination | not recorded | - |" in absent
    assert "not met" not in absent


def test_a_flag_window_dates_a_condition_by_its_recorded_date(tmp_path: Path) -> None:
    # no rule reads atrophy within a window: the flag's own window still dates the Condition
    flag = "{id: wasting, label: muscle wasting, present-when: atrophy present within acute_window}"
    (tmp_path / "flagged.yaml").write_text(RULESET.replace(WASTING, flag))
    ruleset = engine.load_ruleset(tmp_path / "flagged.yaml")
    data = {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": resource}
            for resource in (
                {"resourceType": "Patient", "id": "w"},
                twitch("w"),
                condition("w", "c9", "88092000", recordedDate="2026-02-24"),
            )
        ],
    }
    [result] = fhir_adapters.evaluate_bundle(data, ruleset, as_of=datetime.fromisoformat(AS_OF))
    [wasting] = [f for f in result.evaluation.red_flags if f.id == "wasting"]
    assert (wasting.status, wasting.date, wasting.evidence) == (
        "present",
        date(2026, 2, 24),
        ("Condition/c9",),
    )
    assert not wasting.assessable
