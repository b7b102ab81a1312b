"""A deterministic population of raised-potassium patients as FHIR R4 resources.

Each patient is a Patient (birth date, sex) and about 15 resources drawn from a seeded
`random.Random` on the codes of clinical-spec-hyperkalaemia.md §4: potassium series (some
haemolysed, by note or Specimen), creatinine in µmol/L and mg/dL, eGFR, heart rate, blood
pressure panels with components, NEWS2, ECG reports with coded answers, symptoms and kidney
Conditions, dialysis Procedures, RAAS inhibitors and other potassium-raising medicines as
MedicationRequest and MedicationStatement (active, stopped, on hold), and U&E orders. Being
FHIR, it serves both the engine benchmark (read once into Records) and the FHIR benchmark.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.model import Ruleset
from engine.records import Record
from fhir_adapters.patients import patient_records

AS_OF = datetime(2026, 3, 1, 12, tzinfo=UTC)
SEED = 20261207

LOINC = "http://loinc.org"
SCT = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
V2_0493 = "http://terminology.hl7.org/CodeSystem/v2-0493"

_MEDICINES = [  # (system, code): ramipril, ramipril 5 mg capsule, lisinopril, losartan,
    (RXNORM, "35296"),  # spironolactone, trimethoprim, ibuprofen, an unknown product
    (RXNORM, "198189"),
    (RXNORM, "29046"),
    (RXNORM, "52175"),
    (RXNORM, "9997"),
    (RXNORM, "10829"),
    (RXNORM, "5640"),
    (RXNORM, "999999"),
]
_SYMPTOMS = ["26544005", "80313002", "422587007", "214264003", "29857009"]
_ECG_ANSWERS = ["251259000", "991002", "426177001", "102594003", "164947007"]
_KIDNEY = ["709044004", "433144002", "14669001", "105502003", "84114007", "420422005"]


def _time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _quantity(value: float, unit: str, code: str | None = None) -> dict[str, Any]:
    return {"value": value, "unit": unit, "system": UCUM, "code": code or unit}


class _Patient:
    def __init__(self, rng: random.Random, index: int) -> None:
        self.rng = rng
        self.id = f"hk{index}"
        self.count = 0
        self.resources: list[dict[str, Any]] = []

    def _next(self, kind: str) -> str:
        self.count += 1
        return f"{self.id}-{kind}-{self.count}"

    def _ago(self, low_days: float, high_days: float) -> datetime:
        return AS_OF - timedelta(hours=round(self.rng.uniform(low_days, high_days) * 24, 1))

    def observation(
        self, code: str, when: datetime, system: str = LOINC, **value: Any
    ) -> dict[str, Any]:
        resource = {
            "resourceType": "Observation",
            "id": self._next("obs"),
            "status": "final",
            "code": {"coding": [{"system": system, "code": code}]},
            "subject": {"reference": f"Patient/{self.id}"},
            "effectiveDateTime": _time(when),
            **value,
        }
        self.resources.append(resource)
        return resource

    def condition(self, code: str, when: datetime) -> None:
        self.resources.append(
            {
                "resourceType": "Condition",
                "id": self._next("cond"),
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                            "code": "active",
                        }
                    ]
                },
                "code": {"coding": [{"system": SCT, "code": code}]},
                "subject": {"reference": f"Patient/{self.id}"},
                "onsetDateTime": _time(when),
            }
        )

    def potassium(self) -> None:
        rng = self.rng
        for i in range(rng.choice([1, 2, 2, 3, 4])):
            when = self._ago(0, 3) if i == 0 else self._ago(5, 500)
            value = round(rng.choice([rng.uniform(3.6, 5.4), rng.uniform(5.5, 7.2)]), 1)
            extra: dict[str, Any] = {}
            if rng.random() < 0.08:
                extra["note"] = [{"text": "Haemolysed sample - repeat advised."}]
            elif rng.random() < 0.04:
                specimen = self._next("spec")
                self.resources.append(
                    {
                        "resourceType": "Specimen",
                        "id": specimen,
                        "subject": {"reference": f"Patient/{self.id}"},
                        "condition": [{"coding": [{"system": V2_0493, "code": "HEM"}]}],
                    }
                )
                extra["specimen"] = {"reference": f"Specimen/{specimen}"}
            code = rng.choices(["2823-3", "6298-4"], weights=[9, 1])[0]
            self.observation(code, when, valueQuantity=_quantity(value, "mmol/L"), **extra)

    def kidney(self) -> None:
        rng = self.rng
        for _ in range(rng.choice([0, 1, 2, 3])):
            when = self._ago(0, 300)
            if rng.random() < 0.7:
                value = float(round(rng.uniform(60, 260)))
                self.observation("14682-9", when, valueQuantity=_quantity(value, "umol/L"))
            else:
                value = round(rng.uniform(0.7, 3.0), 2)
                self.observation("2160-0", when, valueQuantity=_quantity(value, "mg/dL"))
        for _ in range(rng.choice([0, 1, 2])):
            value = round(rng.uniform(12, 95))
            self.observation(
                "62238-1",
                self._ago(0, 400),
                valueQuantity=_quantity(value, "mL/min/{1.73_m2}"),
            )

    def vital_signs(self) -> None:
        rng = self.rng
        if rng.random() < 0.5:
            self.observation(
                "8867-4",
                self._ago(0, 2),
                valueQuantity=_quantity(round(rng.uniform(40, 110)), "/min"),
            )
        if rng.random() < 0.4:
            systolic, diastolic = round(rng.uniform(80, 170)), round(rng.uniform(45, 95))
            self.observation(
                "85354-9",
                self._ago(0, 2),
                component=[
                    {
                        "code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
                        "valueQuantity": _quantity(systolic, "mm[Hg]"),
                    },
                    {
                        "code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
                        "valueQuantity": _quantity(diastolic, "mm[Hg]"),
                    },
                ],
            )
        if rng.random() < 0.2:
            self.observation(
                "1104051000000101", self._ago(0, 2), SCT, valueInteger=rng.randrange(0, 9)
            )
        if rng.random() < 0.15:
            answer = rng.choice(_ECG_ANSWERS)
            self.observation(
                "8601-7",
                self._ago(0, 2),
                valueCodeableConcept={"coding": [{"system": SCT, "code": answer}]},
            )

    def history(self) -> None:
        rng = self.rng
        for code in _KIDNEY:
            if rng.random() < 0.08:
                self.condition(code, self._ago(0, 900))
        if rng.random() < 0.2:
            self.condition(rng.choice(_SYMPTOMS), self._ago(0, 2))
        if rng.random() < 0.03:
            self.resources.append(
                {
                    "resourceType": "Procedure",
                    "id": self._next("proc"),
                    "status": "completed",
                    "code": {"coding": [{"system": SCT, "code": "302497006"}]},
                    "subject": {"reference": f"Patient/{self.id}"},
                    "performedDateTime": _time(self._ago(0, 120)),
                }
            )
        if rng.random() < 0.1:
            self.resources.append(
                {
                    "resourceType": "ServiceRequest",
                    "id": self._next("sr"),
                    "status": "active",
                    "intent": "order",
                    "code": {"coding": [{"system": LOINC, "code": "24362-6"}]},
                    "subject": {"reference": f"Patient/{self.id}"},
                    "authoredOn": _time(self._ago(0, 1)),
                }
            )

    def medicines(self) -> None:
        rng = self.rng
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            system, code = rng.choice(_MEDICINES)
            status = rng.choices(["active", "stopped", "on-hold"], weights=[7, 2, 1])[0]
            concept = {"coding": [{"system": system, "code": code}]}
            if rng.random() < 0.75:
                self.resources.append(
                    {
                        "resourceType": "MedicationRequest",
                        "id": self._next("mr"),
                        "status": status,
                        "intent": "order",
                        "medicationCodeableConcept": concept,
                        "subject": {"reference": f"Patient/{self.id}"},
                        "authoredOn": _time(self._ago(3, 700)),
                    }
                )
            else:
                self.resources.append(
                    {
                        "resourceType": "MedicationStatement",
                        "id": self._next("ms"),
                        "status": "active" if status == "on-hold" else status,
                        "medicationCodeableConcept": concept,
                        "subject": {"reference": f"Patient/{self.id}"},
                        "effectivePeriod": {"start": _time(self._ago(30, 1500))},
                        "dateAsserted": _time(self._ago(0, 600)),
                    }
                )

    def patient(self) -> dict[str, Any]:
        rng = self.rng
        year = rng.choices([rng.randrange(1926, 2008), rng.randrange(2009, 2020)], [19, 1])[0]
        return {
            "resourceType": "Patient",
            "id": self.id,
            "gender": rng.choice(["female", "male"]),
            "birthDate": f"{year}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
        }


def patient_resources(rng: random.Random, index: int) -> list[dict[str, Any]]:
    """One patient's resources, the Patient first."""
    maker = _Patient(rng, index)
    maker.potassium()
    maker.kidney()
    maker.vital_signs()
    maker.history()
    maker.medicines()
    for code in ("777-3", "6690-2", "2157-6"):
        if rng.random() < 0.1:
            unit = "U/L" if code == "2157-6" else "10*9/L"
            value = round(rng.uniform(50, 1500) if code == "2157-6" else rng.uniform(3, 600))
            maker.observation(
                code,
                AS_OF - timedelta(hours=rng.uniform(0, 48)),
                valueQuantity=_quantity(value, unit),
            )
    return [maker.patient(), *maker.resources]


