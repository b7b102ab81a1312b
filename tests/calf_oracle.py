"""calf-fasciculation 2.1.0 (clinical-spec-calf-2.md) as plain Python over FHIR JSON.

The oracle that property tests compare the engine with: it reads one patient's FHIR resources
(dicts, Medications among them) and returns the escalation and the fired rules of the spec's §7,
following §4 to §7 row by row. It shares no code with `engine` or `fhir_adapters`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

SCT = "http://snomed.info/sct"
LOINC = "http://loinc.org"
VIGIL = "https://vigil-cds.org/fhir/CodeSystem/vigil"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
LATERALITY = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-laterality-qualifier"

LEVELS = ("none", "self-care", "primary-care", "neurology", "urgent")
DAY = timedelta(days=1)
LAB_LOOKBACK = 30 * DAY
FINDING_LOOKBACK = 90 * DAY
RED_FLAG_LOOKBACK = 365 * DAY
ACUTE_WINDOW = 14 * DAY
RECENT_CRAMP = 7 * DAY
RECHECK_WINDOW = 365 * DAY
NECK_SURGERY_WINDOW = 30 * DAY
NEUROLOGY_REVIEW_WINDOW = 365 * DAY
PREGNANCY_WINDOW = 300 * DAY


def _s(code: str) -> tuple[str, str]:
    return (SCT, code)


def _v(code: str) -> tuple[str, str]:
    return (VIGIL, code)


def _l(code: str) -> tuple[str, str]:
    return (LOINC, code)


FINDINGS: dict[str, set[tuple[str, str]]] = {
    "fasciculation": {_s("82470000")},
    "cramp": {_s("55300003"), _s("449918009"), _s("102549009")},
    "tetany": {_s("10629009"), _v("tetany")},
    "carpopedal": {_v("carpopedal-spasm")},
    "perioral": {_s("1141007"), _v("perioral-paraesthesia")},
    "seizure": {_s("91175000")},
    "laryngospasm": {_v("laryngospasm")},
    "weakness": {_s("26544005"), _s("713514005"), _s("249939004")},
    "atrophy": {_s("88092000")},
    "dysarthria": {_s("8011004")},
    "dysphagia": {_s("40739000")},
    "dyspnoea-at-rest": {_s("161941007")},
    "orthopnoea": {_s("62744007")},
    "leg-swelling": {_s("449754000"), _s("102572006"), _v("calf-swelling")},
}
SWELLING = _s("65124004")  # leg swelling only with a lower-limb body site
SIGNS = ("tetany", "carpopedal", "perioral", "seizure", "laryngospasm")
RED_FLAG_FINDINGS = {"weakness", "atrophy", "dysarthria", "dysphagia"}
MRC = _v("mrc-grade")

LABS: dict[str, set[tuple[str, str]]] = {
    "potassium": {_l("2823-3"), _l("6298-4"), _l("39789-3"), _l("32713-0")},
    "magnesium": {_l("19123-9"), _l("2601-3")},
    "adjusted": {_l("29265-6")},
    "total": {_l("17861-6"), _l("2000-8")},
    "ionised": {_l("1994-3"), _l("1995-0")},
    "ck": {_l("2157-6")},
    "gad7": {_l("70274-6")},
}
PREGNANCY_STATUS = _l("82810-3")
PREGNANT_ANSWERS = {_s("77386006"), _l("LA15173-0")}
NOT_PREGNANT = _s("60001007")
PREGNANCY_CONDITIONS = {_s("77386006"), _s("72892002")}
MND = _s("86044005")
NECK_SURGERY = {_s("13619001"), _v("thyroidectomy"), _v("parathyroidectomy")}
NEUROLOGY_REFERRAL = {_s("308474002"), _s("183521007")}
NEUROLOGY_SETTING = _s("394591006")
STATIN_ATC_PREFIXES = ("C10AA", "C10B")
STATIN_ATC_EXACT = {"A10BH51", "A10BH52"}
STATIN_RXNORM = {"6472", "36567", "41127", "42463", "83367", "301542", "861634"}

CONVERSIONS: dict[str, dict[str, Decimal]] = {
    "potassium": {"mmol/l": Decimal(1), "meq/l": Decimal(1)},
    "magnesium": {"mmol/l": Decimal(1), "mg/dl": Decimal("0.41144"), "meq/l": Decimal("0.5")},
    "calcium": {"mmol/l": Decimal(1), "mg/dl": Decimal("0.24951"), "meq/l": Decimal("0.5")},
    "ck": {"u/l": Decimal(1), "iu/l": Decimal(1), "ukat/l": Decimal(60)},
}
MINUTES = {"min": Decimal(1), "h": Decimal(60), "s": Decimal(1) / Decimal(60)}
COUNTED = {"final", "amended", "corrected"}

# region classes and pre-coordinated sides (§5.7)
REGIONS: dict[str, tuple[str, str | None]] = {
    **{c: ("head", None) for c in ("89545001", "80243003", "21974007", "69536005")},
    "22943007": ("trunk", None),
    **{c: ("upper", None) for c in ("53120007", "40983000", "14975008", "85562004")},
    "80768000": ("upper", "left"),
    "6921000": ("upper", "right"),
    **{c: ("lower", None) for c in ("61685007", "68367000", "30021000", "53840002", "56459004")},
    "32153003": ("lower", "left"),
    "62175007": ("lower", "right"),
}
SIDES = {"7771000": {"left"}, "24028007": {"right"}, "51440002": {"left", "right"}}

RULES: dict[str, str] = {
    "severe-hypokalemia": "urgent",
    "hypokalemia-with-weakness": "urgent",
    "severe-hypomagnesemia": "urgent",
    "symptomatic-hypomagnesemia": "urgent",
    "severe-hypocalcemia": "urgent",
    "symptomatic-hypocalcemia": "urgent",
    "severe-hyperkalemia": "urgent",
    "severe-hypercalcemia": "urgent",
    "breathlessness-at-rest-or-lying-flat": "urgent",
    "leg-swelling-with-breathlessness": "urgent",
    "calf-swelling": "urgent",
    "tetany-without-calcium": "urgent",
    "hypocalcemia-risk-without-calcium": "urgent",
    "twitching-with-examined-weakness": "neurology",
    "twitching-with-atrophy": "neurology",
    "twitching-with-bulbar-sign": "neurology",
    "low-potassium": "primary-care",
    "high-potassium": "primary-care",
    "low-magnesium": "primary-care",
    "high-magnesium": "primary-care",
    "low-calcium": "primary-care",
    "high-calcium": "primary-care",
    "abnormal-electrolyte-not-rechecked": "primary-care",
    "twitching-with-unconfirmed-weakness": "primary-care",
    "widespread-twitching": "primary-care",
    "chronic-twitching": "primary-care",
    "prolonged-cramp": "primary-care",
    "tetany-with-normal-calcium": "primary-care",
    "possible-statin-myopathy": "primary-care",
    "anxiety-screen-positive": "none",
    "weakness-explained-by-electrolyte": "none",
    "statin-cramp-check-ck": "none",
    "pregnancy-leg-oedema": "none",
    "neurology-reviewed-recently": "none",
    "benign-twitching": "self-care",
}
NEUROLOGY_RULES = ("twitching-with-examined-weakness", "twitching-with-atrophy",
                   "twitching-with-bulbar-sign")  # fmt: skip


@dataclass(frozen=True)
class Answer:
    escalation: str
    rules: frozenset[str]


@dataclass(frozen=True)
class Finding:
    """One present or recorded-absent finding record."""

    kind: str
    present: bool
    time: datetime | None  # None: an undated Condition
    condition: bool  # a counting Condition (present now whatever its date)
    examined: bool  # §5.6: exam category, or a confirmed / unstated Condition
    sites: frozenset[tuple[str, str | None]]  # (region class, side)
    sited: bool  # names at least one body site of the table
    minutes: Decimal | None = None  # a cramp's duration
    site_given: bool = False  # has a bodySite at all, in the table or not (§5.6 supersession)


@dataclass(frozen=True)
class Result:
    """One electrolyte, CK or score result, converted and rounded (§5.4)."""

    form: str
    value: Decimal
    time: datetime
    status: str
    low: Decimal | None = None
    high: Decimal | None = None


# --- reading ---------------------------------------------------------------------------------


def moment(text: object) -> datetime | None:
    """A FHIR date or dateTime; date-only (and partial) values are 00:00Z of their first day."""
    if not isinstance(text, str):
        return None
    match = re.fullmatch(r"(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?", text)
    if match:
        year, month, day = match.groups()
        return datetime(int(year), int(month or 1), int(day or 1), tzinfo=UTC)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def codings(concept: object) -> list[tuple[str, str]]:
    if not isinstance(concept, Mapping):
        return []
    found = concept.get("coding")
    return [
        (str(c.get("system")), str(c.get("code")))
        for c in (found if isinstance(found, list) else [])
        if isinstance(c, Mapping)
    ]


def code_set(resource: Mapping[str, Any]) -> set[tuple[str, str]]:
    return set(codings(resource.get("code")))


def observation_time(resource: Mapping[str, Any]) -> datetime | None:
    period = resource.get("effectivePeriod")
    for value in (
        resource.get("effectiveDateTime"),
        resource.get("effectiveInstant"),
        period.get("start") if isinstance(period, Mapping) else None,
        resource.get("issued"),
    ):
        if (when := moment(value)) is not None:
            return when
    return None


def condition_time(resource: Mapping[str, Any]) -> datetime | None:
    period = resource.get("onsetPeriod")
    for value in (
        resource.get("onsetDateTime"),
        period.get("start") if isinstance(period, Mapping) else None,
        resource.get("recordedDate"),
    ):
        if (when := moment(value)) is not None:
            return when
    return None


def condition_counts(resource: Mapping[str, Any]) -> bool:
    verification = {c for _, c in codings(resource.get("verificationStatus"))}
    if verification & {"refuted", "entered-in-error"}:
        return False
    clinical = {c for _, c in codings(resource.get("clinicalStatus"))}
    return not clinical or bool(clinical & {"active", "recurrence", "relapse"})


def body_sites(resource: Mapping[str, Any]) -> tuple[frozenset[tuple[str, str | None]], bool]:
    """The (class, side) regions of a record's bodySite(s) and whether any site is in the table."""
    raw = resource.get("bodySite")
    concepts = raw if isinstance(raw, list) else [raw] if raw else []
    regions: set[tuple[str, str | None]] = set()
    for concept in concepts:
        extension_sides: set[str] = set()
        for extension in concept.get("extension", []) if isinstance(concept, Mapping) else []:
            if isinstance(extension, Mapping) and extension.get("url") == LATERALITY:
                for system, code in codings(extension.get("valueCodeableConcept")):
                    if system == SCT:
                        extension_sides |= SIDES.get(code, set())
        for system, code in codings(concept):
            if system != SCT or code not in REGIONS:
                continue
            cls, side = REGIONS[code]
            if side is not None:
                regions.add((cls, side))
            elif cls in ("upper", "lower") and extension_sides:
                regions.update((cls, s) for s in extension_sides)
            else:
                regions.add((cls, None))
    return frozenset(regions), bool(regions)


