"""Clinician-written test cases: one YAML file per case, a fixed "now", compact codes, and the
expected result, run through the same FHIR path as real data.

    scenario: Severe hypokalaemia with twitching in one calf
    now: 2026-03-01T09:00:00Z
    data:
      - observation: sct#82470000      # muscle fasciculation
        at: -3 days
        site: sct#53840002            # calf
      - observation: loinc#2823-3      # potassium
        value: 2.4 mmol/L
        at: -1 day
    expect:
      escalation: urgent
      fired: [severe-hypokalemia]
      not fired: [low-potassium]

Each data entry becomes a real FHIR R4 Observation or Condition (validated like any other
input). Values read as: `2.4 mmol/L` (a quantity with its UCUM code), `4` (valueInteger),
`true`/`false` (valueBoolean), `present`/`absent` (SNOMED 52101004 / 2667000), or a mapping
(a valueQuantity written out, e.g. without a UCUM code). Times are relative to `now`
(`-3 days`) or absolute (`2026-02-01`).

The rule ids under `fired`, `not fired` and `evidence` must be suggesting rules of the ruleset the
scenario runs with; any other name is a `ScenarioError` at its line.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from engine import Ruleset, units
from engine.codes import DEFAULT_SYSTEMS, parse_code
from engine.errors import Problem, VigilError
from engine.yaml_source import Source, load_yaml

from .evaluate import PatientResult, evaluate_bundle

UCUM = "http://unitsofmeasure.org"
PRESENT = ("http://snomed.info/sct", "52101004", "Present")
ABSENT = ("http://snomed.info/sct", "2667000", "Absent")
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
DEFAULT_PATIENT = "scenario-patient"

_ENTRY_KEYS = {
    "observation",
    "condition",
    "id",
    "patient",
    "at",
    "value",
    "site",
    "status",
    "interpretation",
    "reference-low",
    "component",
    "onset",
    "abatement",
    "clinical-status",
    "verification",
    "fhir",
}
_EXPECT_KEYS = {"escalation", "fired", "not fired", "warnings", "no warnings", "evidence"}


class ScenarioError(VigilError):
    """A scenario file that cannot be read; `problems` locates each mistake."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(
            Problem(p.file, p.line, p.column, " ".join(p.message.split())) for p in problems
        )
        super().__init__("\n".join(map(str, problems)))


@dataclass(frozen=True)
class RuleMention:
    """A rule id an expectation names, and where: checked against the ruleset when run."""

    rule: str
    line: int
    column: int


@dataclass(frozen=True)
class Expectation:
    escalation: str | None = None
    fired: tuple[str, ...] = ()
    not_fired: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # each must appear within some warning
    no_warnings: bool = False
    evidence: dict[str, tuple[str, ...]] = field(default_factory=dict)
    mentions: tuple[RuleMention, ...] = ()  # every rule id in fired, not fired and evidence


@dataclass(frozen=True)
class Scenario:
    name: str
    file: Path
    now: datetime
    patient: str
    bundle: dict[str, Any]
    expect: Expectation


@dataclass(frozen=True)
class Outcome:
    scenario: Scenario
    result: PatientResult | None
    failures: tuple[str, ...]

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def fired(self) -> tuple[str, ...]:
        return tuple(s.rule for s in self.result.evaluation.suggestions) if self.result else ()


def load_scenario(path: Path) -> Scenario:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as error:
        raise ScenarioError([Problem(str(path), 0, 0, f"cannot read: {error.strerror}")]) from None
    except UnicodeDecodeError:
        raise ScenarioError([Problem(str(path), 1, 1, "the file is not UTF-8 text")]) from None
    source, problems = load_yaml(text, str(path))
    if source is None or problems:
        raise ScenarioError(problems)
    return _Reader(source, path).scenario()


