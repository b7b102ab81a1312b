"""The example patients of calf-fasciculation 2.1.0 (`examples/calf-patients.json`).

Each patient's escalation and fired rules are written here from the specification
(clinical-spec-calf-2.md) and checked against its plain-Python reading, `tests.calf_oracle`;
a variant of a patient shows the spec's point the patient was written for. The Bundle itself
is checked to be valid FHIR R4 with the spec's code systems and every resource's subject a
Patient of the Bundle, and `vigil evaluate` to read it with only the warning it is meant to show.
"""

from __future__ import annotations

import copy
import json
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from tests.calf_oracle import LATERALITY, LOINC, RULES, SCT, VIGIL, evaluate
from tests.vigil.test_evaluate_command import vigil

EXAMPLES = Path(__file__).parents[2] / "examples" / "calf-patients.json"
# the README runs `--as-of 2026-03-01` (read as midnight UTC); the answers hold all that day
AS_OF = (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 1, 12, tzinfo=UTC))
SYSTEMS = {
    SCT, LOINC, VIGIL,
    "http://www.nlm.nih.gov/research/umls/rxnorm",
    "http://www.whocc.no/atc",
    "http://terminology.hl7.org/CodeSystem/observation-category",
    "http://terminology.hl7.org/CodeSystem/condition-clinical",
    "http://terminology.hl7.org/CodeSystem/condition-ver-status",
}  # fmt: skip
UCUM = "http://unitsofmeasure.org"
Resource = dict[str, Any]

# patient: (escalation, fired rules), from the spec's §7 and §11
EXPECTED: dict[str, tuple[str, set[str]]] = {
    # chronic widespread twitching, MRC 5 and normal K/Mg/Ca in the year (§5.15), GAD-7 12
    "amira": ("self-care", {"benign-twitching", "anxiety-screen-positive"}),
    # tetany 5 days after thyroidectomy; the only calcium is from day 1, before it (§5.13)
    "bea": ("urgent", {"tetany-without-calcium", "hypocalcemia-risk-without-calcium"}),
    # weakness of the right hand only is focal: not explained by K 2.9 (§5.6, §5.11)
    "chen": ("neurology", {"twitching-with-examined-weakness", "low-potassium"}),
    # K 2.3 with slurred speech: admission, and the neurology referral kept (§9.3)
    "dana": ("urgent", {"severe-hypokalemia", "twitching-with-bulbar-sign"}),
    # night cramps on atorvastatin, no CK: a note on an info card (§2, §12.13)
    "eli": ("none", {"statin-cramp-check-ck"}),
    # cramps on simvastatin, CK 1250 with its own upper limit 200 (6.25 x): stop the statin
    "fay": ("primary-care", {"possible-statin-myopathy"}),
    # pregnant, oedema of both legs, night cramps: the pre-eclampsia note, not the DVT rule
    "gita": ("none", {"pregnancy-leg-oedema"}),
    # heart failure, orthopnoea recorded 700 days ago, cramps now: nothing (§11)
    "harold": ("none", set()),
    # orthopnoea this week, normal power, twitching: self-care (its card has the note)
    "ivan": ("self-care", {"benign-twitching"}),
    # K 6.8 in CKD 3b on ramipril: admission and ECG (in 1.0.0: self-care)
    "jo": ("urgent", {"severe-hyperkalemia"}),
    # twitching in 3 regions over 44 days, weakness only reported, magnesium 0.62
    "kofi": (
        "primary-care",
        {
            "chronic-twitching",
            "widespread-twitching",
            "twitching-with-unconfirmed-weakness",
            "low-magnesium",
        },
    ),
}


def load() -> Resource:
    bundle: Resource = json.loads(EXAMPLES.read_text(encoding="utf-8"))
    return bundle


def by_patient(bundle: Resource) -> dict[str, list[Resource]]:
    """Each Patient's resources, by the Patient's id (the Patient itself left out)."""
    patients: dict[str, list[Resource]] = defaultdict(list)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Patient":
            patients[resource["id"]] = patients[resource["id"]]
        else:
            patients[resource["subject"]["reference"].removeprefix("Patient/")].append(resource)
    return dict(patients)


