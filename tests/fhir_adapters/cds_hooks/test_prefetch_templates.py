"""The prefetch templates a ruleset's concepts of every kind ask an EHR for."""

from __future__ import annotations

from engine.codes import Code
from engine.model import Concept, Marker, Ruleset
from fhir_adapters.cds_hooks.prefetch import prefetch_templates

LOINC, SCT = "http://loinc.org", "http://snomed.info/sct"


def _ruleset(*concepts: Concept) -> Ruleset:
    return Ruleset(
        id="kinds",
        version="1.0.0",
        status="active",
        title="Kinds",
        description="",
        content_hash="0" * 64,
        concepts={c.name: c for c in concepts},
        sites={},
        parameters={},
        rules=(),
    )


def test_each_kind_is_searched_in_its_own_resource_type() -> None:
    templates = prefetch_templates(
        _ruleset(
            Concept(
                "potassium",
                (Code(LOINC, "2823-3"),),
                unit="mmol/L",
                kind="quantity",
                markers=(Marker("haemolysed", (Code("urn:v2-0493", "HEM"),)),),
            ),
            Concept("visit", (Code(SCT, "11429006"),), kind="event", resource="Encounter"),
            Concept(
                "ecg_change",
                (Code(SCT, "251259000"),),
                answers_of=(Code(LOINC, "8601-7"),),
            ),
            Concept("raasi", (Code("http://www.whocc.no/atc", "C09A"),), kind="medication"),
            Concept("age", (), kind="demographic", field="age"),
            Concept("dialysis", (Code(SCT, "302497006"),), kind="event", resource="Procedure"),
            Concept(
                "renal_order",
                (Code(LOINC, "24362-6"),),
                kind="event",
                resource="ServiceRequest",
            ),
        )
    )
    assert templates["patient"] == "Patient/{{context.patientId}}"
    observations = templates["observations"]
    assert "http://loinc.org|2823-3" in observations
    assert "http://loinc.org|8601-7" in observations  # the report whose answer is the finding
    assert "whocc" not in observations  # a medication's codes are no Observation's
    assert "http://loinc.org|8601-7" not in templates["conditions"]
    assert observations.endswith("&_include=Observation:specimen")
    assert "&type=http://snomed.info/sct|11429006" in templates["encounters"]
    assert templates["procedures"].startswith("Procedure?patient={{context.patientId}}&code=")
    assert "24362-6" in templates["service-requests"]
    assert "_sort=-authored" in templates["service-requests"]
    for resource in ("MedicationRequest", "MedicationStatement"):
        key = "medication-requests" if resource == "MedicationRequest" else "medication-statements"
        assert templates[key] == (
            f"{resource}?patient={{{{context.patientId}}}}"
            f"&_include={resource}:medication&_count=100"
        )


def test_a_ruleset_without_the_new_kinds_asks_for_what_it_did() -> None:
    templates = prefetch_templates(_ruleset(Concept("weakness", (Code(SCT, "26544005"),))))
    assert set(templates) == {"observations", "conditions"}
