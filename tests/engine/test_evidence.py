"""Kinds of evidence through the library: records built by hand carry their evidence class,
a score's records stand as a finding's, and a report is superseded by a later absence."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from engine import Evaluator, FactError, Quantity, Record, load_text

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
RULESET = load_text(
    """
id: evidence-library
version: 0.1.0
status: draft
title: Kinds of evidence
levels: [{id: none, title: None, indicator: info}, {id: gp, title: GP, indicator: info}]
concepts:
  mrc_grade: {kind: score, codes: [vigil#mrc-grade]}
  weakness:
    codes: [sct#26544005]
    evidence:
      examined: {category: [exam], verification: [confirmed, none]}
      reported: {category: [survey, none, other], verification: [unconfirmed]}
    scores: {"mrc_grade <= 4": examined present, "mrc_grade = 5": examined absent}
    superseded: reported by examined absent
rules:
  - {id: examined, when: weakness examined, then: {suggest: gp, summary: Examined}}
  - {id: reported, when: weakness reported, then: {suggest: gp, summary: Reported}}
"""
)


def fired(*records: Record) -> set[str]:
    evaluation = Evaluator(RULESET).evaluate(records, as_of=AS_OF)
    return {s.rule for s in evaluation.suggestions}


def weakness(source: str, day: int, kind: str) -> Record:
    time = datetime(2026, 2, day, 10, tzinfo=UTC)
    return Record("weakness", source, time, evidence_class=kind)


def test_records_carry_their_evidence_class() -> None:
    assert fired(weakness("Observation/1", 1, "examined")) == {"examined"}
    assert fired(weakness("Observation/1", 1, "reported")) == {"reported"}
    assert fired(Record("weakness", "Observation/1", AS_OF)) == set()  # no class: neither


@pytest.mark.parametrize("value", [4, 3.0, Quantity(4, "{score}"), Quantity(2, "1")])
def test_a_score_record_stands_as_the_findings(value: float | Quantity) -> None:
    grade = Record("mrc_grade", "Observation/g", datetime(2026, 2, 1, tzinfo=UTC), value=value)

    assert fired(grade) == {"examined"}


def test_a_date_on_the_same_day_as_a_timed_report_supersedes_it() -> None:
    normal = Record(
        "weakness",
        "Observation/n",
        datetime(2026, 2, 1, tzinfo=UTC),
        present=False,
        date_only=True,
        evidence_class="examined",
    )

    assert fired(weakness("Observation/w", 1, "reported"), normal) == set()


def test_an_evidence_class_the_concept_lacks_is_a_fact_error() -> None:
    with pytest.raises(FactError) as caught:
        fired(weakness("Observation/1", 1, "examind"))

    assert str(caught.value) == (
        "Observation/1: evidence class 'examind' is not one of weakness's "
        "(its classes: examined, reported)"
    )
