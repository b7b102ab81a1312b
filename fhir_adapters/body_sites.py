"""A resource's body sites with their laterality, as engine records carry them.

A `bodySite` CodeableConcept names its site by a coding (`codings.site`) and may carry the
mCODE laterality qualifier extension, whose SNOMED valueCodeableConcept says left (7771000),
right (24028007) or both (51440002: left and right). A qualifier Vigil cannot read is a
warning, and the side is then unknown. A site code that names its side (left lower limb) is
placed by the ruleset, whose side wins (engine.regions).
"""

from __future__ import annotations

from collections.abc import Iterable

from fhir.resources.R4B.codeableconcept import CodeableConcept

from engine.model import Ruleset

from .codings import site
from .fhir_times import Warn

__all__ = ["LATERALITY_URL", "body_site", "body_sites"]

LATERALITY_URL = "http://hl7.org/fhir/us/mcode/StructureDefinition/mcode-laterality-qualifier"
_SNOMED = "http://snomed.info/sct"
_SIDES: dict[str, frozenset[str]] = {
    "7771000": frozenset({"left"}),
    "24028007": frozenset({"right"}),
    "51440002": frozenset({"left", "right"}),
}

Placed = tuple[str | None, frozenset[str]]  # a site as `system#code`, and its sides


def body_site(concept: CodeableConcept | None, ruleset: Ruleset, warn: Warn) -> Placed:
    """The site one bodySite names, and the sides its laterality qualifier states."""
    return site(concept, ruleset), _laterality(concept, warn)


def body_sites(
    concepts: Iterable[CodeableConcept] | None, ruleset: Ruleset, warn: Warn
) -> list[Placed]:
    """Each distinct (site, sides) of a resource's bodySite list, in order."""
    found: list[Placed] = []
    for concept in concepts or []:
        placed = body_site(concept, ruleset, warn)
        if placed[0] is not None and placed not in found:
            found.append(placed)
    return found


def _laterality(concept: CodeableConcept | None, warn: Warn) -> frozenset[str]:
    sides: set[str] = set()
    for extension in (concept.extension or []) if concept is not None else []:
        if extension.url != LATERALITY_URL:
            continue
        value = extension.valueCodeableConcept
        codes = [
            coding.code
            for coding in ((value.coding or []) if value is not None else [])
            if coding.system == _SNOMED and coding.code in _SIDES
        ]
        if not codes:
            warn("bodySite laterality is not SNOMED left, right or both: side unknown")
            continue
        for code in codes:
            sides |= _SIDES[code]
    return frozenset(sides)
