"""A YAML syntax error says what to do, at the place to fix it."""

from __future__ import annotations

import pytest

from engine.yaml_source import load_yaml


@pytest.mark.parametrize(
    ("text", "where", "advice"),
    [
        ("a: 1\nb: *x\n", (2, 4), "starting with `*`"),
        ("a: 1\nb: & x\n", (2, 5), "cannot start with `*` or `&`"),
        ("a: 1\nb: !x y\n", (2, 4), "cannot start with `!`"),
        ("a: 1\nb: %x\n", (2, 4), "cannot start with `%`"),
        ("%x\na: 1\n", (2, 1), "YAML directive"),
        ("a: [one, two\nb: 2\n", (1, 4), "is read as a list that is not closed"),
        ("a: {b: Low: recheck}\n", (1, 11), "holding `: `"),
        ("a:\n  b: 1\n    c: 2\n", (3, 6), "indented more than the key above"),
        ("a: 'it''s\nc: 2\n", (1, 4), "never closed"),
    ],
    ids=[
        "alias",
        "anchor",
        "tag",
        "directive",
        "directive-line",
        "bracket",
        "colon",
        "deeper",
        "quote",
    ],
)
def test_syntax_errors_advise(text: str, where: tuple[int, int], advice: str) -> None:
    source, problems = load_yaml(text, "f.yaml")
    assert source is None and len(problems) == 1
    problem = problems[0]
    assert (problem.line, problem.column) == where and problem.code == "yaml-syntax"
    assert advice in problem.message


def test_a_duplicate_key_names_the_first_line() -> None:
    source, problems = load_yaml("a: 1\nb:\n  c: 1\n  c: 2\n", "f.yaml")
    assert source is not None and source.data == {"a": 1, "b": {"c": 1}}
    assert [(p.line, p.column, p.code) for p in problems] == [(4, 3, "duplicate-key")]
    assert problems[0].message.startswith("duplicate key `c`: first at line 3")
