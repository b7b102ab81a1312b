"""A small ruleset with card notes, written for tests in the clinicians' language."""

from __future__ import annotations

from tests.engine.test_language_loader import BASE

RULES = """\
  - id: raised
    when: potassium >= 5.5 mmol/L
    then: {suggest: routine-recheck, summary: "Potassium {potassium}"}
  - id: very-high
    when: potassium >= high_potassium
    then: {suggest: emergency, summary: "Potassium {potassium}: emergency"}
  - id: on-raasi
    when: raasi active
    then: {derive: on-raasi}
"""

NOTES = """\
notes:
  - id: note-index
    when: raised fired
    text: "Index potassium {potassium} ({potassium date}, {potassium age} old)"
  - id: note-comment
    when: [raised fired, potassium recorded]
    text: "Laboratory comment: {potassium comment}"
  - id: note-emergency-only
    show-at: [emergency]
    text: Call the renal team.
  - id: note-recheck-only
    show-at: routine-recheck
    when:
      any:
        - very-high fired
        - all: [raised fired, not on-raasi, not very-high fired]
    text: Not on a RAAS inhibitor.
  - id: note-held
    when: raasi on hold
    text: "{raasi held} on hold: keep withheld until K < 5.5"
  - id: note-ended
    when: raasi ended within 14 days
    text: "likely cause: {raasi} course ended {raasi ended}"
  - id: note-unconfirmed
    when: raised fired
    text: "{raasi}: last recorded {raasi unconfirmed}: confirm still taken"
  - id: note-changed
    when: raasi started within 90 days
    text: "{raasi}: dose changed on {raasi changed}"
  - id: note-never
    when: very-high not fired
    show-at: [emergency]
    text: Never shown.
"""


def notes_ruleset(notes: str = NOTES) -> str:
    """BASE with three rules and `notes` (a `notes:` block)."""
    return BASE + RULES + notes