def region_count(records: Iterable[Finding]) -> int:
    seen: set[tuple[str, str | None]] = set()
    for record in records:
        seen |= record.sites
    count = sum(1 for cls in ("head", "trunk") if any(c == cls for c, _ in seen))
    for cls in ("upper", "lower"):
        sides = {s for c, s in seen if c == cls and s is not None}
        count += len(sides) or (1 if any(c == cls for c, _ in seen) else 0)
    return count


def normal_unit(quantity: Mapping[str, Any]) -> str | None:
    unit = quantity.get("code") or quantity.get("unit")
    if not isinstance(unit, str):
        return None
    unit = unit.strip().lower().replace("µ", "u").replace("μ", "u")
    return re.sub(r"[\s{}_]", "", unit)


def convert(
    quantity: object, table: Mapping[str, Decimal], unit: str | None = None
) -> Decimal | None:
    if not isinstance(quantity, Mapping) or not isinstance(quantity.get("value"), int | float):
        return None
    factor = table.get(unit or normal_unit(quantity) or "")
    if factor is None:
        return None
    value = Decimal(str(quantity["value"])) * factor
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def finding_value(resource: Mapping[str, Any], kind: str) -> tuple[bool | None, Decimal | None]:
    """(present?, cramp minutes): True present, False recorded absent, None neither (§5.5)."""
    interpretation = {c for _, c in codings_list(resource.get("interpretation"))}
    if resource.get("valueBoolean") is False or "NEG" in interpretation:
        return False, None
    answer = set(codings(resource.get("valueCodeableConcept")))
    if _s("2667000") in answer:
        return False, None
    minutes = duration(resource) if kind == "cramp" else None
    if resource.get("valueBoolean") is True or _s("52101004") in answer:
        return True, minutes
    if kind == "cramp" and minutes is not None:
        return True, minutes
    if not any(key.startswith("value") for key in resource):
        return True, minutes
    return None, None


