"""What an EHR's search for a CDS Hooks prefetch template would find, for tests and benchmarks
that play the EHR: a resource of the template's type whose own code (or an Encounter's type)
is among the searched codes; a search by no code (a patient's medicines) finds every one."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs


def codes_of(resource: dict[str, Any]) -> set[tuple[str, str]]:
    """The (system, code) pairs of a resource's code and, for an Encounter, its types."""
    concepts = [resource.get("code", {}), *resource.get("type", [])]
    return {(c.get("system"), c.get("code")) for cc in concepts for c in cc.get("coding", [])}


def matches(template: str, resource: dict[str, Any]) -> bool:
    """Whether the search `template` (`Observation?...&combo-code=s|c,...`) finds `resource`
    (components are not searched: these patients' results have none)."""
    kind, _, query = template.partition("?")
    if resource["resourceType"] != kind:
        return False
    params = parse_qs(query)
    searched = params.get("code") or params.get("combo-code") or params.get("type")
    if not searched:
        return True
    wanted = {tuple(t.split("|", 1)) for t in searched[0].split(",")}
    return bool(codes_of(resource) & wanted)
