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

A top-level `patient: {birth-date: 1956-12-07, sex: female}` gives the Patient resource its
birthDate and gender. Each data entry becomes a real FHIR R4 resource (validated like any other
input): observations, conditions, medication requests and statements, medications, procedures,
service requests and encounters (`scenario_data` says how each is written). `Scenario.bundle` is
the Bundle the scenario evaluates.

The rule ids under `fired`, `fired exactly`, `not fired` and `evidence` must be suggesting rules
of the ruleset the scenario runs with; any other name is a `ScenarioError` at its line.
`fired exactly` is the whole set of suggesting rules that fire. `notes` lists the card notes
shown (ids, or ids mapped to their exact text, or to a list of texts when one note shows
several lines) and `not notes` those not shown; their ids must be notes of the ruleset.
`do now` is the card's whole "Do now" line, exactly (`Do now: Repeat U&E [by 2026-03-04]`).
`coverage` names the suggesting rules a ruleset's scenarios never check firing, or never check
not firing.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from engine import Evaluator, Record, Ruleset
from engine.errors import Problem, VigilError
from engine.yaml_source import Source, load_yaml

from .evaluate import PatientResult, PatientResults
from .patients import patient_records
from .scenario_data import DataReader

DEFAULT_PATIENT = "scenario-patient"

EXPECT_KEYS = {
    "escalation",
    "fired",
    "fired exactly",
    "not fired",
    "warnings",
    "no warnings",
    "evidence",
    "notes",
    "not notes",
    "do now",
}


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
    fired_exactly: tuple[str, ...] | None = None  # the whole set of suggesting rules that fire
    not_fired: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()  # each must appear within some warning
    no_warnings: bool = False
    evidence: dict[str, tuple[str, ...]] = field(default_factory=dict)
    mentions: tuple[RuleMention, ...] = ()  # every rule id the expectations name
    # note id -> its exact lines (None: shown, whatever its text)
    notes: dict[str, tuple[str, ...] | None] = field(default_factory=dict)
    not_notes: tuple[str, ...] = ()
    note_mentions: tuple[RuleMention, ...] = ()  # every note id the expectations name
    do_now: str | None = None  # the card's "Do now" line, exactly

    def seen_firing(self) -> set[str]:
        """The rules this scenario checks fire."""
        return {*self.fired, *(self.fired_exactly or ())}

    def seen_not_firing(self, suggesting: Iterable[str]) -> set[str]:
        """The rules (of `suggesting`) this scenario checks do not fire."""
        exact = set() if self.fired_exactly is None else set(suggesting) - set(self.fired_exactly)
        return {*self.not_fired, *exact}


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
    records: tuple[Record, ...] = ()  # the scenario patient's records, as the engine read them

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
    check_mentions(scenario, ruleset)
    # a scenario's `now` is now: data dated after it is a data error, as it is for `vigil evaluate`
    patient = f"Patient/{scenario.patient}"
    batch = patient_records(scenario.bundle, ruleset)
    data = batch.get(patient)
    if data is None:
        return Outcome(scenario, None, (f"{patient} was not evaluated",))
    results = PatientResults(Evaluator(ruleset), (data,), batch.warnings, None, now=scenario.now)
    result = next(iter(results))
    return Outcome(scenario, result, tuple(_compare(scenario.expect, result)), data.records)


