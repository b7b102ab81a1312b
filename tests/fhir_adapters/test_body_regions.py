"""Body regions, focal findings and sides, read from FHIR bodySite and its laterality
qualifier through `evaluate_bundle` (spec calf 2.1.0 §5.6, §5.7, §5.12)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from engine.loader import load_text
from engine.model import Ruleset
from fhir_adapters import evaluate_bundle
from fhir_adapters.body_sites import LATERALITY_URL
from tests.engine.regioned import NOW, REGIONS

SCT = "http://snomed.info/sct"
FASCICULATION, WEAKNESS = "82470000", "26544005"
LEG_SWELLING, SWELLING = "449754000", "65124004"
CALF, THIGH, UPPER_ARM, HAND, EYELID, EAR = (
    "53840002",
    "68367000",
    "40983000",
    "85562004",
    "80243003",
    "117590005",
)
LEFT_LOWER_LIMB, RIGHT_LOWER_LIMB = "32153003", "62175007"
SIDE_CODES = {"left": "7771000", "right": "24028007", "both": "51440002"}


@pytest.fixture(scope="module")
def ruleset() -> Ruleset:
    return load_text(REGIONS)


def site(code: str, side: str | None = None) -> dict[str, Any]:
    """A bodySite CodeableConcept, with the mCODE laterality qualifier when `side` is given."""
    concept: dict[str, Any] = {"coding": [{"system": SCT, "code": code}]}
    if side is not None:
        value = {"coding": [{"system": SCT, "code": SIDE_CODES.get(side, side)}]}
        concept["extension"] = [{"url": LATERALITY_URL, "valueCodeableConcept": value}]
    return concept


def observation(
    code: str, body_site: dict[str, Any] | None = None, *, days: int = 1
) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": SCT, "code": code}]},
        "subject": {"reference": "Patient/p"},
        "effectiveDateTime": (NOW - timedelta(days=days)).isoformat(),
    }
    if body_site is not None:
        resource["bodySite"] = body_site
    return resource


def condition(code: str, *body_sites: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "code": {"coding": [{"system": SCT, "code": code}]},
        "subject": {"reference": "Patient/p"},
        "onsetDateTime": (NOW - timedelta(days=2)).isoformat(),
        "bodySite": list(body_sites),
    }


def evaluated(ruleset: Ruleset, *resources: dict[str, Any]) -> tuple[set[str], list[str]]:
    """The findings derived for one patient with `resources`, and the warnings (with source)."""
    entries = [{"resource": {"resourceType": "Patient", "id": "p"}}]
    for i, resource in enumerate(resources):
        entries.append({"resource": {**resource, "id": f"r{i}"}})
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    [result] = evaluate_bundle(bundle, ruleset, NOW)
    evaluation = result.evaluation
    warnings = [f"{w.source}: {w.message}" for w in evaluation.warnings]
    return {f.name for f in evaluation.findings}, warnings


def regions_of(ruleset: Ruleset, *resources: dict[str, Any]) -> int:
    found, _ = evaluated(ruleset, *resources)
    return 2 if "widespread" in found else 1 if "one-region" in found else 0


@pytest.mark.parametrize(
    ("sites", "count"),
    [
        pytest.param([site(CALF), site(THIGH)], 1, id="calf and thigh without a side"),
        pytest.param([site(CALF, "left"), site(CALF, "right")], 2, id="left and right calf"),
        pytest.param([site(CALF), site(UPPER_ARM)], 2, id="calf and upper arm"),
        pytest.param([site(EYELID), site(CALF)], 2, id="eyelid and calf"),
        pytest.param([site(CALF, "left"), site(CALF)], 1, id="left calf and side-unknown calf"),
        pytest.param([site(EAR), site(CALF)], 1, id="a site not in the table adds none"),
        pytest.param([site(EAR)], 0, id="only a site not in the table"),
        pytest.param([None, None], 0, id="no site"),
        pytest.param([site(CALF, "both")], 2, id="both sides is left and right"),
        pytest.param(
            [site(LEFT_LOWER_LIMB, "right"), site(CALF, "right")],
            2,
            id="a pre-coordinated side wins over the qualifier",
        ),
        pytest.param([site(LEFT_LOWER_LIMB), site(RIGHT_LOWER_LIMB)], 2, id="pre-coordinated"),
    ],
)
def test_twitching_regions_count_as_the_spec_says(
    ruleset: Ruleset, sites: list[dict[str, Any] | None], count: int
) -> None:
    records = [observation(FASCICULATION, s, days=i + 1) for i, s in enumerate(sites)]
    assert regions_of(ruleset, *records) == count


def test_one_condition_at_both_calves_is_two_regions(ruleset: Ruleset) -> None:
    twitching = condition(FASCICULATION, site(CALF, "left"), site(CALF, "right"))
    assert regions_of(ruleset, twitching) == 2


@pytest.mark.parametrize(
    ("sites", "focal"),
    [
        pytest.param([site(HAND)], True, id="one hand"),
        pytest.param([site(HAND, "left"), site(UPPER_ARM, "left")], True, id="one arm"),
        pytest.param([site(HAND, "left"), site(HAND, "right")], False, id="both hands"),
        pytest.param([site(UPPER_ARM), site(CALF)], False, id="an arm and a leg"),
        pytest.param([None], False, id="no site"),
        pytest.param([site(HAND), None], False, id="one record without a site"),
        pytest.param([site(EYELID)], False, id="head is not a focal class"),
        pytest.param([site(EAR)], False, id="a site not in the table"),
    ],
)
def test_weakness_is_focal_only_in_one_limb(
    ruleset: Ruleset, sites: list[dict[str, Any] | None], focal: bool
) -> None:
    found, _ = evaluated(ruleset, *(observation(WEAKNESS, s) for s in sites))
    assert ("focal-weakness" in found) is focal
    assert ("weakness-not-focal" in found) is not focal


@pytest.mark.parametrize(
    ("records", "finding"),
    [
        pytest.param([(CALF, "left", 1)], "one-sided-swelling", id="left"),
        pytest.param([(CALF, "left", 1), (CALF, None, 2)], "one-sided-swelling", id="and unknown"),
        pytest.param([(CALF, "left", 1), (CALF, "right", 2)], "swelling-both-sides", id="both"),
        pytest.param([(CALF, "both", 1)], "swelling-both-sides", id="right and left code"),
        pytest.param([(CALF, None, 1)], "swelling-side-unknown", id="no side"),
        pytest.param([(None, None, 1)], "swelling-side-unknown", id="no site"),
        pytest.param(
            [(CALF, "right", 20), (CALF, "left", 1)], "one-sided-swelling", id="older side"
        ),
    ],
)
def test_leg_swelling_sides_over_the_window(
    ruleset: Ruleset, records: list[tuple[str | None, str | None, int]], finding: str
) -> None:
    resources = [
        observation(LEG_SWELLING, site(code, side) if code else None, days=days)
        for code, side, days in records
    ]
    found, _ = evaluated(ruleset, *resources)
    sides = {"one-sided-swelling", "swelling-both-sides", "swelling-side-unknown"}
    assert found & sides == {finding}


def test_the_card_names_the_side(ruleset: Ruleset) -> None:
    entries = [
        {"resource": {"resourceType": "Patient", "id": "p"}},
        {"resource": {**observation(LEG_SWELLING, site(CALF, "right")), "id": "o1"}},
    ]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    [result] = evaluate_bundle(bundle, ruleset, NOW)
    [suggestion] = result.evaluation.suggestions
    assert suggestion.summary == "Swelling of the right leg: possible deep vein thrombosis"


def test_swelling_counts_as_leg_swelling_only_at_a_lower_limb_site(ruleset: Ruleset) -> None:
    found, warnings = evaluated(ruleset, observation(SWELLING, site(CALF, "left")))
    assert {"swelling", "one-sided-swelling"} <= found and warnings == []

    found, warnings = evaluated(ruleset, observation(SWELLING, site(UPPER_ARM, "left")))
    assert "swelling" not in found
    assert warnings == [
        "Observation/r0: sct#65124004 means leg_swelling only at a body site in lower_limb; "
        "its body site sct#40983000 is not: left out"
    ]

    found, warnings = evaluated(ruleset, observation(SWELLING))
    assert "swelling" not in found
    assert warnings == [
        "Observation/r0: sct#65124004 means leg_swelling only at a body site in lower_limb; "
        "it has no body site: left out"
    ]


def test_an_unreadable_laterality_is_a_warning_and_side_unknown(ruleset: Ruleset) -> None:
    found, warnings = evaluated(ruleset, observation(LEG_SWELLING, site(CALF, "999999")))
    assert "swelling-side-unknown" in found
    assert warnings == [
        "Observation/r0: bodySite laterality is not SNOMED left, right or both: side unknown"
    ]
