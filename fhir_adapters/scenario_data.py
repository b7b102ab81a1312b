"""The `data:` and `patient:` of a scenario file turned into FHIR R4 resources.

Each data entry starts with its kind and becomes one resource of that type:

    observation: loinc#2823-3   value, coded, components, specimen, note, interpretation,
                                reference-low/-high, site, side, status, at (or at: {start, end})
    condition: sct#...          site, side, onset, abatement, clinical-status, verification
    medication-request: rxnorm#35296   status, intent, at (authoredOn), validity-end,
                                       expected-supply, or medication-reference instead of a code
    medication-statement: atc#C09AA05  status, at (effectivePeriod.start), end, asserted
    medication: dmd#318906001   id, ingredients (named by medication-reference)
    procedure: sct#...          status, at (performedDateTime) or period: {start, end}
    service-request: sct#...    status, intent, at (authoredOn)
    encounter: sct#...          (its type) service-type, status, at (period.start) or period

Every kind also takes `id`, `patient` (another patient's id) and `fhir` (elements added as
written). Statuses and intents default to the usual ones (final, active, order, completed,
finished). Codes are compact (`rxnorm#35296`), a list of codes is one CodeableConcept. Times are
absolute, or relative to the scenario's `now`: `-2 hours`, `-3 days`, `+20 days`, and
`-6 months` / `-1 year` on the calendar; `at` left out is now, `at: null` leaves it out. `side:`
(left, right or both) is the `site:`'s mCODE laterality qualifier. A key the kind does not take,
or a value it cannot hold, is reported through `fail` at its line; the reader never raises and
always returns resources of the right shape.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from engine import units
from engine.clock import Duration, DurationUnit
from engine.codes import DEFAULT_SYSTEMS, parse_code

Where = tuple[str | int, ...]

UCUM = "http://unitsofmeasure.org"
PRESENT = ("http://snomed.info/sct", "52101004", "Present")
ABSENT = ("http://snomed.info/sct", "2667000", "Absent")
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
ENCOUNTER_CLASS = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
# the prefixes a scenario may write beside the engine's own (these name the same URIs)
SYSTEMS: dict[str, str] = {
    "rxnorm": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "atc": "http://www.whocc.no/atc",
    "dmd": "https://dmd.nhs.uk",
    "v2-0493": "http://terminology.hl7.org/CodeSystem/v2-0493",
    **DEFAULT_SYSTEMS,
}

SNOMED = "http://snomed.info/sct"
LATERALITY = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-laterality-qualifier"
_LATERALITY = {
    "left": ("7771000", "Left"),
    "right": ("24028007", "Right"),
    "both": ("51440002", "Right and left"),
}
_COMMON = {"id", "patient", "fhir"}
KEYS: dict[str, set[str]] = {
    "observation": _COMMON
    | {
        "at",
        "value",
        "site",
        "side",
        "status",
        "interpretation",
        "reference-low",
        "reference-high",
        "component",
        "components",
        "coded",
        "specimen",
        "note",
    },
    "condition": _COMMON
    | {"site", "side", "onset", "abatement", "clinical-status", "verification"},
    "medication-request": _COMMON
    | {"status", "intent", "at", "validity-end", "expected-supply", "medication-reference"},
    "medication-statement": _COMMON | {"status", "at", "end", "asserted", "medication-reference"},
    "medication": {"id", "fhir", "ingredients"},
    "procedure": _COMMON | {"status", "at", "period"},
    "service-request": _COMMON | {"status", "intent", "at"},
    "encounter": _COMMON | {"status", "at", "period", "service-type"},
}
RESOURCE_TYPES = {
    "observation": "Observation",
    "condition": "Condition",
    "medication-request": "MedicationRequest",
    "medication-statement": "MedicationStatement",
    "medication": "Medication",
    "procedure": "Procedure",
    "service-request": "ServiceRequest",
    "encounter": "Encounter",
}
# the status each kind takes when none is written, and the statuses FHIR R4 allows
STATUSES: dict[str, tuple[str, ...]] = {
    "observation": (
        "final",
        "registered",
        "preliminary",
        "amended",
        "corrected",
        "cancelled",
        "entered-in-error",
        "unknown",
    ),
    "medication-request": (
        "active",
        "on-hold",
        "cancelled",
        "completed",
        "entered-in-error",
        "stopped",
        "draft",
        "unknown",
    ),
    "medication-statement": (
        "active",
        "completed",
        "entered-in-error",
        "intended",
        "stopped",
        "on-hold",
        "unknown",
        "not-taken",
    ),
    "procedure": (
        "completed",
        "preparation",
        "in-progress",
        "not-done",
        "on-hold",
        "stopped",
        "entered-in-error",
        "unknown",
    ),
    "service-request": (
        "active",
        "draft",
        "on-hold",
        "revoked",
        "completed",
        "entered-in-error",
        "unknown",
    ),
    "encounter": (
        "finished",
        "planned",
        "arrived",
        "triaged",
        "in-progress",
        "onleave",
        "cancelled",
        "entered-in-error",
        "unknown",
    ),
}
REQUEST_INTENTS = (
    "order",
    "proposal",
    "plan",
    "original-order",
    "reflex-order",
    "filler-order",
    "instance-order",
    "option",
)
SERVICE_INTENTS = (
    "order",
    "proposal",
    "plan",
    "directive",
    "original-order",
    "reflex-order",
    "filler-order",
    "instance-order",
    "option",
)
SEXES = ("male", "female", "other", "unknown")
_PARTIAL_DATE = re.compile(r"^\d{4}(-(0[1-9]|1[0-2])(-\d{2})?)?$")
_CALENDAR = re.compile(r"^\s*([-+]?\d+(?:\.\d*)?)\s*(months?|years?)\s*$")
_ID = {
    "observation": "o",
    "condition": "c",
    "medication-request": "mr",
    "medication-statement": "ms",
    "medication": "med",
    "procedure": "proc",
    "service-request": "sr",
    "encounter": "enc",
    "specimen": "spec",
}


class Fail(Protocol):
    def __call__(self, path: Where, message: str, *, at_key: bool = False) -> None: ...


class DataReader:
    """Reads a scenario's entries into resources, reporting each mistake through `fail`."""

    def __init__(self, fail: Fail, now: datetime | None, patient: str) -> None:
        self.fail = fail
        self.now = now
        self.patient_id = patient
        self.counts = dict.fromkeys(_ID, 0)

    # -- the patient --------------------------------------------------------------------------

    def patient(self, raw: Any, path: Where) -> dict[str, Any]:
        """The scenario's Patient from `patient: {birth-date, sex}` (None: a bare Patient)."""
        resource: dict[str, Any] = {"resourceType": "Patient", "id": self.patient_id}
        if raw is None or isinstance(raw, str):
            return resource
        if not isinstance(raw, dict):
            self.fail(path, "patient: is an id, or a mapping with birth-date and sex")
            return resource
        for key in raw:
            if key not in {"id", "birth-date", "sex"}:
                self.fail((*path, key), f"unknown key {key!r} in patient", at_key=True)
        if "birth-date" in raw:
            birth = _partial_date(raw["birth-date"])
            if birth is None:
                self.fail(
                    (*path, "birth-date"),
                    "birth-date: is a date, 1956-12-07, or partial, 1956-12 or 1956; "
                    f"got {raw['birth-date']!r}",
                )
            else:
                resource["birthDate"] = birth
        if "sex" in raw:
            if raw["sex"] in SEXES:
                resource["gender"] = raw["sex"]
            else:
                self.fail((*path, "sex"), f"sex: is one of {', '.join(SEXES)}; got {raw['sex']!r}")
        return resource

    # -- data entries -------------------------------------------------------------------------

    def entry(self, entry: Any, path: Where) -> list[dict[str, Any]]:
        """The resources one data entry stands for (an Observation's Specimen first)."""
        kinds = [k for k in KEYS if isinstance(entry, dict) and k in entry]
        if len(kinds) != 1:
            message = (
                "each data entry is a mapping starting with one of: " + ", ".join(KEYS) + ":"
                if not kinds
                else f"a data entry is one resource; it names {' and '.join(kinds)}"
            )
            self.fail(path, message)
            return [self._bare()]
        assert isinstance(entry, dict)
        kind = kinds[0]
        for key in entry:
            if key != kind and key not in KEYS[kind]:
                self.fail((*path, key), f"unknown key {key!r} in a {kind} entry", at_key=True)
        resource: dict[str, Any] = {
            "resourceType": RESOURCE_TYPES[kind],
            "id": self._id(entry, kind),
        }
        if kind != "medication":
            owner = entry.get("patient", self.patient_id)
            resource["subject"] = {"reference": f"Patient/{owner}"}
        builder: Callable[[dict[str, Any], dict[str, Any], Where], list[dict[str, Any]]] = getattr(
            self, "_" + kind.replace("-", "_")
        )
        before = builder(resource, entry, path)
        extra = entry.get("fhir")
        if isinstance(extra, dict):
            resource.update(extra)
        elif extra is not None:
            self.fail((*path, "fhir"), "fhir: is a mapping of FHIR elements to add")
        return [*before, resource]

    def _bare(self) -> dict[str, Any]:
        self.counts["observation"] += 1
        return {
            "resourceType": "Observation",
            "id": f"o{self.counts['observation']}",
            "status": "final",
            "code": {"coding": [{"system": "invalid", "code": "invalid"}]},
            "subject": {"reference": f"Patient/{self.patient_id}"},
        }

    def _id(self, entry: dict[str, Any], kind: str) -> str:
        self.counts[kind] += 1
        return str(entry.get("id", f"{_ID[kind]}{self.counts[kind]}"))

    def _observation(
        self, resource: dict[str, Any], entry: dict[str, Any], path: Where
    ) -> list[dict[str, Any]]:
        resource["status"] = self._status(entry, "observation", path)
        resource["code"] = self._concept(entry["observation"], (*path, "observation"))
        if "site" in entry:
            resource["bodySite"] = self._body_site(entry, path)
        elif "side" in entry:
            self.fail((*path, "side"), "a side needs its site: give site: too")
        self._effective(resource, entry.get("at", "0 days"), (*path, "at"))
        if "value" in entry and "coded" in entry:
            self.fail((*path, "coded"), "an observation has one value: value: or coded:")
        if "value" in entry:
            resource.update(self._value(entry["value"], (*path, "value")))
        if "coded" in entry:
            resource["valueCodeableConcept"] = self._concept(entry["coded"], (*path, "coded"))
        if "interpretation" in entry:
            resource["interpretation"] = self._interpretations(
                entry["interpretation"], (*path, "interpretation")
            )
        reference_range: dict[str, Any] = {}
        for key, end in (("reference-low", "low"), ("reference-high", "high")):
            if key in entry:
                reference_range[end] = self._quantity(entry[key], (*path, key))
        if reference_range:
            resource["referenceRange"] = [reference_range]
        components = []
        if "component" in entry:  # a cramp's duration, as the calf scenarios write it
            components.append(
                {
                    "code": {"coding": [{"system": UCUM, "code": "min", "display": "duration"}]},
                    "valueQuantity": self._quantity(entry["component"], (*path, "component")),
                }
            )
        if "components" in entry:
            components.extend(self._components(entry["components"], (*path, "components")))
        if components:
            resource["component"] = components
        if "note" in entry:
            resource["note"] = self._notes(entry["note"], (*path, "note"))
        if "specimen" in entry:
            return self._specimen(resource, entry["specimen"], (*path, "specimen"))
        return []

    def _components(self, raw: Any, path: Where) -> list[dict[str, Any]]:
        if not isinstance(raw, dict) or not raw:
            self.fail(
                path, "components: maps each code to its value, one a line: loinc#8480-6: 84 mm[Hg]"
            )
            return []
        components = []
        for code, value in raw.items():
            where = (*path, str(code))
            component: dict[str, Any] = {"code": self._concept(code, where)}
            if isinstance(value, str) and "#" in value:
                component["valueCodeableConcept"] = self._concept(value, where)
            else:
                component.update(self._value(value, where))
            components.append(component)
        return components

    def _specimen(self, resource: dict[str, Any], raw: Any, path: Where) -> list[dict[str, Any]]:
        if not isinstance(raw, dict):
            self.fail(path, "specimen: is a mapping, e.g. {condition: v2-0493#HEM}")
            return []
        for key in raw:
            if key not in {"id", "condition", "type", "contained"}:
                self.fail((*path, key), f"unknown key {key!r} in a specimen", at_key=True)
        self.counts["specimen"] += 1
        specimen: dict[str, Any] = {
            "resourceType": "Specimen",
            "id": str(raw.get("id", f"spec{self.counts['specimen']}")),
        }
        if "type" in raw:
            specimen["type"] = self._concept(raw["type"], (*path, "type"))
        if "condition" in raw:
            codes = raw["condition"] if isinstance(raw["condition"], list) else [raw["condition"]]
            specimen["condition"] = [
                self._concept(
                    c,
                    (*path, "condition", i)
                    if isinstance(raw["condition"], list)
                    else (*path, "condition"),
                )
                for i, c in enumerate(codes)
            ]
        contained = raw.get("contained", False)
        if not isinstance(contained, bool):
            self.fail((*path, "contained"), "contained: is true or false")
            contained = False
        if contained:
            resource["contained"] = [specimen]
            resource["specimen"] = {"reference": f"#{specimen['id']}"}
            return []
        specimen["subject"] = resource["subject"]
        resource["specimen"] = {"reference": f"Specimen/{specimen['id']}"}
        return [specimen]

    def _condition(
        self, resource: dict[str, Any], entry: dict[str, Any], path: Where
    ) -> list[dict[str, Any]]:
        resource["code"] = self._concept(entry["condition"], (*path, "condition"))
        if "site" in entry:
            resource["bodySite"] = [self._body_site(entry, path)]
        elif "side" in entry:
            self.fail((*path, "side"), "a side needs its site: give site: too")
        resource["clinicalStatus"] = _coded(
            "http://terminology.hl7.org/CodeSystem/condition-clinical",
            entry.get("clinical-status", "active"),
        )
        resource["verificationStatus"] = _coded(
            "http://terminology.hl7.org/CodeSystem/condition-ver-status",
            entry.get("verification", "confirmed"),
        )
        for key, element in (("onset", "onsetDateTime"), ("abatement", "abatementDateTime")):
            if key in entry:
                stamp = self.stamp(entry[key], (*path, key))
                if stamp:
                    resource[element] = stamp
        return []

    def _medication(
        self, resource: dict[str, Any], entry: dict[str, Any], path: Where
    ) -> list[dict[str, Any]]:
        if entry["medication"] is not None:
            resource["code"] = self._concept(entry["medication"], (*path, "medication"))
        ingredients = entry.get("ingredients", [])
        if not isinstance(ingredients, list):
            self.fail((*path, "ingredients"), "ingredients: is a list of codes")
            ingredients = []
        resource["ingredient"] = [
            {"itemCodeableConcept": self._concept(c, (*path, "ingredients", i))}
            for i, c in enumerate(ingredients)
        ]
        if not resource["ingredient"]:
            del resource["ingredient"]
        return []

    def _medicine(
        self, resource: dict[str, Any], entry: dict[str, Any], kind: str, path: Where
    ) -> None:
        if "medication-reference" in entry:
            if entry[kind] is not None:
                self.fail(
                    (*path, "medication-reference"),
                    f"a {kind} names its medicine by a code or by medication-reference:, not both",
                )
            # an id names a `medication:` entry; `#x`, `Medication/x` or a URL is kept as written,
            # so a scenario can show what an unresolvable or contained reference does
            target = str(entry["medication-reference"])
            written = target.startswith("#") or "/" in target or ":" in target
            resource["medicationReference"] = {
                "reference": target if written else f"Medication/{target}"
            }
        else:
            resource["medicationCodeableConcept"] = self._concept(entry[kind], (*path, kind))

    def _medication_request(
        self, resource: dict[str, Any], entry: dict[str, Any], path: Where
    ) -> list[dict[str, Any]]:
        resource["status"] = self._status(entry, "medication-request", path)
        resource["intent"] = self._choice(entry, "intent", REQUEST_INTENTS, path)
        self._medicine(resource, entry, "medication-request", path)
        self._moment_into(resource, "authoredOn", entry, "at", path, default="0 days")
        dispense: dict[str, Any] = {}
        if "validity-end" in entry:
            end = self.stamp(entry["validity-end"], (*path, "validity-end"))
            if end:
                dispense["validityPeriod"] = {"end": end}
        if "expected-supply" in entry:
            supply = self._duration(entry["expected-supply"], (*path, "expected-supply"))
            if supply:
                dispense["expectedSupplyDuration"] = supply
        if dispense:
            resource["dispenseRequest"] = dispense
        return []

    def _medication_statement(
        self, resource: dict[str, Any], entry: dict[str, Any], path: Where
    ) -> list[dict[str, Any]]:
        resource["status"] = self._status(entry, "medication-statement", path)
        self._medicine(resource, entry, "medication-statement", path)
        period: dict[str, Any] = {}
        self._moment_into(period, "start", entry, "at", path, default="0 days")
        self._moment_into(period, "end", entry, "end", path)
        if period:
            resource["effectivePeriod"] = period
        self._moment_into(resource, "dateAsserted", entry, "asserted", path)
        return []

    def _procedure(
        self, resource: dict[str, Any], entry: dict[str, Any], path: Where
    ) -> list[dict[str, Any]]:
        resource["status"] = self._status(entry, "procedure", path)
        resource["code"] = self._concept(entry["procedure"], (*path, "procedure"))
        self._dated(resource, entry, path, "performedDateTime", "performedPeriod")
        return []

    def _service_request(
        self, resource: dict[str, Any], entry: dict[str, Any], path: Where
    ) -> list[dict[str, Any]]:
        resource["status"] = self._status(entry, "service-request", path)
        resource["intent"] = self._choice(entry, "intent", SERVICE_INTENTS, path)
        resource["code"] = self._concept(entry["service-request"], (*path, "service-request"))
        self._moment_into(resource, "authoredOn", entry, "at", path, default="0 days")
        return []

    def _encounter(
        self, resource: dict[str, Any], entry: dict[str, Any], path: Where
    ) -> list[dict[str, Any]]:
        resource["status"] = self._status(entry, "encounter", path)
        resource["class"] = {"system": ENCOUNTER_CLASS, "code": "AMB", "display": "ambulatory"}
        if entry["encounter"] is not None:
            resource["type"] = [self._concept(entry["encounter"], (*path, "encounter"))]
        if "service-type" in entry:
            resource["serviceType"] = self._concept(entry["service-type"], (*path, "service-type"))
        # an encounter is a period: `at` is when it started, a `period` says when it ended too
        self._dated(resource, entry, path, None, "period")
        return []

    # -- values -------------------------------------------------------------------------------

    def _status(self, entry: dict[str, Any], kind: str, path: Where) -> str:
        return self._choice(entry, "status", STATUSES[kind], path)

    def _choice(
        self, entry: dict[str, Any], key: str, allowed: tuple[str, ...], path: Where
    ) -> str:
        value = entry.get(key, allowed[0])
        if value not in allowed:
            self.fail((*path, key), f"{key}: is one of {', '.join(allowed)}; got {value!r}")
            return allowed[0]
        return str(value)

    def _dated(
        self,
        resource: dict[str, Any],
        entry: dict[str, Any],
        path: Where,
        instant: str | None,
        period: str,
    ) -> None:
        if "at" in entry and "period" in entry:
            self.fail((*path, "period"), "a date is at: or period:, not both")
        if "period" in entry:
            raw = entry["period"]
            if not isinstance(raw, dict) or not raw or set(raw) - {"start", "end"}:
                self.fail((*path, "period"), "period: is a mapping with start: and end:")
                return
            written: dict[str, Any] = {}
            for key in ("start", "end"):
                self._moment_into(written, key, raw, key, (*path, "period"))
            resource[period] = written
            return
        if instant is None:
            start: dict[str, Any] = {}
            self._moment_into(start, "start", entry, "at", path, default="0 days")
            if start:
                resource[period] = start
        else:
            self._moment_into(resource, instant, entry, "at", path, default="0 days")

    def _effective(self, resource: dict[str, Any], at: Any, path: Where) -> None:
        """An observation's time: `at: -2 hours`, or `at: {start: ..., end: ...}`."""
        if at is None:
            return
        if isinstance(at, dict):
            period: dict[str, Any] = {}
            self._moment_into(period, "start", at, "start", path)
            self._moment_into(period, "end", at, "end", path)
            resource["effectivePeriod"] = period
            return
        stamp = self.stamp(at, path)
        if stamp:
            resource["effectiveDateTime"] = stamp

    def _moment_into(
        self,
        target: dict[str, Any],
        element: str,
        entry: dict[str, Any],
        key: str,
        path: Where,
        default: str | None = None,
    ) -> None:
        """Set `target[element]` from `entry[key]`; `key: null` leaves it out on purpose."""
        value = entry.get(key, default)
        if value is None:
            return
        stamp = self.stamp(value, (*path, key))
        if stamp:
            target[element] = stamp

    def _body_site(self, entry: dict[str, Any], path: Where) -> dict[str, Any]:
        """`site:` as a bodySite; `side:` (left, right, both) as its mCODE laterality."""
        concept = self._concept(entry["site"], (*path, "site"))
        if "side" in entry:
            side = entry["side"]
            if not isinstance(side, str) or side not in _LATERALITY:
                self.fail((*path, "side"), f"side is left, right or both, not {side!r}")
            else:
                code, display = _LATERALITY[side]
                value = {"coding": [{"system": SNOMED, "code": code, "display": display}]}
                concept["extension"] = [{"url": LATERALITY, "valueCodeableConcept": value}]
        return concept

    def _concept(self, raw: Any, path: Where) -> dict[str, Any]:
        """A CodeableConcept of one code, or of a list of codes (codings of one concept)."""
        codes = raw if isinstance(raw, list) else [raw]
        if not codes:
            self.fail(path, "a list of codes needs at least one code")
        where = [(*path, i) for i in range(len(codes))] if isinstance(raw, list) else [path]
        return {"coding": [self._coding(c, w) for c, w in zip(codes, where, strict=True)]}

    def _coding(self, text: Any, path: Where) -> dict[str, str]:
        try:
            code = parse_code(str(text), SYSTEMS)
        except ValueError as error:
            self.fail(path, str(error))
            return {"system": "invalid", "code": str(text)}
        return {"system": code.system, "code": code.code}

    def _interpretations(self, raw: Any, path: Where) -> list[dict[str, Any]]:
        codes = raw if isinstance(raw, list) else [raw]
        concepts = []
        for i, code in enumerate(codes):
            where = (*path, i) if isinstance(raw, list) else path
            if isinstance(code, str) and "#" in code:
                concepts.append({"coding": [self._coding(code, where)]})
            else:  # a bare code is one of FHIR's own interpretations: H, L, NEG, ...
                concepts.append(_coded(INTERPRETATION, code))
        return concepts

    def _notes(self, raw: Any, path: Where) -> list[dict[str, str]]:
        notes = raw if isinstance(raw, list) else [raw]
        if not notes or not all(isinstance(n, str) and n.strip() for n in notes):
            self.fail(path, "note: is a text, or a list of texts")
            return []
        return [{"text": n} for n in notes]

    def _value(self, value: Any, path: Where) -> dict[str, Any]:
        if isinstance(value, bool):
            return {"valueBoolean": value}
        if isinstance(value, int):
            return {"valueInteger": value}
        if value in ("present", "absent"):
            system, code, display = PRESENT if value == "present" else ABSENT
            return {
                "valueCodeableConcept": {
                    "coding": [{"system": system, "code": code, "display": display}]
                }
            }
        return {"valueQuantity": self._quantity(value, path)}

    def _quantity(self, value: Any, path: Where) -> dict[str, Any]:
        if isinstance(value, dict):
            return value  # written out as FHIR, e.g. a unit without a UCUM code
        if isinstance(value, int | float) and not isinstance(value, bool):
            return {"value": value}
        number, _, unit = str(value).strip().partition(" ")
        try:
            amount = float(number)
        except ValueError:
            self.fail(path, f"{value!r} is not a number followed by a unit")
            return {}
        unit = unit.strip()
        quantity: dict[str, Any] = {"value": amount, "unit": unit} if unit else {"value": amount}
        if unit:
            # a unit Vigil knows gets its UCUM code, as real systems send it; any other is sent
            # as written, so scenarios can show what happens to units nobody can convert
            code = units.lookup(unit).code if units.is_known(unit) else unit
            quantity.update({"system": UCUM, "code": code})
        return quantity

    def _duration(self, value: Any, path: Where) -> dict[str, Any] | None:
        try:
            amount, code = units.parse_quantity(str(value))
            if not units.is_duration(code):
                raise units.UnitError(code)
        except units.UnitError:
            self.fail(path, f"{value!r} is not a duration such as '28 days'")
            return None
        return {"value": amount, "unit": str(value).split()[-1], "system": UCUM, "code": code}

    # -- times --------------------------------------------------------------------------------

    def stamp(self, value: Any, path: Where) -> str | None:
        """A FHIR dateTime: a date written as a date stays date-only (2026-03-01, or partial:
        2026-03, 2026), so a scenario can send what a system sends; any other time is an instant."""
        written = _partial_date(value)
        if written is not None:
            return written
        moment = self.moment(value, path)
        return moment.isoformat() if moment else None

    def moment(self, value: Any, path: Where) -> datetime | None:
        """An absolute date or time, or one relative to `now`: `-2 hours`, `+20 days`,
        `-6 months` (months and years on the calendar: -1 month on 31 March is 28 February)."""
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        if isinstance(value, str) and self.now is not None:
            calendar = _CALENDAR.match(value)
            if calendar:
                amount = float(calendar.group(1))
                if amount != int(amount):
                    self.fail(path, f"months and years are whole numbers; got {value!r}")
                    return None
                unit: DurationUnit = "months" if calendar.group(2).startswith("month") else "years"
                # `before` a negative duration is after: `+2 months` is 2 months after now
                return Duration(-int(amount), unit).before(self.now)
            try:
                amount, code = units.parse_quantity(value)
                if units.is_duration(code):
                    return self.now + timedelta(seconds=units.convert(amount, code, "s"))
            except units.UnitError:
                pass
        if isinstance(value, str):
            try:
                moment = datetime.fromisoformat(value)
                return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            except ValueError:
                pass
        what = "now" if path == ("now",) else "a time"
        self.fail(path, f"{what} must be a date or time, or relative like '-3 days'; got {value!r}")
        return None


def _partial_date(value: Any) -> str | None:
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    text = str(value) if isinstance(value, int | str) and not isinstance(value, bool) else ""
    if not _PARTIAL_DATE.match(text):
        return None
    try:  # 1956-02-30 has the shape of a date but is none
        return date.fromisoformat(text).isoformat() if len(text) == 10 else text
    except ValueError:
        return None


def _coded(system: str, code: Any) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": str(code)}]}
