"""MedicationRequests and MedicationStatements as records of the ruleset's medication concepts.

The medicine's codings are those of `medicationCodeableConcept`, or of the Medication its
`medicationReference` names (contained `#id`, or resolved within the input by the caller):
`Medication.code` and every `ingredient[].itemCodeableConcept`. Each coding stands for itself
(an ATC code upper-cased) and, when `Ruleset.products` lists it (a dm+d code under either the
dm+d or the SNOMED URI), for the ingredient or class codes the table gives. A record is made for
every medication concept a mapped code belongs to (its codes, value-set codes and ATC prefixes),
never for a concept of another kind: `code` is the drug group key (the numerically lowest
matched RxNorm ingredient, else the lowest matched ATC code, else the lowest matched code),
`product` the sorted product codings the table lists (None without one), `time` the start
(authoredOn; effectivePeriod.start, else effectiveDateTime), `end` the supply or period end
(validityPeriod.end, else authoredOn + expectedSupplyDuration; effectivePeriod.end), `status`
the resource's (a request of intent proposal or option: "proposal", never active), `asserted`
a statement's last assertion (dateAsserted, else its start; None for a request).

Records entered in error are dropped without a warning, also for the therapy start. An
unresolvable reference, and an active record none of whose codings maps to a code Vigil knows
(a medication concept's, a product table's, or any ATC code), are warnings naming the resource.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from fhir.resources.R4B.codeableconcept import CodeableConcept
from fhir.resources.R4B.duration import Duration as FhirDuration
from fhir.resources.R4B.medication import Medication
from fhir.resources.R4B.medicationrequest import MedicationRequest
from fhir.resources.R4B.medicationstatement import MedicationStatement
from fhir.resources.R4B.resource import Resource

from engine.clock import Duration
from engine.codes import DEFAULT_SYSTEMS, Code
from engine.evaluation import DataWarning
from engine.model import Concept, Ruleset
from engine.records import Record

from .fhir_times import moment
from .moments import instant, is_date_only

__all__ = ["ATC", "DMD", "RXNORM", "medication_records", "medication_reference"]

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
DMD = "https://dmd.nhs.uk"
SNOMED = "http://snomed.info/sct"
# dm+d codes are SNOMED identifiers: a product table may list one under either URI
_DMD_ALIASES = {DMD: SNOMED, SNOMED: DMD}
_NOT_ORDERED = frozenset({"proposal", "option"})
_FIXED_UNITS = {"s": 1, "min": 60, "h": 3600, "d": 86400, "wk": 7 * 86400}
_CALENDAR_UNITS = {"mo": 1, "a": 12}
# a Duration's human unit, read when it has no UCUM code
_UNIT_WORDS = {
    **{word: "h" for word in ("hour", "hours")},
    **{word: "d" for word in ("day", "days")},
    **{word: "wk" for word in ("week", "weeks")},
    **{word: "mo" for word in ("month", "months")},
    **{word: "a" for word in ("year", "years")},
}

Medicine = MedicationRequest | MedicationStatement
Records = tuple[list[Record], list[DataWarning]]
Key = tuple[str, str]


def medication_reference(data: Mapping[str, object]) -> str | None:
    """The reference a raw MedicationRequest/Statement's `medicationReference` writes, unless
    it is to a contained resource (`#id`)."""
    reference = data.get("medicationReference")
    text = reference.get("reference") if isinstance(reference, Mapping) else None
    return text if isinstance(text, str) and text and not text.startswith("#") else None


def medication_records(
    model: Medicine,
    source: str,
    ruleset: Ruleset,
    referenced: Mapping[str, Resource] | None = None,
) -> Records:
    """The records one MedicationRequest or MedicationStatement gives; `referenced` holds the
    resources its references name, resolved within the input, by the reference as written."""
    warnings: list[DataWarning] = []

    def warn(message: str) -> None:
        warnings.append(DataWarning(message, source))

    status = model.status or "unknown"
    if status == "entered-in-error":
        return [], warnings
    if isinstance(model, MedicationRequest) and model.intent in _NOT_ORDERED:
        status = "proposal"
    codings = _codings(model, referenced or {}, warn)
    if codings is None:
        return [], warnings
    index = _index(ruleset)
    products = _products(codings, ruleset)
    mapped = _mapped(codings, ruleset)
    matches = index.matches(mapped)
    if status == "active" and not matches and not products and not _any_atc(mapped):
        warn(f"medication {_described(codings)} could not be read: no code Vigil knows")
        return [], warnings
    if not matches:
        return [], warnings
    time, date_only = _start(model, warn)
    end = _end(model, warn)
    asserted = _asserted(model, time, warn) if isinstance(model, MedicationStatement) else None
    product = ",".join(sorted(_compact(key) for key in products)) or None
    records = [
        Record(
            concept=concept.name,
            source=source,
            time=time,
            end=end,
            date_only=date_only,
            code=_group_key(codes, products),
            status=status,
            product=product,
            asserted=asserted,
            display=_name(model, referenced or {}),
        )
        for concept, codes in matches
    ]
    return records, warnings


def _name(model: Medicine, referenced: Mapping[str, Resource]) -> str | None:
    """The medicine's name as the record writes it, for a card to show (never matched on): the
    text of its medication, else a coding's display, else the same of the Medication named."""
    concept = model.medicationCodeableConcept
    if concept is None:
        reference = model.medicationReference.reference if model.medicationReference else None
        medication = _medication(model, reference, referenced)
        concept = medication.code if medication is not None else None
    if concept is None:
        return None
    if concept.text:
        return concept.text
    return next((c.display for c in concept.coding or [] if c.display), None)