def run_scenario(scenario: Scenario, ruleset: Ruleset) -> Outcome:
    """Evaluate the scenario through the FHIR path and compare with what it expects.

    Raises `ScenarioError` if an expectation names a rule that is not a suggesting rule of
    `ruleset`: a misspelt id under `not fired` would otherwise pass whatever the rules do."""
    _check_mentions(scenario, ruleset)
    results = evaluate_bundle(scenario.bundle, ruleset, as_of=scenario.now)
    patient = f"Patient/{scenario.patient}"
    result = next((r for r in results if r.patient == patient), None)
    if result is None:
        return Outcome(scenario, None, (f"{patient} was not evaluated",))
    return Outcome(scenario, result, tuple(_compare(scenario.expect, result)))


def _check_mentions(scenario: Scenario, ruleset: Ruleset) -> None:
    suggesting = [r.id for r in ruleset.rules if r.then.suggest]
    deriving = {r.id for r in ruleset.rules if not r.then.suggest}
    problems = []
    for mention in scenario.expect.mentions:
        if mention.rule in suggesting:
            continue
        if mention.rule in deriving:
            message = (
                f"rule {mention.rule!r} only derives a finding and never suggests, "
                "so it is never among the rules that fired"
            )
        else:
            close = difflib.get_close_matches(mention.rule, suggesting, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            message = f"{ruleset.id} has no rule {mention.rule!r}{hint}"
        problems.append(Problem(str(scenario.file), mention.line, mention.column, message))
    if problems:
        raise ScenarioError(problems)


def _compare(expect: Expectation, result: PatientResult) -> list[str]:
    evaluation = result.evaluation
    fired = [s.rule for s in evaluation.suggestions]
    shown = ", ".join(fired) or "no rule"
    failures = []
    if expect.escalation is not None and evaluation.escalation != expect.escalation:
        failures.append(
            f"escalation: expected {expect.escalation}, got {evaluation.escalation} "
            f"(suggested by: {shown})"
        )
    for rule in expect.fired:
        if rule not in fired:
            failures.append(f"expected {rule} to fire; fired: {shown}")
    for rule in expect.not_fired:
        if rule in fired:
            failures.append(f"expected {rule} not to fire, but it did")
    messages = [str(w) for w in evaluation.warnings]
    for text in expect.warnings:
        if not any(text in m for m in messages):
            failures.append(f"expected a warning containing {text!r}; warnings: {messages}")
    if expect.no_warnings and messages:
        failures.append(f"expected no warnings; got {messages}")
    for rule, references in expect.evidence.items():
        suggestion = next((s for s in evaluation.suggestions if s.rule == rule), None)
        if suggestion is None:
            failures.append(f"expected evidence for {rule}, which did not fire")
        elif set(suggestion.evidence) != set(references):
            expected, got = sorted(references), sorted(suggestion.evidence)
            failures.append(f"evidence of {rule}: expected {expected}, got {got}")
    return failures


class _Reader:
    def __init__(self, source: Source, file: Path) -> None:
        self.source = source
        self.file = file
        self.problems: list[Problem] = []
        self.counts = {"Observation": 0, "Condition": 0}

    def fail(self, path: tuple[str | int, ...], message: str, *, at_key: bool = False) -> None:
        self.problems.append(self.source.problem(path, message, at_key=at_key))

    def scenario(self) -> Scenario:
        data = self.source.data
        if not isinstance(data, dict):
            raise ScenarioError([self.source.problem((), "a scenario is a mapping")])
        for key in data:
            if key not in {"scenario", "description", "spec", "now", "patient", "data", "expect"}:
                self.fail((key,), f"unknown key {key!r}", at_key=True)
        name = data.get("scenario")
        if not isinstance(name, str):
            self.fail(("scenario",), "scenario: needs a one-line name")
        now = self._moment(data.get("now"), ("now",), None)
        patient = str(data.get("patient", DEFAULT_PATIENT))
        entries = data.get("data") or []
        if not isinstance(entries, list):
            self.fail(("data",), "data: is a list of observations and conditions")
            entries = []
        resources = [self._resource(e, ("data", i), now, patient) for i, e in enumerate(entries)]
        patients = {patient} | {str(r["subject"]["reference"]).split("/")[1] for r in resources}
        bundle = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": {"resourceType": "Patient", "id": p}} for p in sorted(patients)]
            + [{"resource": r} for r in resources],
        }
        expect = self._expect(data.get("expect"))
        if self.problems or now is None or not isinstance(name, str):
            raise ScenarioError(self.problems)
        return Scenario(name, self.file, now, patient, bundle, expect)

    # -- data ---------------------------------------------------------------------------------

    def _resource(
        self, entry: Any, path: tuple[str | int, ...], now: datetime | None, patient: str
    ) -> dict[str, Any]:
        if not isinstance(entry, dict):
            self.fail(path, "each data entry is a mapping starting with observation: or condition:")
            return {"subject": {"reference": f"Patient/{patient}"}}
        for key in entry:
            if key not in _ENTRY_KEYS:
                self.fail((*path, key), f"unknown key {key!r} in a data entry", at_key=True)
        kind = "Condition" if "condition" in entry else "Observation"
        self.counts[kind] += 1
        rid = str(entry.get("id", f"{kind[0].lower()}{self.counts[kind]}"))
        owner = str(entry.get("patient", patient))
        code = self._coding(entry.get(kind.lower()), (*path, kind.lower()))
        resource: dict[str, Any] = {
            "resourceType": kind,
            "id": rid,
            "code": {"coding": [code]},
            "subject": {"reference": f"Patient/{owner}"},
        }
        if "site" in entry:
            resource["bodySite"] = (
                [{"coding": [self._coding(entry["site"], (*path, "site"))]}]
                if kind == "Condition"
                else {"coding": [self._coding(entry["site"], (*path, "site"))]}
            )
        if kind == "Observation":
            resource["status"] = entry.get("status", "final")
            self._effective(resource, entry.get("at", "0 days"), (*path, "at"), now)
            if "value" in entry:
                resource.update(self._value(entry["value"], (*path, "value")))
            if "interpretation" in entry:
                resource["interpretation"] = [
                    {"coding": [{"system": INTERPRETATION, "code": str(entry["interpretation"])}]}
                ]
            if "reference-low" in entry:
                low = self._quantity(entry["reference-low"], (*path, "reference-low"))
                resource["referenceRange"] = [{"low": low}]
            if "component" in entry:
                quantity = self._quantity(entry["component"], (*path, "component"))
                resource["component"] = [
                    {
                        "code": {
                            "coding": [{"system": UCUM, "code": "min", "display": "duration"}]
                        },
                        "valueQuantity": quantity,
                    }
                ]
        else:
            status = entry.get("clinical-status", "active")
            resource["clinicalStatus"] = _concept(
                "http://terminology.hl7.org/CodeSystem/condition-clinical", status
            )
            verification = entry.get("verification", "confirmed")
            resource["verificationStatus"] = _concept(
                "http://terminology.hl7.org/CodeSystem/condition-ver-status", verification
            )
            if "onset" in entry:
                onset = self._moment(entry["onset"], (*path, "onset"), now)
                if onset:
                    resource["onsetDateTime"] = onset.isoformat()
            if "abatement" in entry:
                end = self._moment(entry["abatement"], (*path, "abatement"), now)
                if end:
                    resource["abatementDateTime"] = end.isoformat()
        extra = entry.get("fhir")
        if isinstance(extra, dict):
            resource.update(extra)
        return resource

    def _coding(self, text: Any, path: tuple[str | int, ...]) -> dict[str, str]:
        try:
            code = parse_code(str(text), DEFAULT_SYSTEMS)
        except ValueError as error:
            self.fail(path, str(error))
            return {"system": "invalid", "code": str(text)}
        return {"system": code.system, "code": code.code}

    def _value(self, value: Any, path: tuple[str | int, ...]) -> dict[str, Any]:
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

    def _quantity(self, value: Any, path: tuple[str | int, ...]) -> dict[str, Any]:
        if isinstance(value, dict):
            return value  # written out as FHIR, e.g. a unit without a UCUM code
        if isinstance(value, int | float):
            return {"value": value}
        number, _, unit = str(value).strip().partition(" ")
        try:
            amount = float(number)
        except ValueError:
            self.fail(path, f"{value!r} is not a number followed by a unit")
            return {}
        quantity: dict[str, Any] = {"value": amount, "unit": unit} if unit else {"value": amount}
        if unit:
            # a unit Vigil knows gets its UCUM code, as real systems send it; any other is sent
            # as written, so scenarios can show what happens to units nobody can convert
            code = units.lookup(unit).code if units.is_known(unit) else unit
            quantity.update({"system": UCUM, "code": code})
        return quantity

    def _effective(
        self, resource: dict[str, Any], at: Any, path: tuple[str | int, ...], now: datetime | None
    ) -> None:
        if at is None:
            return
        if isinstance(at, dict):
            start = self._moment(at.get("start"), (*path, "start"), now)
            end = self._moment(at.get("end"), (*path, "end"), now) if "end" in at else None
            period = {"start": start.isoformat()} if start else {}
            if end:
                period["end"] = end.isoformat()
            resource["effectivePeriod"] = period
            return
        moment = self._moment(at, path, now)
        if moment:
            resource["effectiveDateTime"] = moment.isoformat()

    def _moment(
        self, value: Any, path: tuple[str | int, ...], now: datetime | None
    ) -> datetime | None:
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, date):
            return datetime(value.year, value.month, value.day, tzinfo=UTC)
        if isinstance(value, str) and now is not None:
            try:
                amount, unit = units.parse_quantity(value)
                return now + timedelta(seconds=units.convert(amount, unit, "s"))
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

    # -- expectations -------------------------------------------------------------------------

    def _expect(self, raw: Any) -> Expectation:
        if not isinstance(raw, dict):
            self.fail(("expect",), "expect: is required (escalation, fired, not fired, ...)")
            return Expectation()
        for key in raw:
            if key not in _EXPECT_KEYS:
                self.fail(("expect", key), f"unknown expectation {key!r}", at_key=True)
        evidence = raw.get("evidence") or {}
        if not isinstance(evidence, dict) or not all(
            isinstance(refs, list) for refs in evidence.values()
        ):
            self.fail(("expect", "evidence"), "evidence: maps a rule id to a list of references")
            evidence = {}
        escalation = raw.get("escalation")
        if escalation is not None and not isinstance(escalation, str):
            self.fail(("expect", "escalation"), "escalation: is one level, e.g. urgent")
            escalation = None
        return Expectation(
            escalation=escalation,
            fired=tuple(self._names(raw, "fired")),
            not_fired=tuple(self._names(raw, "not fired")),
            warnings=tuple(self._names(raw, "warnings")),
            no_warnings=bool(raw.get("no warnings", False)),
            evidence={str(k): tuple(map(str, v)) for k, v in evidence.items()},
            mentions=(
                *self._mentions(raw, "fired"),
                *self._mentions(raw, "not fired"),
                *(
                    self._mention(str(k), ("expect", "evidence", str(k)), at_key=True)
                    for k in evidence
                ),
            ),
        )

    def _names(self, raw: dict[str, Any], key: str) -> list[str]:
        value = raw.get(key) or []
        if isinstance(value, str):
            return [value]
        if not isinstance(value, list):
            self.fail(("expect", key), f"{key}: is a list")
            return []
        return [str(v) for v in value]

    def _mentions(self, raw: dict[str, Any], key: str) -> list[RuleMention]:
        value = raw.get(key) or []
        if isinstance(value, str):
            return [self._mention(value, ("expect", key))]
        if not isinstance(value, list):
            return []  # reported by _names
        return [self._mention(str(v), ("expect", key, i)) for i, v in enumerate(value)]

    def _mention(
        self, rule: str, path: tuple[str | int, ...], *, at_key: bool = False
    ) -> RuleMention:
        mark = self.source.key_marks.get(path) if at_key else None
        line, column = mark or self.source.where(path)
        return RuleMention(rule, line, column)


def _concept(system: str, code: Any) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": str(code)}]}


def scenario_files(ruleset_folder: Path) -> list[Path]:
    return sorted((ruleset_folder / "scenarios").glob("*.yaml"))
