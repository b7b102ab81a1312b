"""Resolving a resource's reference to another resource within the input, unvalidated.

A reference is resolved as FHIR resolves it: `#id` among the holder's `contained` resources;
a fullUrl (`urn:uuid:...`) within the Bundle that holds the holder; a literal `Type/id`
(relative or absolute) among every resource read. `Resolve` answers the referenced resource's
JSON, or why it cannot be told: not in the input, of another type, or several resources with
different content under that name.

What a resource means may then depend on another (an Observation on its Specimen, a
MedicationRequest or MedicationStatement on the Medication its `medicationReference` names), so
`refers_outside` tells which resources must be read afresh rather than from a cache kept by
their own content. `Referents.resource` gives the referenced resource as read, for a caller that
validates it as a resource of its own (a Medication, whose faults are reported under its name).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .reading import RawResource, split_reference

__all__ = ["REFERENCED_TYPES", "RESOLVED_ELEMENTS", "Referents", "Resolve", "refers_outside"]

# (resource type, element) whose references records are read through, and the types they name
RESOLVED_ELEMENTS: tuple[tuple[str, str], ...] = (
    ("Observation", "specimen"),
    ("MedicationRequest", "medicationReference"),
    ("MedicationStatement", "medicationReference"),
)
REFERENCED_TYPES = frozenset({"Specimen", "Medication"})

Resolved = tuple[Mapping[str, Any] | None, str | None]
Resolve = Callable[[str, str], Resolved]  # (reference, expected type) -> (JSON, problem)


class Referents:
    """The input's resources of the types some reference is resolved to, by reference."""

    def __init__(self, resources: Iterable[RawResource], types: frozenset[str]) -> None:
        self._by_reference: dict[str, list[RawResource]] = {}
        for raw in resources:
            if raw.type in types:
                self._by_reference.setdefault(raw.reference, []).append(raw)

    def resolver(self, holder: RawResource) -> Resolve:
        """`Resolve` for the references written in `holder`."""

        def resolve(reference: str, kind: str) -> Resolved:
            return self.resolve(holder, reference, kind)

        return resolve

    def resolve(self, holder: RawResource, reference: str, kind: str) -> Resolved:
        if reference.startswith("#"):
            return _contained(holder.data, reference, kind)
        found, problem = self.resource(holder, reference, kind)
        return (found.data if found is not None else None), problem

    def resource(
        self, holder: RawResource, reference: str, kind: str
    ) -> tuple[RawResource | None, str | None]:
        """The resource outside `holder` that `reference`, written in it, names (a contained
        `#id` is not one), or why none can be told."""
        if reference.startswith("#"):
            return None, f"{reference} is a contained resource"
        targets = holder.bundle.targets(reference) if holder.bundle is not None else ()
        if len(targets) > 1:
            return None, f"{reference} is the fullUrl of several resources in one Bundle"
        if targets:
            target = targets[0]
        else:
            parts = split_reference(reference)
            if parts is None:
                return None, f"{reference} is not in the input"
            target = f"{parts[0]}/{parts[1]}"
        parts = split_reference(target)
        if parts is not None and parts[0] != kind:
            return None, f"{reference} is a {parts[0]}, not a {kind}"
        found = [
            raw
            for raw in self._by_reference.get(target, ())
            # a resource without an id is known by its fullUrl only in its own Bundle
            if raw.reference != raw.full_url or raw.bundle is holder.bundle
        ]
        contents = [raw.data for raw in found]
        if not contents:
            return None, f"{reference} is not in the input"
        if any(content != contents[0] for content in contents[1:]):
            return None, f"{reference} is read twice with different content"
        if contents[0].get("resourceType") != kind:
            return None, f"{reference} is not a {kind}"
        return found[0], None


def _contained(data: Mapping[str, Any], reference: str, kind: str) -> Resolved:
    contained = data.get("contained")
    found = [
        item
        for item in (contained if isinstance(contained, list) else [])
        if isinstance(item, Mapping) and item.get("id") == reference[1:]
    ]
    if len(found) != 1:
        problem = "is not a contained resource" if not found else "names several contained ones"
        return None, f"{reference} {problem}"
    if found[0].get("resourceType") != kind:
        return None, f"{reference} is not a {kind}"
    return found[0], None


def refers_outside(raw: RawResource) -> bool:
    """Whether reading `raw` resolves a reference to a resource outside it."""
    for kind, element in RESOLVED_ELEMENTS:
        if raw.type != kind:
            continue
        value = raw.data.get(element)
        text = value.get("reference") if isinstance(value, Mapping) else None
        if isinstance(text, str) and not text.startswith("#"):
            return True
    return False
