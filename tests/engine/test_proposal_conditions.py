"""Proposals that depend on a condition (`if:`), orders already placed (`already:`), dues after
a medicine's start, ordering (`first:`, `joins:`), `always` limited to kinds, code parameters
and drug-name placeholders, from a YAML ruleset through the engine."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine import Evaluator, Quantity, Record
from engine.evaluation import Evaluation, Proposed
from engine.loader import load_text

NOW = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)

RULESET = """\
id: proposing
version: 1.0.0
status: draft
title: Proposing
time-zone: Europe/London
levels:
  - {id: none, title: No action, indicator: info}
  - id: routine-recheck
    title: Routine recheck
    indicator: info
    propose:
      - {code: renal_panel, label: Repeat U&E, kind: lab-order, priority: routine, due: 14 days,
         already: ue_request present since 1 hours before potassium,
         already-text: "U&E requested {date}"}
  - id: same-day-review
    title: Same-day review
    indicator: warning
  - id: emergency
    title: Emergency
    indicator: critical
    propose:
      - {code: sct#183452005, label: Emergency admission, kind: admission, priority: stat,
         note: Arrange emergency admission now.}
hit-policy:
  show: escalation
  merge: true
  always:
    - withhold
    - {rules: [egfr-fall], kinds: [medication-review]}