PATIENTS = by_patient(load())


def answer(resources: list[Resource], as_of: datetime = AS_OF[1]) -> tuple[str, set[str]]:
    result = evaluate(resources, as_of)
    return result.escalation, set(result.rules)


def without(resources: list[Resource], *ids: str) -> list[Resource]:
    return [r for r in resources if r["id"] not in ids]


def edited(resources: list[Resource], rid: str, **changes: Any) -> list[Resource]:
    found = [copy.deepcopy(r) for r in resources]
    for resource in found:
        if resource["id"] == rid:
            resource.update(changes)
    return found


@pytest.mark.parametrize("as_of", AS_OF, ids=["midnight", "noon"])
@pytest.mark.parametrize("patient", sorted(EXPECTED))
def test_each_example_patient_gets_the_escalation_and_rules_the_spec_gives(
    patient: str, as_of: datetime
) -> None:
    assert answer(PATIENTS[patient], as_of) == EXPECTED[patient]


def test_the_examples_cover_every_level_and_notes_without_a_level() -> None:
    assert set(PATIENTS) == set(EXPECTED)
    assert {level for level, _ in EXPECTED.values()} == {
        "none", "self-care", "primary-care", "neurology", "urgent",
    }  # fmt: skip
    # an info card: escalation none with a note rule fired; and a patient with no card at all
    notes = {p for p, (level, fired) in EXPECTED.items() if level == "none" and fired}
    assert notes == {"eli", "gita"}
    assert all(RULES[rule] == "none" for p in notes for rule in EXPECTED[p][1])
    assert EXPECTED["harold"] == ("none", set())


@pytest.mark.parametrize(
    ("patient", "change", "expected"),
    [
        pytest.param(
            # the same calcium taken after the tetany counts: review, not admission (§5.13)
            "bea",
            lambda rs: edited(rs, "bea-o1", effectiveDateTime="2026-02-28T11:00:00Z"),
            ("primary-care", {"tetany-with-normal-calcium"}),
            id="bea-calcium-after-tetany",
        ),
        pytest.param(
            # without the normal examination the chronic widespread twitching is a GP review
            "amira",
            lambda rs: without(rs, "amira-o4", "amira-o5"),
            (
                "primary-care",
                {"chronic-twitching", "widespread-twitching", "anxiety-screen-positive"},
            ),
            id="amira-not-examined",
        ),
        pytest.param(
            # weakness of both hands is not focal: K 2.9 explains it, so admission (§5.11)
            "chen",
            lambda rs: edited(rs, "chen-o2", bodySite=side_site("85562004", "51440002")),
            (
                "urgent",
                {"hypokalemia-with-weakness", "low-potassium", "weakness-explained-by-electrolyte"},
            ),
            id="chen-both-hands",
        ),
        pytest.param(
            # CK 300 on a statin is measured and not above 5 x its limit: nothing (§11)
            "eli",
            lambda rs: [*rs, ck("eli", 300)],
            ("none", set()),
            id="eli-ck-checked",
        ),
        pytest.param(
            # swelling of the left leg only in pregnancy: same-day DVT assessment (§14 O4)
            "gita",
            lambda rs: edited(rs, "gita-o3", bodySite=side_site("61685007", "7771000")),
            ("urgent", {"calf-swelling", "pregnancy-leg-oedema"}),
            id="gita-one-leg",
        ),
        pytest.param(
            # orthopnoea this week with weakness on examination: same-day assessment (§7)
            "ivan",
            lambda rs: edited(rs, "ivan-o3", valueBoolean=True),
            (
                "urgent",
                {"breathlessness-at-rest-or-lying-flat", "twitching-with-examined-weakness"},
            ),
            id="ivan-with-weakness",
        ),
    ],
)
def test_a_variant_of_an_example_shows_the_point_it_was_written_for(
    patient: str, change: Callable[[list[Resource]], list[Resource]], expected: tuple[str, set[str]]
) -> None:
    assert answer(change(PATIENTS[patient])) == expected


