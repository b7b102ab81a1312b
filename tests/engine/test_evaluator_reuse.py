"""An Evaluator is made for every Bundle and every CDS Hooks call: making one again for a
ruleset already checked and compiled repeats neither, and a ruleset that fails its checks is
refused every time. One Evaluator reused answers every patient as a fresh one would."""

from __future__ import annotations

from dataclasses import replace

import pytest

import engine
from bench.hyperkalaemia_population import population_records
from bench.population import AS_OF, population
from engine import Evaluator
from engine import evaluator as evaluator_module
from engine.levels import Ladder
from engine.model import Ruleset
from tests.engine.levelled import levelled


def _counting_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    checked: list[str] = []
    real = evaluator_module.check_levels

    def check(ruleset: Ruleset, levels: Ladder) -> None:
        checked.append(ruleset.key)
        real(ruleset, levels)

    monkeypatch.setattr(evaluator_module, "check_levels", check)
    return checked


def test_the_levels_of_a_ruleset_are_checked_once(monkeypatch: pytest.MonkeyPatch) -> None:
    ruleset = replace(levelled(), id="levelled-checked-once")
    checked = _counting_checks(monkeypatch)
    first = Evaluator(ruleset)
    again = [Evaluator(ruleset) for _ in range(3)]
    assert checked == [ruleset.key]
    assert all(e.ruleset is first.ruleset for e in again)


def test_a_ruleset_naming_an_undeclared_level_is_refused_every_time() -> None:
    ruleset = levelled()
    rules = tuple(
        replace(r, then=replace(r.then, suggest="urgent")) if r.id == "mild" else r
        for r in ruleset.rules
    )
    wrong = replace(ruleset, id="levelled-refused-every-time", rules=rules)
    for _ in range(2):
        with pytest.raises(engine.RulesetError, match=r"rule mild: there is no level 'urgent'"):
            Evaluator(wrong)
    Evaluator(replace(ruleset, id="levelled-refused-every-time"))  # the right one is kept


@pytest.mark.parametrize("name", ["calf-fasciculation", "hyperkalaemia"])
def test_an_evaluator_reused_answers_as_a_fresh_one(name: str) -> None:
    """What an Evaluator works out once for its ruleset (thresholds, card and rule indexes)
    leaves each evaluation as a fresh Evaluator would give it, in any order."""
    ruleset = engine.load_ruleset(name)
    patients = population(40) if name == "calf-fasciculation" else population_records(40, ruleset)
    reused = Evaluator(ruleset)
    first = [reused.evaluate(records, as_of=AS_OF) for records in patients]
    backwards = [reused.evaluate(records, as_of=AS_OF) for records in reversed(patients)]
    fresh = [Evaluator(ruleset).evaluate(records, as_of=AS_OF) for records in patients]
    assert first == fresh == backwards[::-1]
    assert any(e.proposals for e in first)
    assert name == "hyperkalaemia" or any(e.card is not None for e in first)  # no card: section