def check_mentions(scenario: Scenario, ruleset: Ruleset) -> None:
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
    notes = [note.id for note in ruleset.notes]
    for mention in scenario.expect.note_mentions:
        if mention.rule not in notes:
            close = difflib.get_close_matches(mention.rule, notes, n=1, cutoff=0.6)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            message = f"{ruleset.id} has no note {mention.rule!r}{hint}"
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
    if expect.fired_exactly is not None and set(fired) != set(expect.fired_exactly):
        missing = sorted(set(expect.fired_exactly) - set(fired))
        extra = sorted(set(fired) - set(expect.fired_exactly))
        failures.append(
            "fired exactly: "
            + "; ".join(
                [*(f"{r} did not fire" for r in missing), *(f"{r} also fired" for r in extra)]
            )
        )
    for rule in expect.not_fired:
        if rule in fired:
            failures.append(f"expected {rule} not to fire, but it did")
    messages = [str(w) for w in evaluation.warnings]
    for text in expect.warnings:
        if not any(text in m for m in messages):
            failures.append(f"expected a warning containing {text!r}; warnings: {messages}")
    if expect.no_warnings and messages:
        failures.append(f"expected no warnings; got {messages}")
    if expect.do_now is not None and evaluation.do_now != expect.do_now:
        failures.append(f"do now: expected {expect.do_now!r}, got {evaluation.do_now!r}")
    for rule, references in expect.evidence.items():
        suggestion = next((s for s in evaluation.suggestions if s.rule == rule), None)
        if suggestion is None:
            failures.append(f"expected evidence for {rule}, which did not fire")
        elif set(suggestion.evidence) != set(references):
            expected, got = sorted(references), sorted(suggestion.evidence)
            failures.append(f"evidence of {rule}: expected {expected}, got {got}")
    return failures + _compare_notes(expect, result)


def _compare_notes(expect: Expectation, result: PatientResult) -> list[str]:
    shown: dict[str, list[str]] = {}
    for line in result.evaluation.notes:
        shown.setdefault(line.id, []).append(line.text)
    listed = ", ".join(shown) or "none"
    failures = []
    for note, texts in expect.notes.items():
        if note not in shown:
            failures.append(f"expected note {note}; notes shown: {listed}")
        elif texts is not None and tuple(shown[note]) != texts:
            failures.append(f"note {note}: expected {list(texts)}, got {shown[note]}")
    for note in expect.not_notes:
        if note in shown:
            failures.append(f"expected note {note} not to be shown; it says {shown[note]}")
    return failures


