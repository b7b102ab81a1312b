"""The markers a result carries (`haemolysed`), per its concept's `Marker` definitions.

A result carries a marker when its `interpretation` has one of the marker's interpretation
codes, the Specimen it references has one of its condition codes, or a sentence of one of its
notes matches the marker's `note` pattern and not its `negation` pattern (case-insensitive).
Sentences are the pieces of a note split at `.`, `;`, `!`, `?` and line breaks. Codes are
compared on system and code only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import cache

from engine.model import Concept, Marker

from .concept_codes import matches

__all__ = ["markers", "sentences"]

Codings = Sequence[tuple[object, object]]

_SENTENCE_END = re.compile(r"[.;!?\r\n]+")


def sentences(text: str) -> list[str]:
    """The non-blank sentences of a note."""
    return [piece.strip() for piece in _SENTENCE_END.split(text) if piece.strip()]


def markers(
    concept: Concept,
    interpretations: Codings,
    specimen_conditions: Codings,
    notes: Iterable[str],
) -> frozenset[str]:
    """The names of the concept's markers a result with these codes and notes carries."""
    if not concept.markers:
        return frozenset()
    pieces = [sentence for note in notes for sentence in sentences(note)]
    return frozenset(
        marker.name
        for marker in concept.markers
        if matches(interpretations, marker.interpretations) is not None
        or matches(specimen_conditions, marker.specimen_conditions) is not None
        or any(_noted(marker, sentence) for sentence in pieces)
    )


def _noted(marker: Marker, sentence: str) -> bool:
    if marker.note is None or not _pattern(marker.note).search(sentence):
        return False
    return marker.negation is None or not _pattern(marker.negation).search(sentence)


@cache
def _pattern(text: str) -> re.Pattern[str]:
    # the loader checks each pattern compiles; a ruleset built by hand is trusted alike
    return re.compile(text, re.IGNORECASE)
