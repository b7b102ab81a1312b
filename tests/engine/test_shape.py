"""The shape of a ruleset in plain words: pydantic's errors translated, broken entries set
aside with their names remembered, the rest located where it was written."""

from __future__ import annotations

from engine.shape import Broken, check_shape, keys_at
from engine.yaml_source import load_yaml

TEXT = """\
id: s
version: 1.0.0
status: draft
title: S
concepts:
  a: {codes: [x#1], kind: findng}
  b: {codes: [x#2]}
rules:
  - id: one
    when: a present
    then: {derive: f, cite: 3}
  - id: two
    when: b present
    then: {derive: g}
"""


def test_broken_entries_are_set_aside_and_the_rest_keeps_its_lines() -> None:
    source, problems = load_yaml(TEXT, "s.yaml")
    assert source is not None and problems == []
    shape = check_shape(source)
    assert shape.spec is not None
    assert list(shape.spec.concepts) == ["b"] and [r.id for r in shape.spec.rules] == ["two"]
    assert shape.broken.concepts == {"a"} and shape.broken.rules == {"one"}
    assert shape.broken.findings == {"f"}
    assert shape.source.where(("rules", 0, "when")) == (13, 11)  # rule two, where it stands
    assert [(p.line, p.code, p.message) for p in shape.problems] == [
        (
            6,
            "wrong-value",
            "`kind` of concept `a` must be one of finding, quantity, score, coded, medication, "
            "demographic, event, not `findng`",
        ),
        (11, "wrong-type", "`then.cite` of rule `one` must be a text or a list, not `3`"),
    ]


def test_a_cascade_is_recognised_by_its_phrase_not_by_the_name_anywhere() -> None:
    broken = Broken(concepts={"a"}, findings={"x"})
    assert broken.hides("unknown concept 'a'; did you mean 'b'?")
    assert broken.hides("{a} names no concept or parameter")
    assert not broken.hides("red flag 'x': unknown concept 'thrist'")


def test_the_keys_a_mapping_may_have_are_read_from_the_schema() -> None:
    assert "when" in keys_at(("rules", 0))
    assert "derive" in keys_at(("rules", 0, "then"))
    assert "unit" in keys_at(("concepts", "k"))
    assert keys_at(("parameters",)) == []
