"""bench/durable_generic.py: any ruleset's compiled definition on a bare durable_rules Host
answers as Vigil does, and the engine benchmark's cross-check refuses a disagreement."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pytest

import engine
from bench.durable_generic import Answer, DurableGeneric
from bench.engine_bench import cross_check_generic, patients_of
from bench.population import AS_OF


@pytest.mark.parametrize(("name", "size"), [("calf-fasciculation", 150), ("hyperkalaemia", 150)])
def test_the_compiled_definition_on_a_bare_host_answers_as_vigil(name: str, size: int) -> None:
    ruleset = engine.load_ruleset(name)
    direct, vigil = DurableGeneric(ruleset), engine.Evaluator(ruleset)
    fired: set[str] = set()
    for records in patients_of(name, size):
        got, expected = direct.evaluate(records, AS_OF), vigil.evaluate(records, as_of=AS_OF)
        assert got.escalation == expected.escalation
        assert got.rules == {s.rule for s in expected.suggestions}
        assert got.findings == {f.name for f in expected.findings}
        fired |= got.rules
    assert len(fired) >= 5  # the population exercises the ruleset, not only "nothing to do"


class _OneRuleShort(DurableGeneric):
    def evaluate(self, records: Iterable[engine.Record], as_of: datetime) -> Answer:
        answer = super().evaluate(records, as_of)
        return Answer(answer.escalation, frozenset(sorted(answer.rules)[1:]), answer.findings)


def test_the_cross_check_exits_on_a_rule_durable_rules_did_not_fire(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ruleset = engine.load_ruleset("hyperkalaemia")
    patients = [p for p in patients_of("hyperkalaemia", 60) if p]
    with pytest.raises(SystemExit) as exited:
        cross_check_generic(patients, _OneRuleShort(ruleset), engine.Evaluator(ruleset))
    assert exited.value.code == 1
    assert "DISAGREEMENT" in capsys.readouterr().err
