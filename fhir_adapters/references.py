"""Resolving a literal reference to another resource of the input, as FHIR does.

A reference written as a Bundle entry's fullUrl (`urn:uuid:...`, an absolute URL) names that
entry in the Bundle that holds the reference, never in another Bundle; one written `Type/id`
(relative or absolute) names the resource with that type and id anywhere in the input. A
reference its Bundle gives to several entries names none. A contained reference (`#id`) is
the holder's own business and is not resolved here.
"""

from __future__ import annotations

from collections.abc import Iterable

from .reading import RawResource, split_reference

__all__ = ["ResourceIndex"]


class ResourceIndex:
    """The resources of some types in an input, found by the references that name them."""

    def __init__(self, resources: Iterable[RawResource], types: frozenset[str]) -> None:
        self._found: dict[tuple[str, int], RawResource] = {}
        for raw in resources:
            if raw.type in types:
                # the first copy of a resource read twice: copies are told apart elsewhere
                self._found.setdefault(_key(raw.reference, raw), raw)

    def resolve(self, holder: RawResource, text: str) -> RawResource | None:
        """The resource `text`, a reference in `holder`, names; None when it names nothing
        here (or several resources)."""
        targets = holder.bundle.targets(text) if holder.bundle is not None else ()
        if len(targets) > 1:
            return None
        if targets and holder.bundle is not None:
            # an entry without an id is known by its fullUrl within this Bundle only
            found = self._found.get((targets[0], id(holder.bundle)))
            return found or self._found.get((targets[0], 0))
        parts = split_reference(text)
        return self._found.get((f"{parts[0]}/{parts[1]}", 0)) if parts else None


def _key(reference: str, raw: RawResource) -> tuple[str, int]:
    # a resource without an id is known by its fullUrl, which names it in its own Bundle only
    if reference == raw.full_url and raw.bundle is not None:
        return reference, id(raw.bundle)
    return reference, 0
