"""A small ruleset with its own levels, proposals and hit policy, built by hand (the loader's
`levels:` is not needed to test the engine's use of them)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from engine.clock import Duration
from engine.codes import Code, parse_code
from engine.conditions import Compare, Op, Presence
from engine.model import Action, Concept, HitPolicy, Level, Proposal, Rule, Ruleset

RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UE = parse_code("loinc#24362-6")
ADMIT = parse_code("sct#183452005")
REVIEW = parse_code("sct#182836005")

LEVELS = (
    Level("none", "No action", "info"),
    Level(
        "routine-recheck",
        "Routine recheck",
        "info",
        (Proposal(UE, "Repeat U&E", "routine", "lab-order", Duration(14, "days")),),
    ),
    Level(
        "same-day-review",
        "Same-day review",
        "warning",
        (Proposal(UE, "Repeat U&E", "urgent", "lab-order", "today"),),
    ),
    Level(
        "emergency",
        "Emergency",
        "critical",
        (Proposal(ADMIT, "Emergency hospital admission", "stat", "admission"),),
    ),
)
WITHHOLD = Proposal(
    REVIEW,
    "Review of medication",
    "urgent",
    "medication-review",
    "today",
    "Withhold the ACE inhibitor until potassium is below 5.5 mmol/L",
    "ace_inhibitor",
)
CONCEPTS = (
    Concept(
        "potassium",
        (Code("http://loinc.org", "2823-3"),),
        "mmol/L",
        timedelta(days=14),
        39.098,
        1,
        kind="quantity",
    ),
    Concept("weakness", (Code("http://snomed.info/sct", "26544005"),)),
    Concept("ace_inhibitor", (Code(RXNORM, "35296"),), kind="medication"),
)


def potassium(op: Op, value: str) -> Compare:
    text = f"potassium {op} {value}"
    return Compare("potassium", "latest", op, value, text, ())


def rule(rid: str, when: Compare | Presence, level: str, **then: object) -> Rule:
    action = Action(suggest=level, summary=f"{rid} summary", **then)  # type: ignore[arg-type]
    return Rule(rid, rid, when, action)


RULES = (
    rule("weakness-noted", Presence("weakness", "present", None, "weakness present", ()), "none"),
    rule("mild", potassium(">=", "5.5 mmol/L"), "routine-recheck"),
    rule(
        "moderate",
        potassium(">=", "6.0 mmol/L"),
        "same-day-review",
        proposals=(
            Proposal(
                UE, "Repeat U&E", "routine", "lab-order", Duration(3, "days"), "Lithium heparin"
            ),
        ),
    ),
    rule(
        "moderate-ecg",
        potassium(">=", "6.2 mmol/L"),
        "same-day-review",
        proposals=(
            Proposal(UE, "Repeat U&E", "urgent", "lab-order", "today", "Do an ECG"),
            Proposal(UE, "Repeat U&E", "urgent", "lab-order", "today", "Lithium heparin"),
        ),
    ),
    rule("severe", potassium(">=", "6.5 mmol/L"), "emergency"),
    rule("raasi-withhold", potassium(">=", "6.0 mmol/L"), "routine-recheck", proposals=(WITHHOLD,)),
)


def levelled(
    show: str = "escalation", merge: bool = True, time_zone: str = "Europe/London"
) -> Ruleset:
    """Levels none < routine-recheck < same-day-review < emergency; `raasi-withhold` always."""
    return Ruleset(
        id="levelled",
        version="1.0.0",
        status="draft",
        title="Levelled",
        description="Levels, proposals and a hit policy, by hand",
        content_hash="1" * 64,
        concepts={c.name: c for c in CONCEPTS},
        sites={},
        parameters={},
        rules=RULES,
        levels=LEVELS,
        hit_policy=HitPolicy(show, merge, frozenset({"raasi-withhold"})),  # type: ignore[arg-type]
        time_zone=time_zone,
    )


def without_rules(ruleset: Ruleset, *ids: str) -> Ruleset:
    return replace(ruleset, rules=tuple(r for r in ruleset.rules if r.id not in ids))