# The medicine's codings


def _codings(
    model: Medicine, referenced: Mapping[str, Resource], warn: Callable[[str], None]
) -> list[Key] | None:
    """Every coding of the medicine, as (system, code); None (warned) when the reference
    cannot be resolved."""
    if model.medicationCodeableConcept is not None:
        return _keys([model.medicationCodeableConcept])
    reference = model.medicationReference.reference if model.medicationReference else None
    medication = _medication(model, reference, referenced)
    if medication is None:
        shown = repr(reference) if reference else "without a reference"
        warn(f"medicationReference {shown} names no Medication that can be read: left out")
        return None
    concepts = [medication.code] if medication.code is not None else []
    concepts += [
        ingredient.itemCodeableConcept
        for ingredient in medication.ingredient or []
        if ingredient.itemCodeableConcept is not None
    ]
    return _keys(concepts)


def _medication(
    model: Medicine, reference: str | None, referenced: Mapping[str, Resource]
) -> Medication | None:
    if not reference:
        return None
    if reference.startswith("#"):
        wanted = reference[1:]
        for resource in model.contained or []:
            if isinstance(resource, Medication) and resource.id == wanted:
                return resource
        return None
    found = referenced.get(reference)
    return found if isinstance(found, Medication) else None


def _keys(concepts: Iterable[CodeableConcept]) -> list[Key]:
    keys: list[Key] = []
    for concept in concepts:
        for coding in concept.coding or []:
            if coding.system and coding.code:
                code = coding.code.upper() if coding.system == ATC else coding.code
                if (coding.system, code) not in keys:
                    keys.append((coding.system, code))
    return keys


def _products(codings: Sequence[Key], ruleset: Ruleset) -> list[Key]:
    """The codings the ruleset's product table lists, as the table writes them."""
    found: list[Key] = []
    for system, code in codings:
        for candidate in _spellings(system, code):
            if candidate in ruleset.products and candidate not in found:
                found.append(candidate)
                break
    return found


def _mapped(codings: Sequence[Key], ruleset: Ruleset) -> list[Key]:
    """The codings and the codes the product table maps them to."""
    mapped = list(codings)
    for key in _products(codings, ruleset):
        for target in ruleset.products[key]:
            code = target.code.upper() if target.system == ATC else target.code
            if (target.system, code) not in mapped:
                mapped.append((target.system, code))
    return mapped


def _spellings(system: str, code: str) -> list[Key]:
    alias = _DMD_ALIASES.get(system)
    return [(system, code)] + ([(alias, code)] if alias else [])


def _any_atc(codes: Iterable[Key]) -> bool:
    return any(system == ATC for system, _ in codes)


def _described(codings: Sequence[Key]) -> str:
    """The medicine by its codes, never its display text (which may be anything)."""
    if not codings:
        return "without a coding"
    return "coded " + ", ".join(_compact(key) for key in codings)


_SYSTEMS = {
    **DEFAULT_SYSTEMS,
    "rxnorm": RXNORM,
    "atc": ATC,
    "dmd": DMD,
}


def _compact(key: Key) -> str:
    return Code(*key).compact(_SYSTEMS)


def _group_key(matched: Sequence[Key], products: Sequence[Key]) -> str:
    """The drug group: the numerically lowest RxNorm ingredient, else the lowest ATC code,
    else the lowest code matched; a product the table maps (a concept's value set may list
    one) stands for its ingredients, not for a group of its own."""
    codes = [key for key in matched if key not in products] or list(matched)
    rxnorm = [code for system, code in codes if system == RXNORM and code.isdigit()]
    if rxnorm:
        return _compact((RXNORM, min(rxnorm, key=int)))
    atc = [code for system, code in codes if system == ATC]
    if atc:
        return _compact((ATC, min(atc)))
    return min(_compact(key) for key in codes)


