"""Scenario files: what a mistake in one says, and that no mistake ends in a traceback."""

from __future__ import annotations

import contextlib
import functools
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from fhir_adapters.scenarios import (
    ScenarioError,
    coverage,
    load_scenario,
    run_scenario,
)

FOLDER = engine.packaged_rulesets()["calf-fasciculation"].parent / "scenarios"


@functools.cache
def calf() -> engine.Ruleset:
    """The packaged ruleset, loaded once: the fuzz test runs a scenario for every example."""
    return engine.load_ruleset("calf-fasciculation")


EXAMPLE = yaml.safe_load((FOLDER / "u-severe-hypokalemia-2-49.yaml").read_text())


def test_a_mistake_is_reported_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(
        "scenario: x\nnow: 2026-03-01\ndata:\n  - observation: snomed#82470000\n"
        "    at: yesterday\nexpect: {escalation: urgent, fird: [a]}\n"
    )
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert [f"{p.line}:{p.column}" for p in caught.value.problems] == ["4:18", "5:9", "6:30"]
    messages = [p.message for p in caught.value.problems]
    assert "unknown code system 'snomed'" in messages[0]
    assert "relative like '-3 days'" in messages[1]
    assert messages[2] == "unknown expectation 'fird'"


def test_a_file_that_is_not_utf8_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_bytes("scenario: Kaliumwert für Frau Müller\n".encode("latin-1"))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert [str(p) for p in caught.value.problems] == [f"{path}:1:1: the file is not UTF-8 text"]


def test_a_failing_scenario_says_what_differed(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    changed = dict(EXAMPLE, expect={"escalation": "neurology", "not fired": ["severe-hypokalemia"]})
    path.write_text(yaml.safe_dump(changed))
    outcome = run_scenario(load_scenario(path), calf())
    assert outcome.failures == (
        "escalation: expected neurology, got urgent (suggested by: severe-hypokalemia)",
        "expected severe-hypokalemia not to fire, but it did",
    )


EXPECT = (FOLDER / "u-severe-hypokalemia-2-49.yaml").read_text().split("expect:")[0] + "expect:\n"


def test_a_rule_id_the_ruleset_does_not_have_is_a_problem_at_its_line(tmp_path: Path) -> None:
    # `not fired: [low-potasium]` passed whatever the rules did: no rule has that id
    path = tmp_path / "case.yaml"
    path.write_text(
        EXPECT + "  fired: [severe-hypokalemia, sever-hypokalemia]\n"
        "  not fired: [low-potasium, no-such-rule, twitch-or-cramp]\n"
        "  evidence:\n    benign-twitchng: [Observation/potassium]\n"
    )
    line = EXPECT.count("\n") + 1
    with pytest.raises(ScenarioError) as caught:
        run_scenario(load_scenario(path), calf())
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:{line}:31: calf-fasciculation has no rule 'sever-hypokalemia'; "
        "did you mean 'severe-hypokalemia'?",
        f"{path}:{line + 1}:15: calf-fasciculation has no rule 'low-potasium'; "
        "did you mean 'low-potassium'?",
        f"{path}:{line + 1}:29: calf-fasciculation has no rule 'no-such-rule'",
        f"{path}:{line + 1}:43: rule 'twitch-or-cramp' only derives a finding and never "
        "suggests, so it is never among the rules that fired",
        f"{path}:{line + 3}:5: calf-fasciculation has no rule 'benign-twitchng'; "
        "did you mean 'benign-twitching'?",
    ]


def outcome_with(tmp_path: Path, expect: dict[str, object]) -> tuple[str, ...]:
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(dict(EXAMPLE, expect=expect)))
    return run_scenario(load_scenario(path), calf()).failures


def test_fired_exactly_is_the_whole_set_of_rules_that_fire(tmp_path: Path) -> None:
    assert outcome_with(tmp_path, {"fired exactly": ["severe-hypokalemia"]}) == ()
    assert outcome_with(tmp_path, {"fired exactly": ["low-potassium"]}) == (
        "fired exactly: low-potassium did not fire; severe-hypokalemia also fired",
    )
    assert outcome_with(tmp_path, {"fired exactly": []}) == (
        "fired exactly: severe-hypokalemia also fired",
    )


def test_a_rule_under_fired_exactly_the_ruleset_does_not_have_is_located(
    tmp_path: Path,
) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(EXPECT + "  fired exactly: [severe-hypokalemia, low-potasium]\n")
    line = EXPECT.count("\n") + 1
    with pytest.raises(ScenarioError) as caught:
        run_scenario(load_scenario(path), calf())
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:{line}:39: calf-fasciculation has no rule 'low-potasium'; "
        "did you mean 'low-potassium'?"
    ]


def test_fired_exactly_that_contradicts_fired_or_not_fired_is_located(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(
        EXPECT + "  fired exactly: [severe-hypokalemia]\n"
        "  fired: [low-potassium]\n"
        "  not fired: [severe-hypokalemia]\n"
    )
    line = EXPECT.count("\n") + 1
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert [str(p) for p in caught.value.problems] == [
        f"{path}:{line + 1}:11: low-potassium is under fired, which fired exactly leaves out",
        f"{path}:{line + 2}:15: severe-hypokalemia is under not fired, which fired exactly lists",
    ]


def test_coverage_names_the_rules_no_scenario_checks_both_ways(tmp_path: Path) -> None:
    ruleset = calf()
    suggesting = [r.id for r in ruleset.rules if r.then.suggest]
    exact = tmp_path / "exact.yaml"
    exact.write_text(yaml.safe_dump(dict(EXAMPLE, expect={"fired exactly": ["low-potassium"]})))
    loose = tmp_path / "loose.yaml"
    loose.write_text(yaml.safe_dump(dict(EXAMPLE, expect={"not fired": ["low-potassium"]})))
    found = coverage(ruleset, [load_scenario(exact)])
    # fired exactly checks every rule it leaves out as not firing
    assert found.never_fired == tuple(r for r in suggesting if r != "low-potassium")
    assert found.never_not_fired == ("low-potassium",)
    assert "no scenario expects low-potassium not to fire" in found.lines()
    both = coverage(ruleset, [load_scenario(exact), load_scenario(loose)])
    assert both.never_not_fired == ()
    assert not both.complete


values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["now", "data", "expect", "scenario", "patient"]),
    values,
    st.sampled_from(
        [
            "observation",
            "at",
            "value",
            "site",
            "status",
            "component",
            "id",
            "reference-low",
            "onset",
            "fhir",
        ]
    ),
    values,
)
def test_no_scenario_file_makes_a_traceback(
    key: str, value: object, entry_key: str, entry_value: object
) -> None:
    case = yaml.safe_load(yaml.safe_dump(EXAMPLE))
    case["data"][1][entry_key] = entry_value
    case[key] = value
    path = Path(tempfile.gettempdir()) / "vigil-fuzz-scenario.yaml"
    path.write_text(yaml.safe_dump(case))
    try:
        scenario = load_scenario(path)
    except ScenarioError as error:
        assert error.problems
        return
    with contextlib.suppress(engine.VigilError):
        run_scenario(scenario, calf())


@pytest.mark.parametrize(
    "expect",
    [
        {"evidence": "Observation/x"},
        {"evidence": {"r": "x"}},
        {"escalation": ["urgent"]},
        {"fired": {"a": 1}},
        "urgent",
    ],
)
def test_malformed_expectations_are_problems(tmp_path: Path, expect: object) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(dict(EXAMPLE, expect=expect)))
    with pytest.raises(ScenarioError) as caught:
        load_scenario(path)
    assert caught.value.problems
