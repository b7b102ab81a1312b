"""The engine running the packaged ruleset agrees with the specification written as plain Python,
on any combination of records hypothesis can think of."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from engine.records import Quantity, Record
from tests import calf_oracle

AS_OF = datetime(2026, 3, 1, 12, tzinfo=UTC)
EVALUATOR = engine.Evaluator(engine.load_ruleset("calf-fasciculation"))

SITES = [None, "sct#53840002", "http://snomed.info/sct#53840002", "sct#21974007", "sct#7569003"]
# Thresholds and their neighbours, in each unit the ruleset accepts.
POTASSIUM = [2.0, 2.49, 2.5, 2.51, 3.0, 3.49, 3.5, 3.51, 4.2]
MAGNESIUM = [0.3, 0.39, 0.40, 0.41, 0.69, 0.70, 0.71, 0.9]
CALCIUM = [1.5, 1.89, 1.9, 1.91, 2.19, 2.2, 2.21, 2.4]

# Days relative to the evaluation time, clustered on the lookback (30) and persistence (14) edges.
# +0.5: after the evaluation time, but within the 14 hours a date (no offset) may have begun.
days = st.sampled_from([-45, -31, -30, -29.5, -20, -14.5, -14, -13.5, -7, -1, 0, 0.5, 1]).map(float)
# How long a finding lasted, in days after its start; 40 ends it after the evaluation time.
lasted = st.sampled_from([None, 0.0, 10.0, 15.0, 40.0])


def _lab(concept: str, values: list[float]) -> st.SearchStrategy[Record]:
    def build(
        v: float, unit: str, day: float, n: int, low: float | None, date_only: bool
    ) -> Record:
        factor = calf_oracle.TO_MMOL[concept][unit]
        return Record(
            concept,
            f"Observation/{concept}-{n}",
            AS_OF + timedelta(days=day),
            value=Quantity(v / factor, unit),
            reference_low=Quantity(low, "mmol/L") if low is not None else None,
            date_only=date_only,
        )

    units = ["mmol/L", "meq/L", "mg/dL"]
    return st.builds(
        build,
        st.sampled_from(values),
        st.sampled_from(units),
        days,
        st.integers(0, 999),
        st.sampled_from([None, 3.6, 0.75, 2.1]),
        st.booleans(),
    )


def _finding(concept: str) -> st.SearchStrategy[Record]:
    return st.builds(
        lambda day, n, present, site, ongoing, length, date_only: Record(
            concept,
            f"Observation/{concept}-{n}",
            AS_OF + timedelta(days=day),
            present=present,
            end=AS_OF + timedelta(days=day + length) if length is not None else None,
            site=site if concept == "fasciculation" else None,
            ongoing=ongoing and concept in ("fasciculation", "weakness"),
            date_only=date_only,
        ),
        days,
        st.integers(0, 999),
        st.booleans(),
        st.sampled_from(SITES),
        st.booleans(),
        lasted,
        st.booleans(),
    )


def _scored(concept: str, values: list[float], unit: str | None) -> st.SearchStrategy[Record]:
    return st.builds(
        lambda v, day, n: Record(
            concept,
            f"Observation/{concept}-{n}",
            AS_OF + timedelta(days=day),
            value=Quantity(v, unit) if unit else int(v),
        ),
        st.sampled_from(values),
        days,
        st.integers(0, 999),
    )


record = st.one_of(
    _finding("fasciculation"),
    _finding("fasciculation"),
    _finding("weakness"),
    _finding("atrophy"),
    _finding("bulbar_sign"),
    _finding("cramp"),
    _lab("potassium", POTASSIUM),
    _lab("magnesium", MAGNESIUM),
    _lab("calcium", CALCIUM),
    _scored("mrc_grade", [3, 4, 5], None),
    _scored("gad7", [4, 9, 10, 15], None),
    _scored("cramp", [5, 10, 10.5, 30], "min"),
)


twitching = st.builds(
    lambda day, site: Record(
        "fasciculation", "Observation/twitch", AS_OF + timedelta(days=day), site=site
    ),
    days,
    st.sampled_from(SITES),
)
patients = st.tuples(st.lists(twitching, max_size=1), st.lists(record, max_size=8)).map(
    lambda parts: parts[0] + parts[1]
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(patients)
def test_engine_agrees_with_the_specification(records: list[Record]) -> None:
    expected = calf_oracle.evaluate(records, AS_OF)
    evaluation = EVALUATOR.evaluate(records, as_of=AS_OF)
    fired = {s.rule for s in evaluation.suggestions}
    assert (evaluation.escalation, fired) == (expected.escalation, set(expected.rules))


@settings(max_examples=60, deadline=None)
@given(patients, st.randoms(use_true_random=False))
def test_the_order_of_records_does_not_change_the_answer(records: list[Record], rnd) -> None:  # type: ignore[no-untyped-def]
    first = EVALUATOR.evaluate(records, as_of=AS_OF).to_dict()
    shuffled = list(records)
    rnd.shuffle(shuffled)
    second = EVALUATOR.evaluate(shuffled, as_of=AS_OF).to_dict()
    assert first["escalation"] == second["escalation"]
    assert first["suggestions"] == second["suggestions"]
