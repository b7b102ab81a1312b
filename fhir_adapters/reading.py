"""Reading FHIR JSON into raw resource dicts: Bundles, single resources, arrays and NDJSON.

Nothing here validates a resource against FHIR; that is `validation`'s job, and only for the
resources a ruleset can use. Input that cannot be read at all raises `FhirInputError` with a
one-line message; a broken entry inside readable input becomes a `DataWarning`.

A file is read within bounds: NDJSON a line at a time, never whole, and a JSON document (which
must be parsed whole) only up to `max_json_size` bytes. Each resource read from a file is kept
packed (`PackedJson`) and parsed again when it is used, so that memory follows the input's
size and not ten times it.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from engine.evaluation import DataWarning

from .errors import FhirInputError
from .jsontext import RepeatedKeyError, loads, told
from .packed import PackedJson

__all__ = [
    "MAX_JSON_SIZE",
    "BundleScope",
    "Input",
    "Loaded",
    "RawResource",
    "load_resources",
    "split_reference",
]

MAX_JSON_SIZE = 256 * 2**20
"""The default bound on one JSON document read from a file (a Bundle, an NDJSON line)."""
_CHUNK = 2**20

_BOM = "\ufeff"
_MAX_BUNDLE_DEPTH = 8
# The tail of an absolute or relative literal reference: Type/id, optionally with a version.
_TYPE_ID = re.compile(r"(?:^|/)([A-Z][A-Za-z]+)/([A-Za-z0-9\-.]{1,64})(?:/_history/[^/]+)?$")

Input = Path | str | bytes | Mapping[str, Any] | Sequence[Any] | int | float | None


class BundleScope:
    """The fullUrls of one Bundle's entries, each with the `Type/id` of the resource it names.

    FHIR resolves a `urn:uuid:` or fullUrl reference within the Bundle that holds it, so every
    Bundle, a nested one too, has its own scope: the same fullUrl in two Bundles (or two files)
    names two different resources, and a reference never reaches into another Bundle.
    """

    __slots__ = ("_targets",)

    def __init__(self) -> None:
        # (reference, content), not the RawResource, which holds this scope: a cycle would
        # leave every call's resources to the cycle collector instead of freeing them at once.
        # The content as held, packed or not: never a parsed copy of a packed resource.
        self._targets: dict[str, list[tuple[str, Mapping[str, Any] | PackedJson]]] = {}

    def define(self, full_url: str, resource: RawResource) -> None:
        targets = self._targets.setdefault(full_url, [])
        if len(targets) > 1:
            return  # already more than one: which resource the fullUrl names cannot be told
        for reference, content in targets:
            if reference != resource.reference:
                continue
            # the same resource again (versions of it too, which FHIR allows) is one target;
            # two resources without an id share their reference, the fullUrl, yet are two
            if reference != full_url or _parsed(content) == resource.data:
                return
        targets.append((resource.reference, resource.content))

    def targets(self, full_url: str) -> tuple[str, ...]:
        """The references of what this Bundle calls `full_url`: nothing, one resource, or (a
        Bundle that breaks FHIR's rule that fullUrls are unique) several, in the order read."""
        return tuple(reference for reference, _ in self._targets.get(full_url, ()))


@dataclass(frozen=True, slots=True)
class RawResource:
    """One resource as read, unvalidated, with where it came from (for messages).

    `content` is the parsed JSON object, or (read from a file) the same packed; `data` is
    the parsed object either way, parsed again on each use when packed: keep it no longer
    than needed. `reference` is `Type/id`; without an id, the Bundle fullUrl, or else where
    it was read. `bundle` is the scope of the Bundle that holds it, where its own references
    resolve.
    """

    content: Mapping[str, Any] | PackedJson
    origin: str  # "labs.json entry 4", "export.ndjson:3"
    full_url: str | None = None
    bundle: BundleScope | None = None
    type: str = field(init=False)
    reference: str = field(init=False)

    def __post_init__(self) -> None:
        # Both are read several times per resource on the hot path: computed once.
        data = self.data
        kind = str(data["resourceType"])
        object.__setattr__(self, "type", kind)
        object.__setattr__(self, "reference", self._reference(data, kind))

    @property
    def data(self) -> Mapping[str, Any]:
        return _parsed(self.content)

    def _reference(self, data: Mapping[str, Any], kind: str) -> str:
        rid = data.get("id")
        if isinstance(rid, str) and rid:
            return f"{kind}/{rid}"
        if self.full_url:
            parts = split_reference(self.full_url)
            return f"{parts[0]}/{parts[1]}" if parts else self.full_url
        return f"{kind} at {self.origin}"


@dataclass(frozen=True, slots=True)
class Loaded:
    """Everything read from one input.

    A Bundle entry's fullUrl (`urn:uuid:...`, absolute URLs) is resolved through the
    `RawResource.bundle` of the resource that refers to it, never across Bundles or inputs.
    """

    origin: str
    resources: tuple[RawResource, ...] = ()
    warnings: tuple[DataWarning, ...] = ()


def load_resources(
    data: Input, *, origin: str | None = None, max_json_size: int = MAX_JSON_SIZE
) -> Loaded:
    """Read a file (`Path`), JSON or NDJSON text, or already parsed JSON.

    Accepts a Bundle of any type (nested Bundles too), a single resource, a JSON array of
    resources, or NDJSON (one resource a line). Raises `FhirInputError` when the input cannot
    be read as FHIR at all, and for a file holding a JSON document (or an NDJSON line) of more
    than `max_json_size` bytes. A file named `.ndjson` is read a line at a time.
    """
    if isinstance(data, Path):
        return _load_file(data, origin or str(data), max_json_size)
    if isinstance(data, bytes):
        name = origin or "<input>"
        return _load_text(_decode(data, name), name)
    if isinstance(data, str):
        return _load_text(data, origin or "<input>")
    collector = _Collector(origin or "<input>")  # parsed JSON
    collector.top_level(data, collector.name)
    return collector.result()


def _packed(value: Mapping[str, Any]) -> Mapping[str, Any] | PackedJson:
    """`value` packed, or kept parsed when it is nested deeper than `json.dumps` writes (orjson
    reads 1,024 levels, more than Python's recursion limit lets json write)."""
    try:
        return PackedJson(value)
    except RecursionError:
        return value


def _parsed(content: Mapping[str, Any] | PackedJson) -> Mapping[str, Any]:
    return content.unpack() if isinstance(content, PackedJson) else content


def split_reference(reference: str) -> tuple[str, str] | None:
    """(type, id) of a relative or absolute literal reference (`Patient/x`, `http://s/Patient/x`)."""
    match = _TYPE_ID.search(reference)
    return (match[1], match[2]) if match else None


def _load_file(path: Path, name: str, limit: int) -> Loaded:
    try:
        with path.open("rb") as file:
            if path.suffix.lower() == ".ndjson":
                return _load_lines(file, name, limit)
            text = _decode(_read_bounded(file, name, limit), name)
    except FileNotFoundError:
        raise FhirInputError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise FhirInputError(f"{name}: is a directory, not a file") from None
    except OSError as error:
        raise FhirInputError(f"{name}: cannot be read ({error.strerror})") from None
    value = _with_packed_entries(text)
    if value is None:  # not one JSON object: read whole, or told what is wrong with it
        return _load_text(text, name, pack=True)
    del text  # read: only the packed entries are kept
    collector = _Collector(name, pack=True)
    collector.top_level(value, name)
    return collector.result()


def _read_bounded(file: BinaryIO, name: str, limit: int) -> bytes:
    """The whole file, at most `limit` bytes; a pipe or device (`/dev/zero`) is read in
    chunks, so that one without end fails at the limit instead of exhausting memory."""
    if stat.S_ISREG(os.fstat(file.fileno()).st_mode):
        if os.fstat(file.fileno()).st_size > limit:
            raise _too_large(name, limit)
        raw = file.read()
    else:
        chunks = bytearray()
        while chunk := file.read(min(_CHUNK, limit + 1 - len(chunks))):
            chunks += chunk
            if len(chunks) > limit:
                break
        raw = bytes(chunks)
    if len(raw) > limit:  # a file that grew while it was read
        raise _too_large(name, limit)
    return raw


def _too_large(where: str, limit: int) -> FhirInputError:
    return FhirInputError(
        f"{where}: a JSON document larger than {_size(limit)} (the limit, --max-json-size)"
        " is not read, as it is parsed whole: split it, or write it as NDJSON (one resource a"
        " line, in a file named .ndjson), which is read a line at a time"
    )


def _size(count: int) -> str:
    if count >= 2**20 and count % 2**20 == 0:
        return f"{count // 2**20} MiB"
    return f"{count:,} bytes"


def _load_lines(file: BinaryIO, name: str, limit: int) -> Loaded:
    """NDJSON read a line at a time: one resource (or Bundle) a line, each kept packed."""
    collector = _Collector(name, pack=True)
    number = 0
    while line := file.readline(limit + 1):
        number += 1
        where = f"{name}:{number}"
        if len(line) > limit:
            raise _too_large(where, limit)
        text = _decode(line, where)
        if not text.strip():
            continue
        try:
            value = _parse(text, where)
        except json.JSONDecodeError as error:
            raise FhirInputError(f"{where}: {_describe(error, text)}") from None
        collector.resource(value, where, top=True)
    return collector.result()


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FhirInputError(
            f"{name}: not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start})"
        ) from None


def _load_text(text: str, name: str, *, pack: bool = False) -> Loaded:
    """JSON text: one document, or else NDJSON (read whole, as the text is held anyway)."""
    text = text.removeprefix(_BOM)
    if not text.strip():
        raise FhirInputError(f"{name}: empty, expected FHIR JSON")
    collector = _Collector(name, pack=pack)
    try:
        value = _parse(text, name)
    except json.JSONDecodeError as error:
        # "Extra data": a first JSON value parsed and more followed, i.e. NDJSON.
        if not error.msg.startswith("Extra data"):
            raise FhirInputError(f"{name}: {_describe(error, text)}") from None
    else:
        collector.top_level(value, name)
        return collector.result()
    # lines as NDJSON (and `_load_lines`) ends them: splitlines() would also end one at a
    # U+2028 or U+0085, which a JSON string may hold as it is
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            value = _parse(line.removeprefix(_BOM), where)
        except json.JSONDecodeError as error:
            raise FhirInputError(f"{where}: {_describe(error, line)}") from None
        collector.resource(value, where, top=True)
    return collector.result()


# Reads JSON as `_parse` does (json.loads is this decoder's `decode`, and `told` looks for
# repeated keys as `loads` does): a change to how `_parse` reads values belongs here too. A
# repeated key of the document's own object, or outside any resource, falls back to `_parse`.
_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def _with_packed_entries(text: str) -> dict[str, Any] | None:
    """The JSON object `text` is, a Bundle's `entry` items packed as each is parsed, so that
    the parsed document is never held whole; None when the text is not one JSON object."""
    try:
        found = _object(text, _after_space(text, 0))
    except (ValueError, RecursionError, IndexError):  # JSONDecodeError is a ValueError
        return None
    if found is None or found[1] != len(text):
        return None  # more after it: NDJSON
    value, _, entry_repeats = found
    if value.get("resourceType") != "Bundle" and isinstance(value.get("entry"), list):
        if entry_repeats:
            return None  # the outermost resource, this one, repeats a key: `_parse` marks it
        value["entry"] = [e.unpack() if isinstance(e, PackedJson) else e for e in value["entry"]]
    return value


def _object(text: str, at: int) -> tuple[dict[str, Any], int, bool] | None:
    """The JSON object at `at`, where the text after it (and its spaces) ends, and whether an
    item of its `entry` repeats a key; None when a key repeats anywhere else."""
    if text[at] != "{":
        return None
    value: dict[str, Any] = {}
    entry_repeats = False
    at = _after_space(text, at + 1)
    if text[at] == "}":
        return value, _after_space(text, at + 1), entry_repeats
    while True:
        key, at = _DECODER.raw_decode(text, at)
        at = _after_space(text, at)
        if not isinstance(key, str) or text[at] != ":" or key in value:
            return None
        at = _after_space(text, at + 1)
        if key == "entry" and text[at] == "[":
            value[key], at, entry_repeats = _packed_items(text, at)
        else:
            value[key], at, repeated = _value_at(text, at)
            if repeated:
                # told within this value alone, a resource nested in it is marked, not the
                # document's own resource that holds it: `_parse` reads the whole text
                return None
        at = _after_space(text, at)
        if text[at] == "}":
            return value, _after_space(text, at + 1), entry_repeats
        if text[at] != ",":
            return None
        at = _after_space(text, at + 1)


def _packed_items(text: str, at: int) -> tuple[list[Any], int, bool]:
    """The JSON array at `at`, each object in it packed once parsed, where it ends, and whether
    an item repeats a key."""
    items: list[Any] = []
    any_repeated = False
    at = _after_space(text, at + 1)
    if text[at] == "]":
        return items, at + 1, any_repeated
    while True:
        item, at, repeated = _value_at(text, at)
        any_repeated = any_repeated or repeated
        # packed text cannot keep a resource marked deeper inside an entry: keep it parsed
        items.append(PackedJson(item) if isinstance(item, dict) and not repeated else item)
        at = _after_space(text, at)
        if text[at] == "]":
            return items, at + 1, any_repeated
        if text[at] != ",":
            raise ValueError("not a JSON array")
        at = _after_space(text, at + 1)


def _value_at(text: str, at: int) -> tuple[Any, int, bool]:
    """The JSON value at `at` with its repeated keys told, where it ends, and whether any was."""
    value, end = _DECODER.raw_decode(text, at)
    value, repeated = told(text[at:end], value)
    return value, end, repeated


def _after_space(text: str, at: int) -> int:
    space = _SPACE.match(text, at)
    return space.end() if space else at


def _parse(text: str, where: str) -> Any:
    try:
        return loads(text)
    except RecursionError:
        raise json.JSONDecodeError("JSON nested too deeply", text, 0) from None
    except json.JSONDecodeError:
        raise
    except RepeatedKeyError as error:  # outside any resource: no resource can be left out
        raise FhirInputError(f"{where}: {error}") from None
    except ValueError as error:  # a number too long to read
        raise FhirInputError(f"{where}: not valid JSON: {error}") from None


def _describe(error: json.JSONDecodeError, text: str) -> str:
    if error.pos >= len(text.rstrip()):
        return f"not valid JSON: it ends early at line {error.lineno} (truncated?)"
    return f"not valid JSON: {error.msg} at line {error.lineno} column {error.colno}"


def _kind(value: object) -> str:
    if isinstance(value, Mapping):
        return "a JSON object without a resourceType"
    if isinstance(value, list | tuple):
        return "a JSON array"
    if value is None:
        return "null"
    return f"a JSON {type(value).__name__}"


def _resource_type(value: object) -> str | None:
    if isinstance(value, Mapping):
        kind = value.get("resourceType")
        if isinstance(kind, str) and kind:
            return kind
    return None


class _Collector:
    def __init__(self, name: str, *, pack: bool = False) -> None:
        self.name = name
        self.pack = pack  # keep each resource packed: read from a file, of any size
        self.resources: list[RawResource] = []
        self.warnings: list[DataWarning] = []

    def result(self) -> Loaded:
        return Loaded(self.name, tuple(self.resources), tuple(self.warnings))

    def top_level(self, value: object, where: str) -> None:
        if isinstance(value, Sequence) and not isinstance(value, str | bytes):
            for index, item in enumerate(value):
                self.resource(item, f"{where} item {index}", top=True)
        else:
            self.resource(value, where, top=True)

    def resource(
        self,
        value: object,
        where: str,
        *,
        top: bool,
        full_url: str | None = None,
        scope: BundleScope | None = None,
        depth: int = 0,
    ) -> None:
        """Take one resource; not FHIR is an input error at the top level, a warning inside."""
        kind = _resource_type(value)
        if kind is None or not isinstance(value, Mapping):
            if top:
                raise FhirInputError(f"{where}: JSON but not FHIR: {_kind(value)}")
            self.warnings.append(DataWarning(f"not a FHIR resource ({_kind(value)})", where))
            return
        if kind == "Bundle":
            self.bundle(value, where, depth)
            return
        raw = RawResource(_packed(value) if self.pack else value, where, full_url, scope)
        self.resources.append(raw)
        if full_url and scope is not None:
            scope.define(full_url, raw)

    def bundle(self, bundle: Mapping[str, Any], where: str, depth: int) -> None:
        if depth >= _MAX_BUNDLE_DEPTH:
            self.warnings.append(DataWarning("Bundles nested too deeply; skipped", where))
            return
        entries = bundle.get("entry", [])
        if not isinstance(entries, list):
            self.warnings.append(DataWarning("Bundle.entry is not a list; skipped", where))
            return
        scope = BundleScope()
        for index, item in enumerate(entries):
            entry = item.unpack() if isinstance(item, PackedJson) else item
            at = f"{where} entry {index}"
            if not isinstance(entry, Mapping):
                self.warnings.append(DataWarning("Bundle entry is not a JSON object", at))
                continue
            if "resource" not in entry:
                continue  # a transaction's DELETE, a search's outcome-less entry: nothing to read
            full_url = entry.get("fullUrl")
            self.resource(
                entry["resource"],
                at,
                top=False,
                full_url=full_url if isinstance(full_url, str) and full_url else None,
                scope=scope,
                depth=depth + 1,
            )
