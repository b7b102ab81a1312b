"""A ruleset (its name, its conditions) is input from people too: however it is written,
`vigil evaluate --ruleset` answers in one line with exit 2, never a traceback, a hang or all the
memory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.vigil.test_evaluate_command import EXAMPLES, vigil

RULESET = """\
id: nested
version: 1.0.0
status: draft
title: Conditions nested on purpose
concepts:
  weakness: {{codes: [sct#26544005]}}
  twitching: {{codes: [sct#82470000]}}
rules:
  - id: nested
    when: {when}
    then: {{suggest: urgent, summary: Weakness and twitching}}
levels: [{{id: none, title: No action, indicator: info}},
  {{id: urgent, title: Urgent, indicator: critical}}]
"""


def test_a_condition_whose_alternatives_multiply_is_refused_before_expanding(
    tmp_path: Path,
) -> None:
    # 40 lines whose alternatives multiply to 2**40: expanding them would take all the memory
    pairs = ", ".join(["{any: [weakness present, twitching present]}"] * 40)
    ruleset = tmp_path / "multiplying.yaml"
    ruleset.write_text(RULESET.format(when=f"{{all: [{pairs}]}}"))

    run = vigil("evaluate", EXAMPLES, "--ruleset", ruleset)

    assert run.returncode == 2
    assert run.stderr.strip() == (
        f"vigil evaluate: {ruleset}:9:5: rule nested: its condition expands to "
        f"{2**40} alternatives; split the rule"
    )


def escalations(ruleset: Path) -> dict[str, str]:
    run = vigil("evaluate", EXAMPLES, "--ruleset", ruleset, "--format", "json")
    assert run.returncode == 0, run.stderr
    return {r["patient"]: r["escalation"] for r in json.loads(run.stdout)["results"]}


@pytest.mark.parametrize("nots", [2000, 2001])
def test_a_long_chain_of_nots_reads_as_its_parity(tmp_path: Path, nots: int) -> None:
    # a thousand `not`s and more, read without exhausting the stack
    chained = tmp_path / "chained.yaml"
    chained.write_text(RULESET.format(when='"' + "not " * nots + 'weakness present"'))
    plain = tmp_path / "plain.yaml"
    plain.write_text(RULESET.format(when='"' + "not " * (nots % 2) + 'weakness present"'))

    found = escalations(chained)

    assert found == escalations(plain)
    assert set(found.values()) == {"none", "urgent"}


def test_a_ruleset_name_too_long_for_the_filesystem_is_one_line() -> None:
    name = "a" * 5000

    run = vigil("evaluate", EXAMPLES, "--ruleset", name)

    assert run.returncode == 2
    assert run.stderr == f"vigil evaluate: {name}: cannot be read: File name too long\n"