def codings_list(value: object) -> list[tuple[str, str]]:
    return [
        pair for concept in (value if isinstance(value, list) else []) for pair in codings(concept)
    ]


def duration(resource: Mapping[str, Any]) -> Decimal | None:
    quantity = resource.get("valueQuantity")
    minutes = convert(quantity, MINUTES) if isinstance(quantity, Mapping) else None
    if minutes is not None:
        return minutes
    for component in resource.get("component", []) or []:
        if isinstance(component, Mapping):
            minutes = convert(component.get("valueQuantity"), MINUTES)
            if minutes is not None:
                return minutes
    return None


def medication_codes(
    resource: Mapping[str, Any], medications: Mapping[str, Any]
) -> set[tuple[str, str]]:
    found = set(codings(resource.get("medicationCodeableConcept")))
    reference = resource.get("medicationReference")
    target = reference.get("reference") if isinstance(reference, Mapping) else None
    medication = None
    if isinstance(target, str) and target.startswith("#"):
        for contained in resource.get("contained", []) or []:
            if isinstance(contained, Mapping) and contained.get("id") == target[1:]:
                medication = contained
    elif isinstance(target, str):
        medication = medications.get(target)
    if isinstance(medication, Mapping):
        found |= set(codings(medication.get("code")))
        for ingredient in medication.get("ingredient", []) or []:
            if isinstance(ingredient, Mapping):
                found |= set(codings(ingredient.get("itemCodeableConcept")))
    return found


