"""A small YAML ruleset with every part of the hit policy and "Do now": proposals shown from
other levels at an escalation (by level, kind or code), a medicine review at every escalation,
proposals hidden when an admission is shown, conditional proposals, due words, instructions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from engine import Quantity, Record
from engine.loader import load_text
from engine.model import Ruleset

NOW = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)  # 11:00 in London

RULESET = """\
id: hit-policy-demo
version: 1.0.0
status: active
title: Hit policy demo
time-zone: Europe/London
levels:
  - {id: none, title: No action, indicator: info}
  - {id: routine, title: Routine review, indicator: warning}
  - {id: specialist, title: Specialist referral, indicator: warning}
  - {id: urgent, title: Urgent today, indicator: critical}
hit-policy:
  show: escalation
  merge: true
  always:
    - {levels: [specialist], at: [urgent]}
    - {levels: [routine], kinds: [lab-order], at: [specialist]}
    - {rules: [drug-review], kinds: [medication-review]}
  hide:
    - {if-shown: sct#183452005, rules: [bloods-missing]}
concepts:
  potassium: {kind: quantity, codes: [loinc#2823-3], unit: mmol/L, lookback: 30 days}
  weakness: {codes: [sct#26544005]}
  tetany: {codes: [sct#53356000]}
  swelling: {codes: [sct#449615005]}
  pregnant: {codes: [sct#77386006]}
  cramp: {codes: [sct#55300003]}
rules:
  - id: severe-low
    when: potassium < 2.5 mmol/L
    then:
      suggest: urgent
      summary: "Severe low potassium {potassium}"
      propose:
        - {code: sct#183452005, label: Emergency admission, kind: admission, priority: stat,
           due: now, note: Arrange emergency admission}
        - {code: sct#268400002, label: ECG, kind: procedure, priority: stat, due: now,
           note: 12-lead ECG if it does not delay transfer}
  - id: bloods-missing
    when: tetany present
    then:
      suggest: urgent
      summary: Tetany with no bloods
      propose:
        - {code: loinc#24362-6, label: U&E, kind: lab-order, priority: asap, due: today,
           note: U&E}
        - {code: loinc#2601-3, label: Magnesium, kind: lab-order, priority: asap, due: today,
           note: Magnesium}
  - id: swelling
    when: swelling present
    then:
      suggest: urgent
      summary: Swollen leg
      propose:
        - {code: loinc#48065-7, label: D-dimer, kind: lab-order, priority: asap,
           due: 4 hours, if: not pregnant present, note: D-dimer}
        - {code: loinc#24362-6, label: U&E, kind: lab-order, priority: asap, due: 4 hours,
           if: not pregnant present, note: U&E with the D-dimer}
        - {code: vigil#leg-vein-ultrasound, label: Leg vein ultrasound, kind: procedure,
           priority: asap, due: 4 hours, if: not pregnant present,
           note: Proximal leg vein ultrasound}
        - {code: vigil#leg-vein-ultrasound, label: Leg vein ultrasound, kind: procedure,
           priority: asap, due: today, if: pregnant present,
           note: Compression duplex ultrasound via the maternity pathway}
  - id: weak
    when: weakness present
    then:
      suggest: specialist
      summary: Weakness
      propose:
        - {code: sct#308474002, label: Referral to neurologist, priority: urgent, due: 14 days,
           note: Refer to neurology urgently}
  - id: low
    when: potassium < 3.5 mmol/L
    then:
      suggest: routine
      summary: "Low potassium {potassium}"
      propose:
        - {code: loinc#24362-6, label: Repeat U&E, kind: lab-order, priority: urgent,
           due: 3 days, if: potassium < 3.0 mmol/L, note: Repeat U&E}
        - {code: loinc#24362-6, label: Repeat U&E, kind: lab-order, priority: routine,
           due: 14 days, if: not potassium < 3.0 mmol/L, note: Repeat U&E}
        - {code: sct#390906007, label: Review, kind: procedure, priority: routine,
           due: 14 days, note: "Review: ask about diet and diuretics"}
  - id: drug-review
    when: cramp present
    then:
      suggest: routine
      summary: Cramp on a drug
      propose:
        - {code: sct#182836005, label: Review of medication, kind: medication-review,
           priority: asap, due: today, note: Stop the statin}
        - {code: loinc#2157-6, label: CK, kind: lab-order, priority: urgent, due: 7 days,
           note: Repeat CK}
  - id: raised
    when: potassium > 5.5 mmol/L
    then:
      suggest: routine
      summary: "Raised potassium {potassium}"
      propose: []
      instruction:
        - text: "Assess the raised potassium {potassium} today with the hyperkalaemia guidance"
          if: potassium >= 6.0 mmol/L
        - text: "Assess the raised potassium {potassium} with the hyperkalaemia guidance"
  - id: pregnant-note
    when: pregnant present
    then:
      suggest: none
      summary: Pregnant
      instruction: Check blood pressure and test urine for protein
  - id: quiet-note
    when: weakness absent
    then: {suggest: none, summary: Weakness recorded absent}
"""

CODES = {
    "weakness": "sct#26544005",
    "tetany": "sct#53356000",
    "swelling": "sct#449615005",
    "pregnant": "sct#77386006",
    "cramp": "sct#55300003",
}


def ruleset() -> Ruleset:
    return load_text(RULESET)


def k(value: float) -> Record:
    return Record(
        "potassium", "Observation/k", NOW - timedelta(hours=2), value=Quantity(value, "mmol/L")
    )


def finding(name: str, present: bool = True) -> Record:
    return Record(name, f"Observation/{name}", NOW - timedelta(days=1), present=present)
