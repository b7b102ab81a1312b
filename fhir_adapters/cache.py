"""Resources already read, kept by content, so a resource sent again is not validated again.

An EHR sends the same prefetch each time a chart is opened. Validation with fhir.resources is
the dominant cost of a CDS Hooks call, and its result depends on nothing but the resource's
content and the ruleset: a resource met before with exactly the same content reuses what
validating and normalising it gave. Nothing is skipped: every distinct resource is still
validated; one met again is served from the cache from its third time on, while it stays in
(`admission`: a resource is kept the second time it is met, so that a patient seen once does
not cost later calls a collector walking its entries). A new resource is validated with the
cache's `elements`, which keeps the nested elements (codings, references, ranges) already
validated.
"""

from __future__ import annotations

import hashlib
import marshal
import pickle
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from engine.evaluation import DataWarning
from engine.model import Ruleset
from engine.records import Record

from .admission import SeenOnce
from .elements import ValidatedElements
from .reading import RawResource


@dataclass(frozen=True, slots=True)
class Interpreted:
    """What a resource gave: whether it validated, its records and the warnings about it."""

    valid: bool
    records: tuple[Record, ...]
    warnings: tuple[DataWarning, ...]


class ResourceCache:
    """A bounded, thread-safe map from (ruleset, reference, content) to `Interpreted`, for the
    resources met at least twice, and the nested elements validated so far."""

    def __init__(self, size: int = 5_000, elements: ValidatedElements | None = None) -> None:
        self.size = size
        self.elements = elements if elements is not None else ValidatedElements()
        self.hits = 0
        self.misses = 0
        self._entries: OrderedDict[bytes, Interpreted] = OrderedDict()
        self._seen = SeenOnce(size * 4)
        self._lock = threading.Lock()

    def get_or_read(
        self, raw: RawResource, ruleset: Ruleset, read: Callable[[], Interpreted]
    ) -> Interpreted:
        key = _key(raw, ruleset)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        value = read()
        with self._lock:
            if not self._seen.again(key):
                return value
            self._entries[key] = value
            if len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._entries)


def _key(raw: RawResource, ruleset: Ruleset) -> bytes:
    digest = hashlib.blake2b(digest_size=20)
    digest.update(ruleset.content_hash.encode())
    # an id is the request's text: a lone surrogate in it is a key like any other, not an error
    digest.update(b"\0" + raw.reference.encode("utf-8", "surrogatepass") + b"\0")
    # marshal and pickle are exact encodings of JSON-shaped data (marshal twice as fast, pickle
    # for a caller's own Mapping types); equal content encoded differently (other key order,
    # other sharing) only misses the cache
    try:
        digest.update(marshal.dumps(cast(Any, raw.data)))
    except ValueError:
        digest.update(pickle.dumps(raw.data, protocol=5))
    return digest.digest()