def patient_of_size(size: int, seed: int = SEED) -> list[dict[str, Any]]:
    """One patient's resources: the Patient first, then exactly `size` others, drawn as a
    population patient's are, as many times as it takes (a long history)."""
    rng = random.Random(seed)
    maker = _Patient(rng, 0)
    makers = (maker.potassium, maker.kidney, maker.vital_signs, maker.history, maker.medicines)
    while len(maker.resources) < size:
        rng.choice(makers)()
    resources = maker.resources[:size]
    if resources and resources[-1]["resourceType"] == "Specimen":
        # cut off before the result that names it: draw a plain potassium result instead
        resources[-1] = maker.observation(
            "2823-3", AS_OF - timedelta(hours=2), valueQuantity=_quantity(5.1, "mmol/L")
        )
    return [maker.patient(), *resources]


def population_records(size: int, ruleset: Ruleset, seed: int = SEED) -> list[list[Record]]:
    """`patients(size)` read once into each patient's engine Records through fhir_adapters,
    in the population's order."""
    generated = list(patients(size, seed))
    batch = patient_records(bundle([r for resources in generated for r in resources]), ruleset)
    by_patient = {data.patient: list(data.records) for data in batch.patients}
    return [by_patient.get(f"Patient/{resources[0]['id']}", []) for resources in generated]


def patients(size: int, seed: int = SEED) -> Iterator[list[dict[str, Any]]]:
    rng = random.Random(seed)
    for index in range(size):
        yield patient_resources(rng, index)


def bundle(resources: list[dict[str, Any]]) -> str:
    """A collection Bundle of the given resources, as JSON."""
    entries = [
        {
            "fullUrl": f"https://example.org/fhir/{resource['resourceType']}/{resource['id']}",
            "resource": resource,
        }
        for resource in resources
    ]
    return json.dumps({"resourceType": "Bundle", "type": "collection", "entry": entries})