def medicine_active(resource: Mapping[str, Any], as_of: datetime) -> bool:
    if resource.get("status") != "active":
        return False
    if resource.get("resourceType") == "MedicationRequest":
        return resource.get("intent") not in ("proposal", "option")
    period = resource.get("effectivePeriod")
    end = moment(period.get("end")) if isinstance(period, Mapping) else None
    return end is None or end.date() >= as_of.date()


def is_statin(codes: set[tuple[str, str]]) -> bool:
    for system, code in codes:
        if system == ATC and isinstance(code, str):
            upper = code.upper()
            if upper in STATIN_ATC_EXACT or upper.startswith(STATIN_ATC_PREFIXES):
                return True
        if system == RXNORM and code in STATIN_RXNORM:
            return True
    return False


# --- the patient's facts ---------------------------------------------------------------------


class Chart:
    """One patient's resources read as §4 and §5 say."""

    def __init__(self, resources: Iterable[Mapping[str, Any]], as_of: datetime) -> None:
        self.as_of = as_of
        self.findings: list[Finding] = []
        self.results: list[Result] = []
        self.mrc: list[tuple[Decimal, datetime, Finding]] = []
        self.surgeries: list[datetime] = []
        self.reviews: list[datetime] = []
        self.encounters: list[datetime] = []
        self.mnd = False
        self.statin = False
        self.pregnancy_status: list[tuple[datetime, bool]] = []
        self.pregnancy_conditions: list[datetime | None] = []
        resources = list(resources)
        medications = {
            f"Medication/{r.get('id')}": r
            for r in resources
            if r.get("resourceType") == "Medication"
        }
        for resource in resources:
            kind = resource.get("resourceType")
            if kind == "Observation":
                self._observation(resource)
            elif kind == "Condition":
                self._condition(resource)
            elif kind == "Procedure":
                self._procedure(resource)
            elif kind == "ServiceRequest":
                self._service_request(resource)
            elif kind == "Encounter":
                self._encounter(resource)
            elif kind in ("MedicationRequest", "MedicationStatement"):
                codes = medication_codes(resource, medications)
                self.statin |= medicine_active(resource, as_of) and is_statin(codes)

    def _future(self, when: datetime | None) -> bool:
        return when is not None and when > self.as_of

    def _observation(self, resource: Mapping[str, Any]) -> None:
        codes, status = code_set(resource), resource.get("status")
        when = observation_time(resource)
        if when is None or self._future(when):
            return
        if status not in COUNTED and status != "preliminary":
            return
        if MRC in codes:
            number = self._number(resource)
            if number is not None:
                sites, sited = body_sites(resource)
                given = bool(resource.get("bodySite"))
                record = Finding(
                    "weakness", number <= 4, when, False, True, sites, sited, site_given=given
                )
                self.mrc.append((number, when, record))
            return
        if PREGNANCY_STATUS in codes:
            answer = set(codings(resource.get("valueCodeableConcept")))
            if status in COUNTED and answer & PREGNANT_ANSWERS:
                self.pregnancy_status.append((when, True))
            elif status in COUNTED and NOT_PREGNANT in answer:
                self.pregnancy_status.append((when, False))
            return
        for form, lab_codes in LABS.items():
            if codes & lab_codes:
                self._result(resource, form, when, status)
                return
        self._finding(resource, codes, when, condition=False)

    @staticmethod
    def _number(resource: Mapping[str, Any]) -> Decimal | None:
        if isinstance(resource.get("valueInteger"), int):
            return Decimal(resource["valueInteger"])
        quantity = resource.get("valueQuantity")
        if isinstance(quantity, Mapping) and isinstance(quantity.get("value"), int | float):
            return Decimal(str(quantity["value"]))
        return None

    def _result(self, resource: Mapping[str, Any], form: str, when: datetime, status: str) -> None:
        if form == "gad7":
            number = self._number(resource)
            if number is not None:
                self.results.append(Result(form, number, when, status))
            return
        if form == "ck" and status not in COUNTED:
            return
        table = CONVERSIONS["calcium" if form in ("adjusted", "total", "ionised") else form]
        quantity = resource.get("valueQuantity")
        if not isinstance(quantity, Mapping) or quantity.get("comparator"):
            return
        value = convert(quantity, table)
        if value is None:
            return
        low = high = None
        for reference in resource.get("referenceRange", []) or []:
            if isinstance(reference, Mapping):
                for key in ("low", "high"):
                    bound = reference.get(key)
                    if isinstance(bound, Mapping):
                        unit = (
                            normal_unit(bound)
                            if (bound.get("code") or bound.get("unit"))
                            else normal_unit(quantity)
                        )
                        converted = convert(bound, table, unit)
                        if key == "low" and low is None:
                            low = converted
                        if key == "high" and high is None:
                            high = converted
        self.results.append(Result(form, value, when, status, low, high))

    def _finding(
        self,
        resource: Mapping[str, Any],
        codes: set[tuple[str, str]],
        when: datetime | None,
        *,
        condition: bool,
    ) -> None:
        sites, sited = body_sites(resource)
        given = bool(resource.get("bodySite"))
        kinds = [kind for kind, kind_codes in FINDINGS.items() if codes & kind_codes]
        if SWELLING in codes and any(cls == "lower" for cls, _ in sites):
            kinds.append("leg-swelling")
        tongue = any(
            pair == _s("21974007") for c in _list(resource.get("bodySite")) for pair in codings(c)
        )
        if "fasciculation" in kinds and tongue:
            kinds.append("tongue-fasciculation")
        for kind in dict.fromkeys(kinds):
            if condition:
                verification = {c for _, c in codings(resource.get("verificationStatus"))}
                examined = not verification or "confirmed" in verification
                self.findings.append(
                    Finding(kind, True, when, True, examined, sites, sited, site_given=given)
                )
                continue
            present, minutes = finding_value(resource, kind)
            if present is None:
                continue
            categories = {c for _, c in codings_list(resource.get("category"))}
            record = Finding(
                kind, present, when, False, "exam" in categories, sites, sited, minutes, given
            )
            self.findings.append(record)

    def _condition(self, resource: Mapping[str, Any]) -> None:
        when = condition_time(resource)
        if self._future(when) or not condition_counts(resource):
            return
        codes = code_set(resource)
        if MND in codes:
            self.mnd = True
        if codes & PREGNANCY_CONDITIONS:
            self.pregnancy_conditions.append(when)
        self._finding(resource, codes, when, condition=True)

    def _procedure(self, resource: Mapping[str, Any]) -> None:
        if resource.get("status") != "completed":
            return
        period = resource.get("performedPeriod")
        when = moment(resource.get("performedDateTime")) or (
            moment(period.get("start")) if isinstance(period, Mapping) else None
        )
        if when is None or self._future(when):
            return
        codes = code_set(resource)
        if codes & NECK_SURGERY:
            self.surgeries.append(when)
        if codes & NEUROLOGY_REFERRAL:
            self.reviews.append(when)

    def _service_request(self, resource: Mapping[str, Any]) -> None:
        if resource.get("status") not in ("active", "on-hold", "completed"):
            return
        if (
            resource.get("intent") in ("proposal", "option")
            or not code_set(resource) & NEUROLOGY_REFERRAL
        ):
            return
        period = resource.get("occurrencePeriod")
        when = (
            moment(resource.get("authoredOn"))
            or moment(resource.get("occurrenceDateTime"))
            or (moment(period.get("start")) if isinstance(period, Mapping) else None)
        )
        if when is not None and not self._future(when):
            self.reviews.append(when)

    def _encounter(self, resource: Mapping[str, Any]) -> None:
        if resource.get("status") not in (
            "finished",
            "in-progress",
            "arrived",
            "triaged",
            "onleave",
        ):
            return
        codes = set(codings(resource.get("serviceType"))) | set(codings_list(resource.get("type")))
        period = resource.get("period")
        when = moment(period.get("start")) if isinstance(period, Mapping) else None
        if NEUROLOGY_SETTING in codes and when is not None and not self._future(when):
            self.encounters.append(when)
            self.reviews.append(when)

    # --- windows -----------------------------------------------------------------------------

    def within(self, when: datetime | None, span: timedelta) -> bool:
        return when is not None and self.as_of - span <= when <= self.as_of

    def lookback(self, kind: str) -> timedelta:
        return (
            RED_FLAG_LOOKBACK
            if kind in RED_FLAG_FINDINGS | {"tongue-fasciculation"}
            else FINDING_LOOKBACK
        )

    def present(self, kind: str) -> list[Finding]:
        """Present records that count: Observations within the kind's lookback, Conditions."""
        return [
            f
            for f in self.findings
            if f.kind == kind
            and f.present
            and (f.condition or self.within(f.time, self.lookback(kind)))
        ]

    def absent(self, kind: str) -> list[Finding]:
        return [
            f
            for f in self.findings
            if f.kind == kind and not f.present and self.within(f.time, self.lookback(kind))
        ]

    def recorded_within(self, kind: str, span: timedelta) -> list[Finding]:
        return [f for f in self.present(kind) if self.within(f.time, span)]

    def counted(self, form: str, span: timedelta = LAB_LOOKBACK) -> list[Result]:
        return [
            r
            for r in self.results
            if r.form == form and r.status in COUNTED and self.within(r.time, span)
        ]

    def current(self, form: str) -> list[Result]:
        results = self.counted(form)
        latest = max((r.time for r in results), default=None)
        return [r for r in results if r.time == latest]

    def candidates(self, forms: tuple[str, ...], current: list[Result]) -> list[Result]:
        newest = max((r.time for r in current), default=None)
        preliminary = [
            r
            for r in self.results
            if r.form in forms and r.status == "preliminary" and self.within(r.time, LAB_LOOKBACK)
        ]
        # preliminary results tied at the latest time are all candidates, as current ones are
        latest = max((r.time for r in preliminary), default=None)
        if latest is not None and (newest is None or latest > newest):
            return [*current, *(r for r in preliminary if r.time == latest)]
        return current


