"""Validating the resources a ruleset can use with the `fhir.resources.R4B` models.

R4B models read R4 JSON (the default R5 models reject it). Validation is the dominant cost of
reading FHIR, so only resources the ruleset could use are validated: Observations, Conditions,
Procedures, Encounters and ServiceRequests with a coding the ruleset maps to a concept (an
Observation's component codes too, and the codes findings are `answers_of`; an Encounter's
type and serviceType), checked on the raw dict first (`concept_codes`); and MedicationRequests
and MedicationStatements when the ruleset has a medication concept (their codes may be those of
a Medication they reference, or map through the product table), with the Medications they
reference. Every resource rules read is validated; a Patient only when the ruleset has a
demographic concept, since otherwise rules read nothing from it but its id (see `patients`). A
Specimen is validated when a result that references it is read (`specimens`).

Two faults are repaired, with a warning, because real R4 data carries them and the rest of the
resource is sound: an element R4 does not define (STU3's `Observation.context`) is dropped, and
a dateTime without a timezone is read as UTC. Any other fault leaves the resource out. A coding
whose code is a JSON number, not a string, matches nothing and is reported. An Observation or
Condition whose JSON repeats a key (`jsontext.RepeatedKeys`) is left out whatever its codes say
(the code itself may be the key repeated), with a warning naming the key; so is such a Patient.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, TypeAlias

from fhir.resources.R4B.condition import Condition
from fhir.resources.R4B.encounter import Encounter
from fhir.resources.R4B.medication import Medication
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.observation import Observation
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.procedure import Procedure
from fhir.resources.R4B.servicerequest import ServiceRequest
from fhir.resources.R4B.specimen import Specimen
from pydantic import ValidationError

from engine.evaluation import DataWarning
from engine.model import Concept, Ruleset

from .concept_codes import EVENT_RESOURCES, answered_by, concepts_for
from .elements import ValidatedElements
from .jsontext import RepeatedKeys
from .reading import RawResource

__all__ = [
    "Model",
    "Validated",
    "coded_concepts",
    "is_used",
    "number_code_warnings",
    "unread_text_warnings",
    "unread_warnings",
    "validate",
]

Model: TypeAlias = (
    Observation
    | Condition
    | Patient
    | Procedure
    | Encounter
    | ServiceRequest
    | Specimen
    | MedicationRequest
    | MedicationStatement
    | Medication
)

_MODELS: dict[str, type[Model]] = {
    "Observation": Observation,
    "Condition": Condition,
    "Patient": Patient,
    "Procedure": Procedure,
    "Encounter": Encounter,
    "ServiceRequest": ServiceRequest,
    "Specimen": Specimen,  # read through the references of results (`specimens`)
    "MedicationRequest": MedicationRequest,
    "MedicationStatement": MedicationStatement,
    "Medication": Medication,  # validated when a request or statement references it
}
_MEDICINES = frozenset({"MedicationRequest", "MedicationStatement"})
_CODED = frozenset({"Observation", "Condition", *EVENT_RESOURCES})
# where a resource type's codes are: an Encounter's type and service, an Observation's
# component codes beside its own
_CODE_ELEMENTS: dict[str, tuple[str, ...]] = {"Encounter": ("type", "serviceType")}
_NAIVE_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$")
_REPAIR_ROUNDS = 3
_SHOWN_ERRORS = 2

Path_ = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Validated:
    """A resource that passed validation, with the raw form it was read from."""

    raw: RawResource
    model: Model

    @property
    def reference(self) -> str:
        return self.raw.reference


def coded_concepts(data: Mapping[str, Any], ruleset: Ruleset) -> list[Concept]:
    """The concepts a raw resource's codes mean (an Observation's components' too, and the
    findings its coded value may answer), distinct, in coding order; never a medication
    concept, which only MedicationRequests and MedicationStatements are read for (`is_used`)."""
    kind = data.get("resourceType")
    if not isinstance(kind, str):
        return []
    codings = [
        (coding.get("system"), coding.get("code"))
        for coding in _codings(data, _CODE_ELEMENTS.get(kind, ("code",)))
    ]
    found = [m.concept for m in concepts_for(ruleset, kind, codings)]
    if kind == "Observation":
        found.extend(answered_by(ruleset, codings))
        components = data.get("component")
        for component in components if isinstance(components, list) else ():
            if isinstance(component, Mapping):
                pairs = [(c.get("system"), c.get("code")) for c in _codings(component)]
                found.extend(m.concept for m in concepts_for(ruleset, kind, pairs))
    return list(dict.fromkeys(found))


def unread_warnings(raw: RawResource, ruleset: Ruleset | None = None) -> list[DataWarning]:
    """Why a resource `is_used` turned away is left out, when it would otherwise be skipped
    unseen: a Patient whose JSON repeats a key (which patient it is cannot be told),
    `number_code_warnings`, or `unread_text_warnings`."""
    if raw.type == "Patient" and isinstance(raw.data, RepeatedKeys):
        return [_repeated_keys(raw.data, raw.reference)]
    text = unread_text_warnings(raw, ruleset) if ruleset is not None else []
    return number_code_warnings(raw) + text


def unread_text_warnings(raw: RawResource, ruleset: Ruleset) -> list[DataWarning]:
    """A warning for an Observation whose code matches no concept but whose `code.text` or a
    coding's `display` contains a word of the ruleset's `unread_text_warnings` (ignoring case).
    The text is never matched on: it only says that a result was not read."""
    if raw.type != "Observation" or isinstance(raw.data, RepeatedKeys):
        return []
    code = raw.data.get("code")
    texts = [code.get("text")] if isinstance(code, Mapping) else []
    texts += [coding.get("display") for coding in _codings(raw.data)]
    written = " ".join(t for t in texts if isinstance(t, str)).casefold()
    return [
        DataWarning(
            f"code not recognised but its text says {word}; not read — check the result",
            raw.reference,
        )
        for word in ruleset.unread_text_warnings
        if word.casefold() in written
    ][:1]


def _repeated_keys(data: RepeatedKeys, source: str) -> DataWarning:
    repeated = "; ".join(data.problems)
    return DataWarning(f"{repeated}: which value is meant cannot be told; left out", source)


def number_code_warnings(raw: RawResource) -> list[DataWarning]:
    """A warning for each `code` coding whose code is a JSON number. FHIR codes are strings, so
    such a coding matches nothing; a resource the ruleset uses through another coding is left
    out by validation, but one that has no other would otherwise be skipped unseen."""
    if raw.type not in _CODED:
        return []
    return [
        DataWarning(f"coding code {value} is a number, not a string: not matched", raw.reference)
        for value in (coding.get("code") for coding in _codings(raw.data))
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]


def _codings(
    data: Mapping[str, Any], elements: tuple[str, ...] = ("code",)
) -> list[Mapping[str, Any]]:
    """The codings of the CodeableConcepts (or lists of them) named `elements`."""
    found: list[Mapping[str, Any]] = []
    for element in elements:
        value = data.get(element)
        for code in value if isinstance(value, list) else [value]:
            codings = code.get("coding") if isinstance(code, Mapping) else None
            if isinstance(codings, list):
                found.extend(coding for coding in codings if isinstance(coding, Mapping))
    return found


def is_used(raw: RawResource, ruleset: Ruleset) -> bool:
    """Whether the ruleset could use this resource: a Patient, a coded resource it maps, or
    a medicine when it has a medication concept (its codes may be those of a Medication it
    references, or map through the product table)."""
    kind = raw.type
    if kind == "Patient":
        return not isinstance(raw.data, RepeatedKeys)  # see `unread_warnings`
    if kind in _MEDICINES:
        return any(c.kind == "medication" for c in ruleset.concepts.values())
    if kind in _CODED and isinstance(raw.data, RepeatedKeys):
        return True  # what it codes cannot be told: `validate` says why it is left out
    return kind in _CODED and bool(coded_concepts(raw.data, ruleset))


def validate(
    raw: RawResource, elements: ValidatedElements | None = None
) -> tuple[Validated | None, list[DataWarning]]:
    """Validate one resource; None (with a warning saying why) when it cannot be used.
    `elements` spares validating again nested elements seen before with the same content."""
    source = raw.reference
    model_class = _MODELS.get(raw.type)
    if model_class is None:
        return None, [DataWarning(f"{raw.type} resources are not read", source)]
    if isinstance(raw.data, RepeatedKeys):
        return None, [_repeated_keys(raw.data, source)]
    data, warnings = _drop_unknown_top_level(raw.data, model_class, source)
    if elements is not None:
        try:
            prepared = elements.prepare(model_class, data)
            # The model's own constructor: model_validate on fhir.resources' models runs the
            # constructor inside a second validation pass, and 13% slower
            return Validated(raw, model_class(**prepared)), warnings
        except (ValueError, TypeError, RecursionError):
            pass  # validated again below, whole, to say where the fault is and repair it
    for _ in range(_REPAIR_ROUNDS):
        try:
            return Validated(raw, model_class.model_validate(data)), warnings
        except ValidationError as error:
            repaired = _repair(data, error, source)
        except (ValueError, TypeError, RecursionError) as error:
            return None, [*warnings, _invalid(source, [str(error)])]
        if isinstance(repaired, list):
            return None, [*warnings, _invalid(source, repaired)]
        data, fixed = repaired
        warnings.extend(fixed)
    return None, [*warnings, DataWarning("could not be repaired into valid FHIR R4", source)]


@cache
def _elements(model_class: type[Model]) -> frozenset[str]:
    fields = model_class.model_fields
    return frozenset({"resourceType", *fields, *(f.alias for f in fields.values() if f.alias)})


def _drop_unknown_top_level(
    data: Mapping[str, Any], model_class: type[Model], source: str
) -> tuple[Mapping[str, Any], list[DataWarning]]:
    """Drop top-level elements R4 does not define before validating, saving a failed pass."""
    unknown = [key for key in data if key not in _elements(model_class)]
    if not unknown:
        return data, []
    kept = {key: value for key, value in data.items() if key not in unknown}
    return kept, [_unknown_element(key, source) for key in unknown]


def _unknown_element(where: str, source: str) -> DataWarning:
    return DataWarning(f"element {where!r} is not defined in FHIR R4; ignored", source)


def _invalid(source: str, problems: list[str]) -> DataWarning:
    shown = "; ".join(problems[:_SHOWN_ERRORS])
    more = len(problems) - _SHOWN_ERRORS
    tail = f" (and {more} more)" if more > 0 else ""
    return DataWarning(f"not valid FHIR R4, left out: {shown}{tail}", source)


def _repair(
    data: Mapping[str, Any], error: ValidationError, source: str
) -> tuple[Mapping[str, Any], list[DataWarning]] | list[str]:
    """The data with every repairable fault fixed, or the problems that cannot be repaired."""
    fixes: list[tuple[Path_, Any]] = []  # (path, new value); _DROP removes the element
    warnings: list[DataWarning] = []
    fatal: list[str] = []
    for detail in error.errors():
        path: Path_ = tuple(detail["loc"])
        where = _dotted(path)
        value = _get(data, path)
        if detail["type"] == "extra_forbidden":
            fixes.append((path, _DROP))
            warnings.append(_unknown_element(where, source))
        elif isinstance(value, str) and _NAIVE_DATETIME.match(value):
            fixed = value + ("Z" if value.count(":") == 2 else ":00Z")
            fixes.append((path, fixed))
            warnings.append(DataWarning(f"{where} {value!r} has no timezone; read as UTC", source))
        else:
            fatal.append(f"{where}: {_one_line(detail['msg'])}")
    if fatal:
        return fatal
    result = data
    for path, new in fixes:
        result = _replaced(result, path, new)
    return result, warnings


class _Drop:
    pass


_DROP = _Drop()


def _dotted(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "(resource)"


def _one_line(message: str) -> str:
    return " ".join(message.removeprefix("Value error, ").split())


def _get(data: object, path: Path_) -> object:
    for part in path:
        if isinstance(part, int) and isinstance(data, list) and -len(data) <= part < len(data):
            data = data[part]
        elif isinstance(part, str) and isinstance(data, Mapping):
            data = data.get(part)
        else:
            return None
    return data


def _replaced(data: Any, path: Path_, new: object) -> Any:
    """A copy of `data` with the element at `path` replaced (or dropped); copies only the path."""
    if not path:
        return data
    head, rest = path[0], path[1:]
    if isinstance(data, Mapping) and isinstance(head, str) and head in data:
        copy = dict(data)
        if rest:
            copy[head] = _replaced(data[head], rest, new)
        elif isinstance(new, _Drop):
            del copy[head]
        else:
            copy[head] = new
        return copy
    if isinstance(data, list) and isinstance(head, int) and 0 <= head < len(data):
        items = list(data)
        items[head] = _replaced(data[head], rest, new) if rest else new
        return items
    return data
