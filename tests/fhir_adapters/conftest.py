"""Fixtures for the FHIR reading tests: a hand-built ruleset with the spec's concepts, and the
shared third-party FHIR samples (skipped where ../shared is absent)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from engine.codes import Code, parse_code
from engine.conditions import Compare, Op
from engine.model import Action, Concept, Rule, Ruleset

SHARED = Path(__file__).parents[2].parent / "shared"
SAMPLES = SHARED / "fhir-samples"


def concept(name: str, *codes: str, **kwargs: object) -> Concept:
    return Concept(name, tuple(parse_code(c) for c in codes), **kwargs)  # type: ignore[arg-type]


CONCEPTS = (
    concept("fasciculation", "sct#82470000"),
    concept("weakness", "sct#26544005", "sct#713514005", "sct#249939004"),
    concept("mrc_grade", "vigil#mrc-grade"),
    concept("atrophy", "sct#88092000"),
    concept("cramp", "sct#55300003", "sct#449918009", "sct#102549009", unit="min"),
    concept("dysarthria", "sct#8011004", "sct#40739000"),
    concept(
        "magnesium",
        "loinc#19123-9",
        "loinc#2601-3",
        unit="mmol/L",
        lookback=timedelta(days=30),
        molar_mass=24.305,
        valence=2,
    ),
    concept(
        "potassium",
        "loinc#2823-3",
        "loinc#6298-4",
        "loinc#39789-3",
        "loinc#32713-0",
        unit="mmol/L",
        lookback=timedelta(days=30),
        molar_mass=39.098,
        valence=1,
    ),
    concept(
        "calcium",
        "loinc#17861-6",
        "loinc#2000-8",
        unit="mmol/L",
        lookback=timedelta(days=30),
        molar_mass=40.078,
        valence=2,
    ),
    concept("gad7", "loinc#70274-6"),
    concept("sleep", "loinc#93832-4", unit="h"),
    concept("caffeine", "vigil#caffeine-intake", unit="mg/d"),
)


def compares(concept: str, op: Op, threshold: str) -> Rule:
    """A rule that compares the concept's value, so a number for it is read as one."""
    text = f"{concept} {op} {threshold}"
    return Rule(text, text, Compare(concept, "latest", op, threshold, text, ()), Action())


def make_ruleset() -> Ruleset:
    return Ruleset(
        id="test-fhir",
        version="0.0.0",
        status="draft",
        title="FHIR adapter test ruleset",
        description="The calf-fasciculation concepts, built by hand",
        content_hash="0" * 64,
        concepts={c.name: c for c in CONCEPTS},
        sites={
            "calf": (Code("http://snomed.info/sct", "53840002"),),
            "tongue": (Code("http://snomed.info/sct", "21974007"),),
        },
        parameters={},
        rules=(compares("mrc_grade", "<=", "4"), compares("gad7", ">=", "10")),
    )


@pytest.fixture(scope="session")
def fhir_ruleset() -> Ruleset:
    return make_ruleset()


@pytest.fixture(scope="session")
def fhir_samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip(f"shared FHIR samples not found at {SAMPLES} (a clone without ../shared)")
    return SAMPLES