# --- limits (§5.8.3) -------------------------------------------------------------------------

D = Decimal


def low(r: Result) -> bool:
    fixed = {"potassium": D("3.5"), "magnesium": D("0.70"), "adjusted": D("2.2"), "total": D("2.2"),
             "ionised": D("1.15")}[r.form]  # fmt: skip
    return r.value < fixed or (r.low is not None and r.value < r.low)


def high(r: Result) -> bool:
    if r.form == "potassium":
        return r.value >= D("5.5") or (r.high is not None and r.value > r.high)
    if r.form == "magnesium":
        return r.value > D("1.00") or (r.high is not None and r.value > r.high)
    if r.form in ("adjusted", "total"):
        return r.value >= D("2.6") or (r.high is not None and r.value > r.high)
    return r.value > D("1.33") or (r.high is not None and r.value > r.high)


def severe_low(r: Result) -> bool:
    limit = {"potassium": D("2.5"), "magnesium": D("0.40"), "adjusted": D("1.9"), "total": D("1.9"),
             "ionised": D("1.00")}[r.form]  # fmt: skip
    return r.value < limit


def symptomatic_band(r: Result) -> bool:
    if r.form == "potassium":
        return r.value < D("3.0")
    if r.form == "magnesium":
        return r.value < D("0.50")
    return low(r)