# Which medication concepts a code belongs to


class _Index:
    """The ruleset's medication concepts by exact code and by ATC-style prefix."""

    def __init__(self, ruleset: Ruleset) -> None:
        self.concepts = [c for c in ruleset.concepts.values() if c.kind == "medication"]
        self.exact: dict[Key, list[Concept]] = {}
        self.prefixes: dict[str, list[tuple[str, Concept]]] = {}
        for concept in self.concepts:
            for code in concept.codes:
                if code.code.endswith("*"):
                    self._prefix(code, concept)
                else:
                    self.exact.setdefault(_normal(code), []).append(concept)
            for code in concept.prefixes:
                self._prefix(code, concept)

    def _prefix(self, code: Code, concept: Concept) -> None:
        system, stem = _normal(Code(code.system, code.code.removesuffix("*")))
        self.prefixes.setdefault(system, []).append((stem, concept))

    def matches(self, codes: Sequence[Key]) -> list[tuple[Concept, list[Key]]]:
        """Each concept some code belongs to, in the ruleset's order, with those codes."""
        found: dict[str, list[Key]] = {}
        for key in (spelling for code in codes for spelling in _spellings(*code)):
            hits = list(self.exact.get(key, ()))
            hits += [c for stem, c in self.prefixes.get(key[0], ()) if key[1].startswith(stem)]
            for concept in hits:
                matched = found.setdefault(concept.name, [])
                if key not in matched:
                    matched.append(key)
        return [(c, found[c.name]) for c in self.concepts if c.name in found]


def _normal(code: Code) -> Key:
    return (code.system, code.code.upper() if code.system == ATC else code.code)


_INDEXES: dict[int, _Index] = {}


def _index(ruleset: Ruleset) -> _Index:
    """The ruleset's index, built once per ruleset object and let go with it."""
    index = _INDEXES.get(id(ruleset))
    if index is None:
        index = _INDEXES[id(ruleset)] = _Index(ruleset)
        weakref.finalize(ruleset, _INDEXES.pop, id(ruleset), None)
    return index


# Times


def _start(model: Medicine, warn: Callable[[str], None]) -> tuple[datetime | None, bool]:
    if isinstance(model, MedicationRequest):
        value: object = model.authoredOn
        where = "authoredOn"
    elif model.effectivePeriod is not None and model.effectivePeriod.start is not None:
        value, where = model.effectivePeriod.start, "effectivePeriod.start"
    else:
        value, where = model.effectiveDateTime, "effectiveDateTime"
    if value is None:
        wanted = where if where == "authoredOn" else "effectivePeriod.start or effectiveDateTime"
        warn(f"no {wanted}: start unknown")
        return None, False
    return moment(value, where, warn), is_date_only(value)


def _end(model: Medicine, warn: Callable[[str], None]) -> datetime | None:
    if isinstance(model, MedicationStatement):
        period = model.effectivePeriod
        if period is None or period.end is None:
            return None
        return moment(period.end, "effectivePeriod.end", warn, last=True)
    supply = model.dispenseRequest
    if supply is None:
        return None
    if supply.validityPeriod is not None and supply.validityPeriod.end is not None:
        return moment(supply.validityPeriod.end, "validityPeriod.end", warn, last=True)
    if supply.expectedSupplyDuration is not None and model.authoredOn is not None:
        start = instant(model.authoredOn)
        if start is None:
            return None
        return _after(start, supply.expectedSupplyDuration, warn)
    return None


def _after(start: datetime, duration: FhirDuration, warn: Callable[[str], None]) -> datetime | None:
    amount = duration.value
    unit = duration.code or _UNIT_WORDS.get((duration.unit or "").strip().lower(), duration.unit)
    if amount is None or unit is None or amount < 0:
        warn("expectedSupplyDuration without a length: supply end unknown")
        return None
    try:
        if unit in _FIXED_UNITS:
            return start + timedelta(seconds=float(Decimal(amount) * _FIXED_UNITS[unit]))
        if unit in _CALENDAR_UNITS and Decimal(amount) == int(amount):
            return Duration(int(amount) * _CALENDAR_UNITS[unit], "months").after(start)
    except (OverflowError, ValueError):
        warn("expectedSupplyDuration ends past the calendar: supply end unknown")
        return None
    warn(f"expectedSupplyDuration in {unit!r} is not read: supply end unknown")
    return None


def _asserted(
    model: MedicationStatement, start: datetime | None, warn: Callable[[str], None]
) -> datetime | None:
    if model.dateAsserted is not None:
        return moment(model.dateAsserted, "dateAsserted", warn)
    return start
