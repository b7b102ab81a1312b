"""`vigil reference`: every example of the catalogue loads inside the context ruleset (so a
grammar change that breaks one fails here), and the three formats say the same things."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import engine
from authoring.reference import (
    Entry,
    code_systems,
    example_ruleset,
    render,
    sections,
)
from engine.codes import LOCAL_SYSTEM
from engine.loader import check_text
from fhir_adapters.scenarios import ScenarioError, load_scenario

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = [e for s in sections() for e in s.entries]
LOADED = [e for e in ENTRIES if e.check in ("condition", "rule")]
CHECKED = [e for e in ENTRIES if e.check in ("concept", "parameter", "ruleset")]


def test_every_condition_and_rule_example_loads_and_compiles_in_one_ruleset() -> None:
    try:
        ruleset = engine.load_text(example_ruleset(LOADED), "examples.yaml")
    except engine.RulesetError as error:
        broken = [e.example for e in LOADED if not _loads(e)]
        pytest.fail(f"examples that do not load: {broken}\n{error}")

    ids = {rule.id for rule in ruleset.rules}
    assert {f"example-{n}" for n, e in enumerate(LOADED, 1) if e.check == "condition"} <= ids


def _loads(entry: Entry) -> bool:
    try:
        check_text(example_ruleset([entry]))
    except engine.RulesetError:
        return False
    return True


@pytest.mark.parametrize("entry", CHECKED, ids=[e.construct for e in CHECKED])
def test_each_concept_parameter_and_ruleset_example_loads(entry: Entry) -> None:
    check_text(example_ruleset([entry]), f"{entry.construct}.yaml")


def test_the_scenario_examples_are_scenario_files(tmp_path: Path) -> None:
    for number, entry in enumerate(e for e in ENTRIES if e.check == "scenario"):
        scenario = {"scenario": "Example", "now": "2026-03-01T09:00:00Z", "data": []}
        scenario["expect"] = yaml.safe_load(entry.example)
        path = tmp_path / f"example-{number}.yaml"
        path.write_text(yaml.safe_dump(scenario))
        try:
            load_scenario(path)
        except ScenarioError as error:
            pytest.fail(f"{entry.construct}: {error.problems}")


def test_the_yaml_only_examples_are_yaml() -> None:
    for entry in ENTRIES:
        assert isinstance(yaml.safe_load(entry.example), dict | str), entry.construct


def test_the_code_systems_include_the_projects_own() -> None:
    systems = {row["prefix"]: row["uri"] for row in code_systems()}

    assert systems["vigil"] == LOCAL_SYSTEM and systems["loinc"] == "http://loinc.org"


def test_the_text_and_markdown_name_every_construct_and_the_units() -> None:
    text, markdown = render("text"), render("markdown")

    for entry in ENTRIES:
        assert entry.construct in text and entry.construct in markdown
    for needle in ("mm[Hg]", "mmHg", LOCAL_SYSTEM, "catalytic activity"):
        assert needle in text and needle in markdown


def test_vigil_reference_prints_json_a_program_reads() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "vigil", "reference", "--format", "json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )

    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert [s["title"] for s in data["sections"]] == [s.title for s in sections()]
    assert "mol" in data["units"]["atoms"]["amount of substance"]
    assert data["units"]["spellings"]["mmHg"] == "mm[Hg]"