concepts:
  potassium: {kind: quantity, codes: [loinc#2823-3], unit: mmol/L, lookback: 14 days}
  dialysis: {kind: finding, codes: [sct#105502003]}
  raasi: {kind: medication, codes: ['atc#C09A*', rxnorm#35296, rxnorm#29046]}
  nsaid: {kind: medication, codes: ['atc#M01A*']}
  ue_request: {kind: event, resource: ServiceRequest, codes: [renal_panel]}
parameters:
  renal_panel: loinc#24362-6
rules:
  - id: mild
    when: potassium >= 5.5 mmol/L
    then: {suggest: routine-recheck, summary: 'Potassium {potassium} is raised'}
  - id: severe
    when: potassium >= 6.5 mmol/L
    then: {suggest: emergency, summary: 'Potassium {potassium} is severe'}
  - id: on-dialysis
    when: [potassium >= 6.0 mmol/L, dialysis present]
    then:
      suggest: emergency
      summary: Call the renal team
      propose:
        - {code: sct#306286007, label: Contact the renal team, priority: stat, first: true,
           note: Contact the on-call renal team now.}
        - {code: sct#183452005, label: Emergency admission, kind: admission, priority: stat,
           joins: true, note: 'If the renal team cannot be reached now, arrange admission.'}
  - id: withhold
    when: [potassium >= 6.0 mmol/L, raasi active]
    then:
      suggest: same-day-review
      summary: 'Withhold {raasi}'
      propose:
        - {code: sct#182836005, label: Review, kind: medication-review, priority: asap,
           reason: raasi, if: nsaid active, note: 'Today stop {nsaid} and withhold {raasi}.'}
        - {code: sct#182836005, label: Review, kind: medication-review, priority: asap,
           reason: raasi, if: not nsaid active, note: 'Withhold {raasi} until K < 5.5.'}
  - id: egfr-fall
    when: [potassium >= 5.5 mmol/L, raasi active]
    then:
      suggest: routine-recheck
      summary: eGFR fell
      propose:
        - {code: renal_panel, label: Repeat U&E, kind: lab-order, priority: urgent, due: 3 days}
        - {code: sct#182836005, label: Review, kind: medication-review, priority: urgent,
           reason: raasi, note: Stop or reduce the RAASi if confirmed.}
  - id: started
    when: [raasi active, raasi started within 90 days]
    then:
      suggest: routine-recheck
      summary: Check U&E after the start
      propose:
        - {code: renal_panel, label: Check U&E, kind: lab-order,
           due: '14 days after raasi started, else 3 days'}
"""


def k(value: float, hours: int = 2) -> Record:
    return Record(
        "potassium",
        f"Observation/k{hours}",
        NOW - timedelta(hours=hours),
        value=Quantity(value, "mmol/L"),
    )


def drug(concept: str, source: str, group: str, days: int, display: str | None = None) -> Record:
    return Record(
        concept,
        f"MedicationRequest/{source}",
        NOW - timedelta(days=days),
        code=group,
        status="active",
        display=display,
    )


def evaluate(*records: Record) -> Evaluation:
    return Evaluator(load_text(RULESET)).evaluate(list(records), as_of=NOW)


def by_code(evaluation: Evaluation) -> dict[str, list[Proposed]]:
    found: dict[str, list[Proposed]] = {}
    for p in evaluation.proposals:
        found.setdefault(p.code.code, []).append(p)
    return found


RAMIPRIL = drug("raasi", "ram", "rxnorm#35296", 200, "Ramipril 5 mg capsules")


def test_a_proposal_is_made_only_when_its_condition_holds_and_names_the_drug() -> None:
    without = by_code(evaluate(k(6.2), RAMIPRIL))["182836005"]
    assert [p.notes[0] for p in without] == ["Withhold Ramipril 5 mg capsules until K < 5.5."]
    ibuprofen = drug("nsaid", "ibu", "atc#M01AE01", 5)
    with_nsaid = by_code(evaluate(k(6.2), RAMIPRIL, ibuprofen))["182836005"]
    assert [p.notes[0] for p in with_nsaid] == [
        "Today stop atc#M01AE01 and withhold Ramipril 5 mg capsules."
    ]


def test_a_condition_runs_as_a_hidden_rule_that_no_output_shows() -> None:
    evaluation = evaluate(k(6.2), RAMIPRIL)
    assert not any("$" in f.name for f in evaluation.findings)
    assert not any("$" in f.rule for f in evaluation.trace)
    assert {s.rule for s in evaluation.suggestions} == {"mild", "withhold", "egfr-fall"}


def test_a_drug_placeholder_names_every_active_group_in_a_summary() -> None:
    lisinopril = drug("raasi", "lis", "rxnorm#29046", 300)
    evaluation = evaluate(k(6.2), RAMIPRIL, lisinopril)
    [withhold] = [s for s in evaluation.suggestions if s.rule == "withhold"]
    assert withhold.summary == "Withhold Ramipril 5 mg capsules and rxnorm#29046"
    notes = [p.notes for p in by_code(evaluation)["182836005"]]
    # one review per drug group, each naming its own drug
    assert ("Withhold rxnorm#29046 until K < 5.5.",) in [n[:1] for n in notes]
    assert ("Withhold Ramipril 5 mg capsules until K < 5.5.",) in [n[:1] for n in notes]


def test_always_limited_to_kinds_shows_only_the_medicine_action_below_the_escalation() -> None:
    orders = by_code(evaluate(k(6.7), RAMIPRIL))
    assert set(orders) == {"183452005", "182836005"}  # no U&E: the admission supersedes it
    [review] = orders["182836005"]
    assert set(review.rules) == {"withhold", "egfr-fall"}
    assert "Stop or reduce the RAASi if confirmed." in review.notes


def test_a_leading_order_comes_first_and_a_joining_note_goes_on_the_other_rules_order() -> None:
    dialysis = Record("dialysis", "Condition/d", NOW - timedelta(days=900))
    evaluation = evaluate(k(6.8), dialysis)
    renal, admit = evaluation.proposals
    assert (renal.code.code, renal.rules) == ("306286007", ("on-dialysis",))
    assert admit.code.code == "183452005"
    assert admit.notes == (
        "Arrange emergency admission now.",
        "If the renal team cannot be reached now, arrange admission.",
    )
    assert admit.label == "Emergency admission"


def test_a_joining_proposal_alone_proposes_nothing() -> None:
    dialysis = Record("dialysis", "Condition/d", NOW - timedelta(days=900))
    evaluation = evaluate(k(6.2), dialysis)
    assert [p.code.code for p in evaluation.proposals] == ["306286007"]


def test_an_order_already_placed_is_reported_not_proposed_and_the_rule_still_fires() -> None:
    request = Record("ue_request", "ServiceRequest/ue", NOW - timedelta(hours=1), status="active")
    evaluation = evaluate(k(5.7), request)
    assert evaluation.escalation == "routine-recheck"
    assert [s.rule for s in evaluation.suggestions] == ["mild"]
    [ue] = evaluation.proposals
    assert (ue.code.system, ue.code.code) == ("http://loinc.org", "24362-6")  # the parameter
    assert ue.already == "U&E requested 2026-07-01"
    before = Record("ue_request", "ServiceRequest/old", NOW - timedelta(days=3), status="active")
    [ue] = evaluate(k(5.7), before).proposals
    assert ue.already is None  # requested before the index result: proposed again


def test_a_due_date_counts_from_the_medicines_latest_start() -> None:
    started = drug("raasi", "new", "rxnorm#35296", 5)
    [check] = by_code(evaluate(started))["24362-6"]
    assert check.due == NOW - timedelta(days=5) + timedelta(days=14)
    old = drug("raasi", "old", "rxnorm#35296", 20)
    [check] = by_code(evaluate(old))["24362-6"]
    assert check.due == NOW + timedelta(days=3)  # start + 14 days has passed


FIRST = """\
id: leading
version: 1.0.0
status: draft
title: Leading notes
levels:
  - {id: none, title: No action, indicator: info}
  - {id: same-day-review, title: Same-day review, indicator: warning}
hit-policy: {show: escalation, merge: true}
concepts:
  potassium: {kind: quantity, codes: [loinc#2823-3], unit: mmol/L}
  raasi: {kind: medication, codes: [rxnorm#35296]}
rules:
  - id: binder
    when: [potassium >= 6.0 mmol/L, raasi active]
    then:
      suggest: same-day-review
      summary: Consider a binder
      propose:
        - {code: sct#182836005, label: Review, kind: medication-review, reason: raasi,
           note: Discuss a potassium binder.}
  - id: withhold
    when: [potassium >= 6.0 mmol/L, raasi active]
    then:
      suggest: same-day-review
      summary: Withhold
      propose:
        - {code: sct#182836005, label: Review, kind: medication-review, reason: raasi,
           first: true, note: Withhold it.}
"""


def test_a_leading_proposals_note_comes_first_in_its_order() -> None:
    evaluation = Evaluator(load_text(FIRST)).evaluate([k(6.2), RAMIPRIL], as_of=NOW)
    assert [s.rule for s in evaluation.suggestions] == ["binder", "withhold"]
    [review] = evaluation.proposals
    assert review.notes == ("Withhold it.", "Discuss a potassium binder.")
