"""Whatever a clinician types, loading a ruleset ends in a ruleset or a RulesetError with
located problems: never a traceback."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import engine
from tests.engine.frozen import CALF_1

PACKAGED = CALF_1.read_text()
LINES = PACKAGED.splitlines()
PARSED = yaml.safe_load(PACKAGED)  # parsed once, copied for each example
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # safe_dump's text, by libyaml if built
# The two tests below load a ruleset the calf's size for every example; 100 a run, drawn anew
# on every local run (CI's profile fixes them), keep them inside the suite's budget. The long
# run of the same promise is bench/fuzz_atheris.py's `ruleset` target.
CALF_SIZED = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _load(text: str) -> None:
    try:
        engine.load_text(text, "fuzz.yaml")
    except engine.RulesetError as error:
        assert error.problems
        for problem in error.problems:
            assert problem.file == "fuzz.yaml"
            assert problem.line >= 0 and problem.column >= 0
            assert problem.message and "\n" not in problem.message


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_any_text(text: str) -> None:
    _load(text)


@CALF_SIZED
@given(st.data())
def test_the_packaged_ruleset_with_lines_dropped_or_mangled(data: st.DataObject) -> None:
    lines = list(LINES)
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(lines) - 1))
        action = data.draw(st.sampled_from(["drop", "replace", "truncate", "duplicate"]))
        if action == "drop":
            del lines[index]
        elif action == "replace":
            lines[index] = data.draw(st.text(max_size=40))
        elif action == "truncate":
            lines[index] = lines[index][: data.draw(st.integers(0, len(lines[index])))]
        else:
            lines.insert(index, lines[index])
    _load("\n".join(lines))


yaml_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@CALF_SIZED
@given(
    st.sampled_from(
        [
            "concepts",
            "parameters",
            "rules",
            "scope",
            "citations",
            "referrals",
            "red-flags",
            "sites",
            "version",
            "status",
        ]
    ),
    yaml_values,
)
def test_any_value_under_any_key(key: str, value: object) -> None:
    data = copy.deepcopy(PARSED)
    data[key] = value
    _load(yaml.dump(data, Dumper=DUMPER))


def test_the_packaged_ruleset_loads(tmp_path: Path) -> None:
    assert engine.load_text(PACKAGED, "calf.yaml").id == "calf-fasciculation"