class _Reader:
    def __init__(self, source: Source, file: Path) -> None:
        self.source = source
        self.file = file
        self.problems: list[Problem] = []

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
        now = DataReader(self.fail, None, DEFAULT_PATIENT).moment(data.get("now"), ("now",))
        written = data.get("patient")
        patient = str(
            written.get("id", DEFAULT_PATIENT)
            if isinstance(written, dict)
            else written
            if written is not None
            else DEFAULT_PATIENT
        )
        reader = DataReader(self.fail, now, patient)
        own = reader.patient(written, ("patient",))
        entries = data.get("data") or []
        if not isinstance(entries, list):
            self.fail(("data",), "data: is a list of resources: observations, conditions, ...")
            entries = []
        resources = [r for i, e in enumerate(entries) for r in reader.entry(e, ("data", i))]
        owners = {
            str(r["subject"]["reference"]).split("/", 1)[1]
            for r in resources
            if isinstance(r.get("subject"), dict) and "reference" in r["subject"]
        }
        patients = [own] + [
            {"resourceType": "Patient", "id": p} for p in sorted(owners - {patient})
        ]
        bundle = {
            "resourceType": "Bundle",
            "type": "collection",
            "entry": [{"resource": r} for r in (*patients, *resources)],
        }
        expect = self._expect(data.get("expect"))
        if self.problems or now is None or not isinstance(name, str):
            raise ScenarioError(sorted(self.problems, key=lambda p: (p.line, p.column)))
        return Scenario(name, self.file, now, patient, bundle, expect)

    # -- expectations -------------------------------------------------------------------------

    def _expect(self, raw: Any) -> Expectation:
        if not isinstance(raw, dict):
            self.fail(("expect",), "expect: is required (escalation, fired, not fired, ...)")
            return Expectation()
        for key in raw:
            if key not in EXPECT_KEYS:
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
        exactly = tuple(self._names(raw, "fired exactly")) if "fired exactly" in raw else None
        if exactly is not None:
            self._contradictions(raw, set(exactly))
        notes = self._notes(raw.get("notes"))
        do_now = raw.get("do now")
        if do_now is not None and not isinstance(do_now, str):
            self.fail(("expect", "do now"), "do now: is the card's whole line, e.g. 'Do now: ...'")
            do_now = None
        return Expectation(
            escalation=escalation,
            fired=tuple(self._names(raw, "fired")),
            fired_exactly=exactly,
            not_fired=tuple(self._names(raw, "not fired")),
            warnings=tuple(self._names(raw, "warnings")),
            no_warnings=bool(raw.get("no warnings", False)),
            evidence={str(k): tuple(map(str, v)) for k, v in evidence.items()},
            mentions=(
                *self._mentions(raw, "fired"),
                *self._mentions(raw, "fired exactly"),
                *self._mentions(raw, "not fired"),
                *(
                    self._mention(str(k), ("expect", "evidence", str(k)), at_key=True)
                    for k in evidence
                ),
            ),
            notes=notes,
            not_notes=tuple(self._names(raw, "not notes")),
            note_mentions=(
                *(
                    self._mention(k, ("expect", "notes", k), at_key=True)
                    if isinstance(raw.get("notes"), dict)
                    else self._mention(k, ("expect", "notes", i))
                    for i, k in enumerate(notes)
                ),
                *self._mentions(raw, "not notes"),
            ),
            do_now=do_now,
        )

    def _notes(self, raw: Any) -> dict[str, tuple[str, ...] | None]:
        """`notes:` as note id -> its exact lines (None: any text)."""
        if raw is None:
            return {}
        if isinstance(raw, list) and all(isinstance(v, str) for v in raw):
            return dict.fromkeys(raw)
        if isinstance(raw, dict):
            out: dict[str, tuple[str, ...] | None] = {}
            for key, value in raw.items():
                if isinstance(value, str):
                    out[str(key)] = (value,)
                elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                    out[str(key)] = tuple(value)
                else:
                    self.fail(("expect", "notes", key), "a note's text, or a list of its lines")
            return out
        self.fail(("expect", "notes"), "notes: lists note ids, or maps each to its text")
        return {}

    def _contradictions(self, raw: dict[str, Any], exactly: set[str]) -> None:
        """A rule under `fired` that `fired exactly` leaves out, or under `not fired` that it
        lists, is an expectation no result can meet."""
        for key, listed in (("fired", False), ("not fired", True)):
            for mention in self._mentions(raw, key):
                if (mention.rule in exactly) == listed:
                    where = "lists" if listed else "leaves out"
                    self.problems.append(
                        Problem(
                            str(self.file),
                            mention.line,
                            mention.column,
                            f"{mention.rule} is under {key}, which fired exactly {where}",
                        )
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


def scenario_files(ruleset_folder: Path) -> list[Path]:
    return sorted((ruleset_folder / "scenarios").glob("*.yaml"))


@dataclass(frozen=True)
class Coverage:
    """The suggesting rules a ruleset's scenarios never check firing, or never check not
    firing (`fired exactly` checks every rule it does not list as not firing)."""

    never_fired: tuple[str, ...]
    never_not_fired: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return not self.never_fired and not self.never_not_fired

    def lines(self) -> list[str]:
        """One line per gap, for a person to read; none when complete."""
        return [
            *(f"no scenario expects {rule} to fire" for rule in self.never_fired),
            *(f"no scenario expects {rule} not to fire" for rule in self.never_not_fired),
        ]


def coverage(ruleset: Ruleset, scenarios: Iterable[Scenario]) -> Coverage:
    suggesting = [r.id for r in ruleset.rules if r.then.suggest]
    fired: set[str] = set()
    not_fired: set[str] = set()
    for scenario in scenarios:
        fired |= scenario.expect.seen_firing()
        not_fired |= scenario.expect.seen_not_firing(suggesting)
    return Coverage(
        tuple(r for r in suggesting if r not in fired),
        tuple(r for r in suggesting if r not in not_fired),
    )