def explaining_band(r: Result) -> bool:
    limit = {"potassium": D("3.0"), "magnesium": D("0.50"), "adjusted": D("2.0"), "total": D("2.0"),
             "ionised": D("1.00")}[r.form]  # fmt: skip
    return r.value < limit


# --- the rules (§7) --------------------------------------------------------------------------


def evaluate(resources: Iterable[Mapping[str, Any]], as_of: datetime) -> Answer:
    chart = Chart(resources, as_of)
    twitch = chart.present("fasciculation")
    cramp = chart.present("cramp")
    tetany = chart.present("tetany") + chart.present("carpopedal")
    if not (twitch or cramp or tetany):
        return Answer("none", frozenset())
    twitch_or_cramp = bool(twitch or cramp)
    fired: set[str] = set()

    # weakness (§5.6)
    weakness = chart.present("weakness")
    mrc_weak = [
        rec for n, when, rec in chart.mrc if n <= 4 and chart.within(when, RED_FLAG_LOOKBACK)
    ]
    mrc_normal = [
        rec for n, when, rec in chart.mrc if n == 5 and chart.within(when, RED_FLAG_LOOKBACK)
    ]
    examined = [f for f in weakness if f.examined] + mrc_weak
    examined_absent = [f for f in chart.absent("weakness") if f.examined] + mrc_normal

    def superseded(reported: Finding) -> bool:
        if reported.time is None:
            return False
        for absent in examined_absent:
            if absent.time is None or absent.time < reported.time:
                continue
            # "has no bodySite" (§5.6): a site outside the table of §5.7 is still a site
            if not absent.site_given:
                return True
            if reported.sited and shares_region(reported, absent):
                return True
        return False

    reported = [f for f in weakness if not f.examined and not superseded(f)]
    weakness_present = bool(examined or reported)
    counting_weakness = examined + reported
    focal = (
        weakness_present
        and all(f.sited for f in counting_weakness)
        and not any(cls in ("head", "trunk") for f in counting_weakness for cls, _ in f.sites)
        and region_count(counting_weakness) == 1
    )
    atrophy = chart.present("atrophy")
    bulbar = (
        chart.present("dysarthria")
        + chart.present("dysphagia")
        + chart.present("tongue-fasciculation")
    )

    # electrolytes (§5.8)
    potassium = chart.current("potassium")
    magnesium = chart.current("magnesium")
    calcium = chart.current("adjusted") or chart.current("total")
    calcium_forms = ("adjusted",) if chart.current("adjusted") else ("adjusted", "total")
    ionised = chart.current("ionised")
    current = potassium + magnesium + calcium + ionised

    # neuromuscular signs (§5.11) and the starts (§5.13)
    recent_surgery = [t for t in chart.surgeries if chart.within(t, NECK_SURGERY_WINDOW)]
    first_surgery = min(recent_surgery, default=None)
    post_surgery = [
        f
        for f in twitch + cramp
        if first_surgery is not None and f.time is not None and f.time >= first_surgery
    ]
    signs = [f for kind in SIGNS for f in chart.present(kind)] + post_surgery
    weakness_not_focal = weakness_present and not focal

    def symptomatic(r: Result) -> bool:
        return (symptomatic_band(r) and bool(signs)) or (explaining_band(r) and weakness_not_focal)

    explained = weakness_not_focal and any(explaining_band(r) for r in current)

    def start(records: list[Finding]) -> datetime | None:
        return min((f.time for f in records if f.time is not None), default=None)

    all_calcium = calcium + ionised

    def calcium_since(when: datetime | None) -> bool:
        return any(when is None or r.time >= when for r in all_calcium)

    # severe and symptomatic (urgent)
    k_candidates = chart.candidates(("potassium",), potassium)
    mg_candidates = chart.candidates(("magnesium",), magnesium)
    ca_candidates = chart.candidates(calcium_forms, calcium)
    ion_candidates = chart.candidates(("ionised",), ionised)
    if any(r.value < D("2.5") for r in k_candidates):
        fired.add("severe-hypokalemia")
    if any(r.value < D("3.0") and symptomatic(r) for r in potassium):
        fired.add("hypokalemia-with-weakness")
    if any(r.value < D("0.40") for r in mg_candidates):
        fired.add("severe-hypomagnesemia")
    if any(r.value < D("0.50") and symptomatic(r) for r in magnesium):
        fired.add("symptomatic-hypomagnesemia")
    if any(r.value < D("1.9") for r in ca_candidates) or any(
        r.value < D("1.00") for r in ion_candidates
    ):
        fired.add("severe-hypocalcemia")
    if any(symptomatic(r) for r in all_calcium):
        fired.add("symptomatic-hypocalcemia")
    if any(r.value >= D("6.5") for r in k_candidates):
        fired.add("severe-hyperkalemia")
    if any(r.value >= D("3.5") for r in ca_candidates):
        fired.add("severe-hypercalcemia")

    breathless_recent = chart.recorded_within(
        "dyspnoea-at-rest", ACUTE_WINDOW
    ) + chart.recorded_within("orthopnoea", ACUTE_WINDOW)
    if twitch_or_cramp and breathless_recent and (weakness_present or atrophy or bulbar):
        fired.add("breathlessness-at-rest-or-lying-flat")
    swelling_recent = chart.recorded_within("leg-swelling", ACUTE_WINDOW)
    sides = {side for f in swelling_recent for cls, side in f.sites if cls == "lower" and side}
    one_sided, both_legs = len(sides) == 1, sides == {"left", "right"}
    if (
        twitch_or_cramp
        and swelling_recent
        and not both_legs
        and chart.recorded_within("dyspnoea-at-rest", ACUTE_WINDOW)
    ):
        fired.add("leg-swelling-with-breathlessness")
    if twitch_or_cramp and swelling_recent and one_sided:
        fired.add("calf-swelling")
    tetany_start = start(tetany)
    if tetany and not calcium_since(tetany_start):
        fired.add("tetany-without-calcium")
    perioral = chart.present("perioral")
    risk_start = start(perioral + post_surgery)
    if twitch_or_cramp and (perioral or post_surgery) and not calcium_since(risk_start):
        fired.add("hypocalcemia-risk-without-calcium")

    # neurology, with the review-date suppression (§5.14)
    reviews = [t for t in chart.reviews if chart.within(t, NEUROLOGY_REVIEW_WINDOW)]
    review = max(reviews, default=None)

    def suppressed(evidence: list[Finding]) -> bool:
        if chart.mnd:
            return True
        return review is not None and all(f.time is None or f.time <= review for f in evidence)

    neurology = {
        "twitching-with-examined-weakness": (
            twitch_or_cramp and bool(examined) and not explained,
            examined,
        ),
        "twitching-with-atrophy": (twitch_or_cramp and bool(atrophy), atrophy),
        "twitching-with-bulbar-sign": (twitch_or_cramp and bool(bulbar), bulbar),
    }
    any_suppressed = False
    for rule, (holds, evidence) in neurology.items():
        if holds and suppressed(evidence):
            any_suppressed = True
        elif holds:
            fired.add(rule)

    # primary care
    if any(r.value >= D("2.5") and low(r) for r in potassium):
        fired.add("low-potassium")
    if any(r.value < D("6.5") and high(r) for r in potassium):
        fired.add("high-potassium")
    if any(r.value >= D("0.40") and low(r) for r in magnesium):
        fired.add("low-magnesium")
    if any(high(r) for r in magnesium):
        fired.add("high-magnesium")
    if any(r.value >= D("1.9") and low(r) for r in calcium) or any(
        r.value >= D("1.00") and low(r) for r in ionised
    ):
        fired.add("low-calcium")
    if any(r.value < D("3.5") and high(r) for r in calcium) or any(high(r) for r in ionised):
        fired.add("high-calcium")
    if not_rechecked(chart):
        fired.add("abnormal-electrolyte-not-rechecked")
    if twitch_or_cramp and reported and not examined:
        fired.add("twitching-with-unconfirmed-weakness")
    benign = assessed_benign(chart, examined_absent, weakness_present, atrophy, bulbar)
    if region_count(twitch) >= 2 and not benign:
        fired.add("widespread-twitching")
    if chronic(chart, twitch) and not benign:
        fired.add("chronic-twitching")
    if any(f.minutes is not None and f.minutes > 10 for f in cramp if not f.condition):
        fired.add("prolonged-cramp")
    if (
        tetany
        and calcium_since(tetany_start)
        and all_calcium
        and not any(low(r) for r in all_calcium)
    ):
        fired.add("tetany-with-normal-calcium")
    ck = chart.current("ck")
    if chart.statin and twitch_or_cramp and any(r.value > 5 * (r.high or D(190)) for r in ck):
        fired.add("possible-statin-myopathy")

    # notes and self-care
    gad7 = latest_score(chart)
    if twitch and gad7 is not None and gad7 >= 10:
        fired.add("anxiety-screen-positive")
    if twitch_or_cramp and examined and explained:
        fired.add("weakness-explained-by-electrolyte")
    if chart.statin and cramp and not ck:
        fired.add("statin-cramp-check-ck")
    swelling_any = chart.present("leg-swelling")
    if pregnant(chart) and twitch_or_cramp and swelling_any:
        fired.add("pregnancy-leg-oedema")
    if any_suppressed:
        fired.add("neurology-reviewed-recently")
    raised = any(LEVELS.index(RULES[r]) >= LEVELS.index("primary-care") for r in fired)
    if twitch and not raised and not (weakness_present or atrophy or bulbar):
        fired.add("benign-twitching")
    levels = [RULES[r] for r in fired if RULES[r] != "none"]
    escalation = max(levels, key=LEVELS.index, default="none")
    return Answer(escalation, frozenset(fired))


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else [value] if value else []


