"""The 2.1.0 oracle itself against the specification's own worked cases (§7.4 example, §11, §14)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.calf_oracle import LATERALITY, LOINC, SCT, VIGIL, evaluate

AS_OF = datetime(2026, 6, 1, 12, tzinfo=UTC)
PATIENT = {"reference": "Patient/p"}


def when(days: float) -> str:
    return (AS_OF - timedelta(days=days)).isoformat().replace("+00:00", "Z")


def code(system: str, value: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": value}]}


def site(value: str, side: str | None = None) -> dict[str, Any]:
    concept = code(SCT, value)
    if side is not None:
        sides = {"left": "7771000", "right": "24028007", "both": "51440002"}
        concept["extension"] = [{"url": LATERALITY, "valueCodeableConcept": code(SCT, sides[side])}]
    return concept


def finding(
    snomed: str, days: float, *, system: str = SCT, value: Any = True, category: str | None = None,
    body: dict[str, Any] | None = None, status: str = "final",
) -> dict[str, Any]:  # fmt: skip
    resource: dict[str, Any] = {
        "resourceType": "Observation", "status": status, "code": code(system, snomed),
        "subject": PATIENT, "effectiveDateTime": when(days),
    }  # fmt: skip
    if value is not None:
        resource["valueBoolean"] = value
    if category:
        cats = "http://terminology.hl7.org/CodeSystem/observation-category"
        resource["category"] = [code(cats, category)]
    if body is not None:
        resource["bodySite"] = body
    return resource


def lab(
    loinc: str, value: float, days: float, unit: str = "mmol/L", **extra: Any
) -> dict[str, Any]:
    return {
        "resourceType": "Observation", "status": extra.pop("status", "final"),
        "code": code(LOINC, loinc), "subject": PATIENT, "effectiveDateTime": when(days),
        "valueQuantity": {"value": value, "unit": unit, "code": unit}, **extra,
    }  # fmt: skip


def condition(snomed: str, days: float | None, *, system: str = SCT) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Condition", "code": code(system, snomed), "subject": PATIENT,
    }  # fmt: skip
    if days is not None:
        resource["onsetDateTime"] = when(days)
    return resource


TWITCH, CRAMP, WEAKNESS = "82470000", "55300003", "26544005"
K, MG, ADJ_CA, TOTAL_CA, CK, GAD7 = "2823-3", "2601-3", "29265-6", "2000-8", "2157-6", "70274-6"
CALF, THIGH, HAND = "53840002", "68367000", "85562004"


def rules(*resources: dict[str, Any]) -> tuple[str, set[str]]:
    answer = evaluate(resources, AS_OF)
    return answer.escalation, set(answer.rules)


def test_the_card_example_of_7_4_tetany_with_low_magnesium_and_a_normal_calcium() -> None:
    escalation, fired = rules(finding("10629009", 0), lab(MG, 0.45, 0), lab(ADJ_CA, 2.30, 0))
    assert escalation == "urgent"
    assert {"symptomatic-hypomagnesemia", "low-magnesium", "tetany-with-normal-calcium"} <= fired


@pytest.mark.parametrize(
    ("resources", "escalation", "fired", "not_fired"),
    [
        pytest.param(
            [finding(TWITCH, 7, body=site(CALF, "left")),
             finding(TWITCH, 0, body=site(CALF, "left")), lab(K, 4.1, 3), lab(MG, 0.85, 3)],
            "self-care", {"benign-twitching"}, {"widespread-twitching"}, id="one-calf-week",
        ),
        pytest.param(
            [finding(TWITCH, 0), finding(WEAKNESS, 1, value=False)],
            "self-care", {"benign-twitching"}, set(), id="weakness-recorded-absent",
        ),
        pytest.param([finding(TWITCH, 730)], "none", set(), {"benign-twitching"}, id="old-twitch"),
        pytest.param(
            [finding(TWITCH, 0, body=site(CALF)), finding(TWITCH, 20, body=site(THIGH))],
            "self-care", set(), {"widespread-twitching"}, id="calf-and-thigh-one-region",
        ),
        pytest.param(
            [finding(TWITCH, 0, body=site(CALF, "left")),
             finding(TWITCH, 1, body=site(CALF, "right"))],
            "primary-care", {"widespread-twitching"}, set(), id="both-calves-two-regions",
        ),
        pytest.param(
            [finding(TWITCH, 0), finding(TWITCH, 75)],
            "self-care", set(), {"chronic-twitching"}, id="two-twitches-not-chronic",
        ),
        pytest.param(
            [finding(TWITCH, 0), finding(TWITCH, 40), finding(TWITCH, 75)],
            "primary-care", {"chronic-twitching"}, set(), id="three-twitches-chronic",
        ),
        pytest.param(
            [finding(TWITCH, 0), lab(K, 3.0, 1), finding(WEAKNESS, 1, category="exam")],
            "neurology", {"low-potassium", "twitching-with-examined-weakness"},
            {"hypokalemia-with-weakness"}, id="k-3.0-examined-weakness",
        ),
        pytest.param(
            [finding(TWITCH, 0), lab(K, 2.9, 1),
             finding(WEAKNESS, 1, category="exam", body=site(HAND, "left"))],
            "neurology", {"low-potassium", "twitching-with-examined-weakness"},
            {"hypokalemia-with-weakness"}, id="k-2.9-one-hand-focal",
        ),
        pytest.param(
            [finding(TWITCH, 0), lab(K, 2.9, 1), finding(WEAKNESS, 1, category="exam")],
            "urgent", {"hypokalemia-with-weakness", "weakness-explained-by-electrolyte"},
            {"twitching-with-examined-weakness"}, id="k-2.9-weakness-explained",
        ),
        pytest.param(
            [finding(CRAMP, 0), lab(K, 2.7, 1)], "primary-care", {"low-potassium"},
            {"hypokalemia-with-weakness"}, id="k-2.7-cramp-only",
        ),
        pytest.param(
            [condition(CRAMP, 400), condition("433146000", 800), lab(ADJ_CA, 2.15, 2)],
            "primary-care", {"low-calcium"}, {"symptomatic-hypocalcemia"}, id="ca-2.15-ckd4",
        ),
        pytest.param(
            [finding(TWITCH, 0), lab(MG, 0.45, 1)], "primary-care", {"low-magnesium"},
            {"symptomatic-hypomagnesemia"}, id="mg-0.45-twitch-only",
        ),
        pytest.param(
            [finding(TWITCH, 0), lab(TOTAL_CA, 2.05, 2), lab(ADJ_CA, 2.30, 10)],
            "self-care", set(), {"low-calcium"}, id="adjusted-before-total",
        ),
        pytest.param(
            [finding(TWITCH, 0), lab(K, 3.2, 1, status="preliminary")],
            "self-care", set(), {"low-potassium"}, id="preliminary-k-3.2",
        ),
        pytest.param(
            [finding(TWITCH, 0), lab(MG, 0.50, 90), lab(MG, 0.85, 7)],
            "self-care", set(), {"abnormal-electrolyte-not-rechecked"}, id="mg-rechecked",
        ),
        pytest.param(
            [finding(TWITCH, 0), lab(MG, 0.50, 90), lab(MG, 0.85, 7, status="preliminary")],
            "primary-care", {"abnormal-electrolyte-not-rechecked"}, set(),
            id="mg-preliminary-not-a-recheck",
        ),
        pytest.param(
            [finding(TWITCH, 0), {**lab(GAD7, 0, 3), "valueQuantity": None, "valueInteger": 14}],
            "self-care", {"anxiety-screen-positive", "benign-twitching"}, set(), id="gad7-14",
        ),
        pytest.param(
            [finding(TWITCH, 0), lab(K, 5.6, 1)], "primary-care", {"high-potassium"}, set(),
            id="k-5.6",
        ),
        pytest.param(
            [finding(CRAMP, 0), finding("62744007", 700)], "none", set(),
            {"breathlessness-at-rest-or-lying-flat"}, id="old-orthopnoea",
        ),
        pytest.param(
            [finding(TWITCH, 0), finding("62744007", 3)], "self-care", {"benign-twitching"},
            {"breathlessness-at-rest-or-lying-flat"}, id="orthopnoea-no-weakness",
        ),
        pytest.param(
            [condition(CRAMP, 30), condition("77386006", 100), finding("102572006", 2)],
            "none", {"pregnancy-leg-oedema"}, {"calf-swelling"}, id="pregnancy-oedema",
        ),
        pytest.param(
            [finding(CRAMP, 80, value=None) | {"valueQuantity": {"value": 15, "code": "min"}}],
            "primary-care", {"prolonged-cramp"}, set(), id="old-prolonged-cramp",
        ),
        pytest.param(
            [finding(CRAMP, 0), lab(CK, 570, 1, unit="U/L"),
             {"resourceType": "MedicationRequest", "status": "active", "intent": "order",
              "medicationCodeableConcept": code("http://www.whocc.no/atc", "C10AA05")}],
            "none", set(), {"possible-statin-myopathy", "statin-cramp-check-ck"}, id="ck-3x",
        ),
        pytest.param(
            [finding(CRAMP, 0), lab(CK, 1000, 1, unit="U/L"),
             {"resourceType": "MedicationRequest", "status": "active", "intent": "order",
              "medicationCodeableConcept": code("http://www.whocc.no/atc", "C10AA05")}],
            "primary-care", {"possible-statin-myopathy"}, set(), id="ck-over-5x",
        ),
        pytest.param(
            [finding(TWITCH, 0), finding("8011004", 2),
             {"resourceType": "ServiceRequest", "status": "active", "intent": "proposal",
              "code": code(SCT, "308474002"), "authoredOn": when(1)}],
            "neurology", {"twitching-with-bulbar-sign"}, set(), id="draft-referral",
        ),
        pytest.param(
            [finding(TWITCH, 0), finding("8011004", 20),
             {"resourceType": "ServiceRequest", "status": "active", "intent": "order",
              "code": code(SCT, "308474002"), "authoredOn": when(10)}],
            "none", {"neurology-reviewed-recently"},
            {"twitching-with-bulbar-sign", "benign-twitching"}, id="referred-after-the-sign",
        ),
    ],
)  # fmt: skip
def test_the_specifications_worked_cases(
    resources: list[dict[str, Any]], escalation: str, fired: set[str], not_fired: set[str]
) -> None:
    got_escalation, got = rules(*resources)
    assert got_escalation == escalation, got
    assert fired <= got
    assert not (not_fired & got)


def test_a_calcium_before_the_tetany_does_not_count_after_thyroid_surgery() -> None:
    surgery = {
        "resourceType": "Procedure", "status": "completed", "code": code(SCT, "13619001"),
        "subject": PATIENT, "performedDateTime": when(6),
    }  # fmt: skip
    escalation, fired = rules(surgery, lab(ADJ_CA, 2.25, 5), finding("10629009", 1))
    assert escalation == "urgent"
    assert "tetany-without-calcium" in fired


def test_the_anxious_benign_twitcher_gets_self_care_with_reassurance() -> None:
    escalation, fired = rules(
        condition(TWITCH, 400),
        finding(TWITCH, 0, body=site(CALF, "left")),
        finding(TWITCH, 5, body=site(CALF, "right")),
        {**lab("", 0, 0), "code": code(VIGIL, "mrc-grade"), "valueQuantity": None,
         "valueInteger": 5},
        lab(K, 4.2, 100), lab(MG, 0.85, 100), lab(ADJ_CA, 2.35, 100),
    )  # fmt: skip
    assert escalation == "self-care"
    assert not fired & {"chronic-twitching", "widespread-twitching"}