def side_site(code: str, side: str) -> list[Resource]:
    concept = {"coding": [{"system": SCT, "code": code}]}
    side_concept = {"coding": [{"system": SCT, "code": side}]}
    return [{**concept, "extension": [{"url": LATERALITY, "valueCodeableConcept": side_concept}]}]


def ck(patient: str, value: float) -> Resource:
    return {
        "resourceType": "Observation", "id": f"{patient}-ck", "status": "final",
        "code": {"coding": [{"system": LOINC, "code": "2157-6"}]},
        "subject": {"reference": f"Patient/{patient}"},
        "effectiveDateTime": "2026-02-27T09:00:00Z",
        "valueQuantity": {"value": value, "unit": "U/L", "system": UCUM, "code": "U/L"},
        "referenceRange": [{"high": {"value": 190, "unit": "U/L", "system": UCUM, "code": "U/L"}}],
    }  # fmt: skip


def test_the_bundle_is_valid_fhir_r4_with_the_specs_code_systems() -> None:
    bundle = load()
    Bundle.model_validate(bundle)
    assert bundle["type"] == "collection"
    patients = {e["resource"]["id"] for e in bundle["entry"] if is_patient(e["resource"])}
    ids = [(e["resource"]["resourceType"], e["resource"]["id"]) for e in bundle["entry"]]
    assert len(ids) == len(set(ids))
    for entry in bundle["entry"]:
        resource = entry["resource"]
        name = f"{resource['resourceType']}/{resource['id']}"
        if not is_patient(resource):
            assert resource["subject"]["reference"].removeprefix("Patient/") in patients, name
        for system, code in codings(resource):
            assert system in SYSTEMS, (name, system, code)
        for quantity in quantities(resource):
            assert quantity.get("system") == UCUM and quantity["code"] == quantity["unit"], name
        for when in dates(resource):
            assert when <= AS_OF[0], (name, when)


def test_vigil_evaluate_reads_every_example_with_one_warning_the_example_shows() -> None:
    run = vigil("evaluate", EXAMPLES, "--as-of", "2026-03-01", "--format", "json")

    assert run.returncode == 0, run.stderr
    output = json.loads(run.stdout)
    assert [r["patient"] for r in output["results"]] == [f"Patient/{p}" for p in sorted(EXPECTED)]
    warnings = [w for r in output["results"] for w in r["warnings"]] + output["warnings"]
    # dana's withdrawn result is there to show a warning; nothing else is left out
    assert warnings == [
        {"source": "Observation/dana-o4", "message": "status 'entered-in-error': ignored"}
    ]


def is_patient(resource: Resource) -> bool:
    return bool(resource["resourceType"] == "Patient")


def walk(value: object) -> list[dict[str, Any]]:
    """Every JSON object inside a value, itself included."""
    if isinstance(value, dict):
        return [value, *(found for child in value.values() for found in walk(child))]
    if isinstance(value, list):
        return [found for child in value for found in walk(child)]
    return []


def codings(resource: Resource) -> list[tuple[str, str]]:
    return [(o["system"], o["code"]) for o in walk(resource) if "system" in o and "code" in o
            and "value" not in o]  # fmt: skip


def quantities(resource: Resource) -> list[dict[str, Any]]:
    return [o for o in walk(resource) if "value" in o and "unit" in o]


def dates(resource: Resource) -> list[datetime]:
    keys = (
        "effectiveDateTime",
        "onsetDateTime",
        "performedDateTime",
        "authoredOn",
        "dateAsserted",
        "start",
    )
    found = []
    for obj in walk(resource):
        for key in keys:
            if key in obj:
                text = obj[key] if "T" in obj[key] else obj[key] + "T00:00:00Z"
                found.append(datetime.fromisoformat(text.replace("Z", "+00:00")))
    return found