def shares_region(a: Finding, b: Finding) -> bool:
    for cls_a, side_a in a.sites:
        for cls_b, side_b in b.sites:
            if cls_a == cls_b and (side_a is None or side_b is None or side_a == side_b):
                return True
    return False


def latest_score(chart: Chart) -> Decimal | None:
    scores = [r for r in chart.results if r.form == "gad7" and chart.within(r.time, LAB_LOOKBACK)]
    # scores tied at the latest time: the highest (the spec is silent; list order is no rule)
    latest = max(scores, key=lambda r: (r.time, r.value), default=None)
    return None if latest is None else latest.value


def not_rechecked(chart: Chart) -> bool:
    """§5.8.5: a group with no counted result in the lookback, its latest older one abnormal."""
    groups = (("potassium",), ("magnesium",), ("adjusted", "total", "ionised"))
    for forms in groups:
        if any(chart.counted(form) for form in forms):
            continue
        older = [
            r
            for r in chart.results
            if r.form in forms
            and r.status in COUNTED
            and chart.within(r.time, RECHECK_WINDOW)
            and r.time < chart.as_of - LAB_LOOKBACK
        ]
        if not older:
            continue
        # results of one form tied at the latest time are all the old value, as current ones are
        ranked = [((r.time, -forms.index(r.form)), r) for r in older]
        top = max(rank for rank, _ in ranked)
        if any(low(r) or high(r) for rank, r in ranked if rank == top):
            return True
    return False


