"""The Evaluator as integrators use it: shared between threads, reloaded while running,
and never leaking durable_rules' own exceptions."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import engine
from engine import Quantity, Record, runtime
from tests.engine.frozen import CALF_1
from tests.engine.rulesets import chained

NOW = datetime(2026, 1, 10, tzinfo=UTC)


def patient(n: int) -> list[Record]:
    """A deterministic variety of patients: potassium from 2.0 to 4.9, weakness on odd ones."""
    records = [
        Record(
            "potassium",
            f"Observation/k{n}",
            NOW - timedelta(days=n % 40),
            value=Quantity(2.0 + (n % 30) / 10, "mmol/L"),
        ),
    ]
    if n % 2:
        records.append(Record("weakness", f"Observation/w{n}", NOW - timedelta(days=1)))
    return records


def test_eight_threads_sharing_one_evaluator_match_a_sequential_run() -> None:
    evaluator = engine.Evaluator(engine.load_ruleset(CALF_1))
    fasciculation = Record("fasciculation", "Observation/f", NOW - timedelta(days=3))
    # 600 patients: every variety of `patient` five times over (it repeats every 120), 4800
    # evaluations across the threads, spanning many thread switches (2000 no longer fit the
    # suite's time budget)
    inputs = [[fasciculation, *patient(n)] for n in range(600)]
    expected = [evaluator.evaluate(r, as_of=NOW).to_dict() for r in inputs]
    results: dict[int, list[dict[str, object]]] = {}
    errors: list[BaseException] = []

    def work(thread: int) -> None:
        try:
            results[thread] = [evaluator.evaluate(r, as_of=NOW).to_dict() for r in inputs]
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert all(results[t] == expected for t in range(8))
    assert {e["escalation"] for e in expected} == {"urgent", "primary-care", "self-care"}


def test_an_edited_ruleset_loads_as_a_new_one_in_the_same_process(tmp_path: Path) -> None:
    path = tmp_path / "ruleset.yaml"
    path.write_text(chained("3.5 mmol/L"))
    records = [
        Record("potassium", "Observation/k", NOW, value=Quantity(3.2, "mmol/L")),
        Record("weakness", "Observation/w", NOW),
    ]
    before = engine.Evaluator(engine.load_ruleset(path)).evaluate(records, as_of=NOW)

    path.write_text(chained("3.0 mmol/L"))
    edited = engine.load_ruleset(path)
    after = engine.Evaluator(edited).evaluate(records, as_of=NOW)
    again = engine.Evaluator(engine.load_ruleset(tmp_path)).evaluate(records, as_of=NOW)

    assert before.escalation == "urgent"
    assert after.escalation == "none"
    assert again.escalation == "none"
    assert before.ruleset.content_hash != after.ruleset.content_hash


def test_the_same_input_gives_the_same_output() -> None:
    evaluator = engine.Evaluator(engine.load_ruleset(CALF_1))
    records = [Record("fasciculation", "Observation/f", NOW), *patient(7)]
    assert (
        evaluator.evaluate(records, as_of=NOW).to_dict()
        == evaluator.evaluate(records, as_of=NOW).to_dict()
    )


def test_an_exception_inside_durable_rules_becomes_an_engine_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    evaluator = engine.Evaluator(engine.load_text(chained()))

    def broken(handle: int, fact: str) -> tuple[int, int]:
        raise Exception("Could not assert fact, error code: 202")

    monkeypatch.setattr(runtime._core, "assert_fact", broken)
    with pytest.raises(engine.EngineError, match="error code: 202"):
        evaluator.evaluate(patient(1), as_of=NOW)


def test_a_fact_durable_rules_takes_for_a_duplicate_is_an_error_not_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    evaluator = engine.Evaluator(engine.load_text(chained()))
    monkeypatch.setattr(runtime._core, "assert_fact", lambda handle, fact: (2, 0))
    with pytest.raises(engine.EngineError, match="one it had seen"):
        evaluator.evaluate(patient(1), as_of=NOW)


def test_a_failure_while_rules_run_becomes_an_engine_error_and_ends_the_session(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    evaluator = engine.Evaluator(engine.load_text(chained()))
    deleted: list[str] = []
    real_delete = runtime._core.delete_state

    def failing(handle: int, state: int) -> str:
        raise Exception("Could not complete action, error code: 309")

    def delete(handle: int, sid: str) -> None:
        deleted.append(sid)
        real_delete(handle, sid)

    monkeypatch.setattr(runtime._core, "complete_and_start_action", failing)
    monkeypatch.setattr(runtime._core, "delete_state", delete)
    with pytest.raises(engine.EngineError, match="error code: 309"):
        evaluator.evaluate(patient(1), as_of=NOW)
    assert len(deleted) == 1


def test_an_error_inside_a_rule_action_is_raised_with_the_rule_not_swallowed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from engine import evaluator as module

    evaluator = engine.Evaluator(engine.load_text(chained()))

    def failing(self: object, *args: object) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(module._Run, "fire", failing)
    with pytest.raises(engine.EvaluationError, match="RuntimeError: boom"):
        evaluator.evaluate([*patient(1)], as_of=NOW)
    # the session was deleted: the next evaluation runs normally
    monkeypatch.undo()
    assert evaluator.evaluate(patient(1), as_of=NOW).escalation == "urgent"


values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.booleans(),
    st.none(),
)
units = st.sampled_from(["mmol/L", "mg/dL", "meq/L", "min", "1", "{score}", "bogus", "", "%"])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.builds(
            Record,
            concept=st.sampled_from(["potassium", "weakness"]),
            source=st.text(max_size=20),
            time=st.none() | st.datetimes(timezones=st.just(UTC)),
            present=st.booleans(),
            value=st.none() | values | st.builds(Quantity, values, units),
            ongoing=st.booleans(),
            site=st.none() | st.text(max_size=15),
        ),
        max_size=6,
    )
)
def test_no_input_makes_durable_rules_or_python_errors_leak(records: list[Record]) -> None:
    evaluator = engine.Evaluator(engine.load_text(chained()))
    try:
        evaluation = evaluator.evaluate(records, as_of=NOW)
    except engine.VigilError:
        return
    assert evaluation.escalation in {level.id for level in evaluation.levels}


def test_wrong_facts_are_refused_in_words() -> None:
    evaluator = engine.Evaluator(engine.load_text(chained()))
    with pytest.raises(engine.FactError, match="did you mean 'potassium'"):
        evaluator.evaluate([Record("potasium", "Observation/x")], as_of=NOW)
    with pytest.raises(engine.FactError, match="has no timezone"):
        evaluator.evaluate([Record("weakness", "Observation/x", datetime(2026, 1, 1))], as_of=NOW)
    with pytest.raises(engine.FactError, match="iterable of Record"):
        evaluator.evaluate("potassium", as_of=NOW)  # type: ignore[arg-type]
    with pytest.raises(engine.FactError, match="as_of"):
        evaluator.evaluate([], as_of=datetime(2026, 1, 1))


def test_latest_results_at_the_same_time_that_disagree_are_a_warning() -> None:
    # which of two simultaneous results is the latest is the data's ambiguity: say so
    evaluator = engine.Evaluator(engine.load_text(chained()))
    when = datetime(2024, 5, 1, 9, tzinfo=UTC)

    def potassium(source: str, value: float) -> Record:
        return Record("potassium", source, when, value=Quantity(value, "mmol/L"))

    records = [potassium("Observation/a", 2.3), potassium("Observation/b", 4.5)]
    result = evaluator.evaluate(records, as_of=when + timedelta(days=1))
    [warning] = [w for w in result.warnings if "same time" in w.message]
    assert warning.message == (
        "potassium: results at the same time disagree (2.3 mmol/L (Observation/a),"
        " 4.5 mmol/L (Observation/b)); Observation/b is read as the latest"
    )
    assert warning.source == "Observation/b"
    agreeing = [potassium("Observation/a", 2.3), potassium("Observation/b", 2.3)]
    result = evaluator.evaluate(agreeing, as_of=when + timedelta(days=1))
    assert not [w for w in result.warnings if "same time" in w.message]


def test_an_end_after_the_evaluation_time_does_not_lengthen_a_span() -> None:
    # a Period still open at as_of (or 9999-12-31 written for "open") is not known to go on
    ruleset = engine.load_ruleset(CALF_1)
    as_of = datetime(2026, 3, 1, tzinfo=UTC)
    twitching = Record(
        "fasciculation",
        "Observation/t1",
        as_of - timedelta(days=3),
        end=datetime.max.replace(tzinfo=UTC),
    )
    result = engine.Evaluator(ruleset).evaluate([twitching], as_of=as_of)
    assert "chronic-twitching" not in {s.rule for s in result.suggestions}
    assert result.escalation == "self-care"
