"""Codes written compactly (`loinc#2823-3`) and the code systems they stand for."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import ArgumentError, CodeError

LOCAL_SYSTEM = "https://vigil-cds.org/fhir/CodeSystem/vigil"

DEFAULT_SYSTEMS: dict[str, str] = {
    "loinc": "http://loinc.org",
    "sct": "http://snomed.info/sct",
    "ucum": "http://unitsofmeasure.org",
    "vigil": LOCAL_SYSTEM,
    "rxnorm": "http://www.nlm.nih.gov/research/umls/rxnorm",
    "atc": "http://www.whocc.no/atc",
    "dmd": "https://dmd.nhs.uk",
    "v2-0493": "http://terminology.hl7.org/CodeSystem/v2-0493",
}

# other URIs in use for a system above: read as it (dm+d codes also come under the SNOMED URI,
# which is the same code space, so they need no alias)
SYSTEM_ALIASES: dict[str, str] = {
    "http://hl7.org/fhir/v2/0493": "http://terminology.hl7.org/CodeSystem/v2-0493",
}


@dataclass(frozen=True, slots=True, order=True)
class Code:
    """A coding; its `display` is words for people, never part of what the code is: codes
    compare, sort and hash on system and code alone."""

    system: str
    code: str
    display: str | None = field(default=None, compare=False)

    @property
    def key(self) -> tuple[str, str]:
        """Identity for matching: system and code only, never the display text."""
        return (self.system, self.code)

    def compact(self, systems: dict[str, str] | None = None) -> str:
        for prefix, url in (systems or DEFAULT_SYSTEMS).items():
            if url == self.system:
                return f"{prefix}#{self.code}"
        return f"{self.system}#{self.code}"


def parse_code(text: str, systems: Mapping[str, str] | None = None) -> Code:
    """Read `prefix#code` (or `system-url#code`); raise `CodeError` naming what is wrong."""
    if not isinstance(text, str):
        raise ArgumentError(f"a code is text such as 'loinc#2823-3', not {type(text).__name__}")
    if systems is not None and not isinstance(systems, Mapping):
        kind = type(systems).__name__
        raise ArgumentError(f"code systems are a mapping of prefix to URI, not {kind}")
    known = systems or DEFAULT_SYSTEMS
    prefix, sep, code = text.strip().partition("#")
    if not sep or not prefix or not code or " " in code:
        raise CodeError(f"{text!r} is not a code; write it as system#code, e.g. loinc#2823-3")
    if prefix in known:
        return Code(known[prefix], code)
    if ":" in prefix:
        return Code(prefix, code)
    raise CodeError(f"unknown code system {prefix!r} in {text!r}; known: {', '.join(known)}")