def assessed_benign(
    chart: Chart,
    examined_absent: list[Finding],
    weakness: bool,
    atrophy: list[Finding],
    bulbar: list[Finding],
) -> bool:
    """§5.15."""
    examined = bool(examined_absent) or any(
        chart.within(t, RED_FLAG_LOOKBACK) for t in chart.encounters
    )
    if not examined or weakness or atrophy or bulbar:
        return False
    for forms in (("potassium",), ("magnesium",), ("adjusted", "total", "ionised")):
        results = [r for form in forms for r in chart.counted(form, RECHECK_WINDOW)]
        if not results:
            return False
        latest = max(r.time for r in results)
        if any(low(r) or high(r) for r in results if r.time == latest):
            return False
    return True


def chronic(chart: Chart, twitch: list[Finding]) -> bool:
    """§5.5: a span of 14 days or more, with 3 Observations or a counting Condition."""
    observations = [f.time for f in twitch if not f.condition and f.time is not None]
    conditions = [f for f in twitch if f.condition]
    times = list(observations)
    for condition in conditions:
        if condition.time is not None:
            times.append(condition.time)
        times.append(chart.as_of)
    if not times:
        return False
    span = (max(times) - min(times)).days
    return span >= 14 and (len(observations) >= 3 or bool(conditions))


def pregnant(chart: Chart) -> bool:
    """§5.16."""
    statuses = [(t, p) for t, p in chart.pregnancy_status if chart.within(t, PREGNANCY_WINDOW)]
    latest_time = max((t for t, _ in statuses), default=None)
    if latest_time is not None and any(p for t, p in statuses if t == latest_time):
        return True
    for when in chart.pregnancy_conditions:
        if when is None:
            if not any(not p for _, p in statuses):
                return True
        elif chart.within(when, PREGNANCY_WINDOW) and (latest_time is None or when > latest_time):
            return True
    return False
