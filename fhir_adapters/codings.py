"""Reading codes from a resource's CodeableConcepts: the concepts they mean, body sites,
status codes. Codes are matched on system and code, never display text.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from fhir.resources.R4B.codeableconcept import CodeableConcept

from engine.model import Ruleset

from .concept_codes import Matched, concepts_for
from .fhir_times import Warn

__all__ = [
    "has_code",
    "meant",
    "pairs",
    "site",
    "sites",
    "status_code",
]


def pairs(*concepts: CodeableConcept | None) -> list[tuple[object, object]]:
    """(system, code) of every coding of the CodeableConcepts, in order."""
    return [
        (coding.system, coding.code)
        for concept in concepts
        if concept is not None
        for coding in concept.coding or []
    ]


def meant(
    ruleset: Ruleset, resource_type: str, codings: Sequence[tuple[object, object]], warn: Warn
) -> list[Matched]:
    """The concepts a code means; none, with a warning, when its codings mean different
    concepts that no one coding means together (the resource is then left out)."""
    found = concepts_for(ruleset, resource_type, codings)
    if len(found) < 2:
        return found
    # Codings of one code are translations of one meaning: two concepts contradict each other
    # (a value cannot be both a potassium and a magnesium), unless one coding means both (a
    # code in two concepts of different kinds, or in a value set)
    names = {m.concept.name for m in found}
    for coding in codings:
        if {m.concept.name for m in concepts_for(ruleset, resource_type, [coding])} == names:
            return found
    named = ", ".join(m.concept.label for m in found)
    warn(f"code has codings of different concepts ({named}): left out")
    return []


def site(body_site: CodeableConcept | None, ruleset: Ruleset) -> str | None:
    """One body site as `system#code`: a coding the ruleset names if any, else the first."""
    # a coding is a site only as a code the engine can read: an absolute system, a code without
    # spaces (engine.parse_code); a bodySite coded otherwise names no site a ruleset could name
    codings = [
        c
        for c in (body_site.coding if body_site and body_site.coding else [])
        if c.system and c.code and ":" in c.system and " " not in c.code
    ]
    for coding in codings:
        assert coding.system is not None and coding.code is not None
        if ruleset.site_for(coding.system, coding.code) is not None:
            return f"{coding.system}#{coding.code}"
    return f"{codings[0].system}#{codings[0].code}" if codings else None


def sites(body_sites: Iterable[CodeableConcept] | None, ruleset: Ruleset) -> list[str | None]:
    found: list[str | None] = []
    for body_site in body_sites or []:
        one = site(body_site, ruleset)
        if one is not None and one not in found:
            found.append(one)
    return found


def has_code(concepts: Iterable[CodeableConcept] | None, system: str | None, code: str) -> bool:
    """Whether any coding has `code` (in `system`, when given)."""
    return any(
        coding.code == code and (system is None or coding.system == system)
        for concept in concepts or []
        for coding in concept.coding or []
    )


def status_code(status: CodeableConcept | None) -> str | None:
    for coding in (status.coding or []) if status is not None else []:
        if coding.code:
            return coding.code
    return None
