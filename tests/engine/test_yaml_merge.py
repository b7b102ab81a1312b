"""YAML's own ways of not repeating oneself load in a ruleset: an alias (`*name`) and a merge key
(`<<: *name`), which copies the keys of a marked mapping and lets the keys written beside it win."""

from __future__ import annotations

from pathlib import Path

import pytest

import engine

RULESET = """\
id: merged
version: 1.0.0
status: draft
title: Labs sharing their settings
concepts:
  potassium: &lab {{codes: [loinc#2823-3], unit: mmol/L, lookback: 30 days}}
  sodium: {sodium}
  weakness: {{codes: [sct#26544005]}}
rules:
  - id: low
    when: [potassium < 3 mmol/L, sodium < 130 mmol/L, weakness present]
    then: {{suggest: urgent, summary: Low potassium and sodium with weakness}}
levels: [{{id: none, title: No action, indicator: info}},
  {{id: urgent, title: Urgent, indicator: critical}}]
"""


def load(tmp_path: Path, sodium: str) -> engine.Ruleset:
    path = tmp_path / "ruleset.yaml"
    path.write_text(RULESET.format(sodium=sodium))
    return engine.load_ruleset(path)


@pytest.mark.parametrize(
    "merging",
    [
        "{<<: *lab, codes: [loinc#2951-2]}",
        "{<<: [*lab, {unit: g/L}], codes: [loinc#2951-2]}",  # the earlier mapping wins
        "{codes: [loinc#2951-2], <<: *lab}",  # what is written beside wins, wherever it stands
    ],
)
def test_a_merge_key_copies_a_marked_mapping(tmp_path: Path, merging: str) -> None:
    written_out = load(tmp_path, "{codes: [loinc#2951-2], unit: mmol/L, lookback: 30 days}")

    merged = load(tmp_path, merging)

    assert merged.concepts["sodium"] == written_out.concepts["sodium"]
    assert merged.concepts["potassium"] == written_out.concepts["potassium"]


def test_a_merge_key_of_no_mapping_is_a_located_problem(tmp_path: Path) -> None:
    with pytest.raises(engine.RulesetError) as raised:
        load(tmp_path, "{<<: 3, codes: [loinc#2951-2]}")

    assert "7:16: `<<` merges a mapping (`<<: *name`) or a list of them" in str(raised.value)
