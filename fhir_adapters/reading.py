"""Reading FHIR JSON into raw resource dicts: Bundles, single resources, arrays and NDJSON.

Nothing here validates a resource against FHIR; that is `validation`'s job, and only for the
resources a ruleset can use. Input that cannot be read at all raises `FhirInputError` with a
one-line message; a broken entry inside readable input becomes a `DataWarning`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engine.evaluation import DataWarning

from .errors import FhirInputError
from .jsontext import RepeatedKeyError, loads

__all__ = ["BundleScope", "Input", "Loaded", "RawResource", "load_resources", "split_reference"]

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
        # leave every call's resources to the cycle collector instead of freeing them at once
        self._targets: dict[str, list[tuple[str, Mapping[str, Any]]]] = {}

    def define(self, full_url: str, resource: RawResource) -> None:
        targets = self._targets.setdefault(full_url, [])
        if len(targets) > 1:
            return  # already more than one: which resource the fullUrl names cannot be told
        for reference, data in targets:
            if reference != resource.reference:
                continue
            # the same resource again (versions of it too, which FHIR allows) is one target;
            # two resources without an id share their reference, the fullUrl, yet are two
            if reference != full_url or data == resource.data:
                return
        targets.append((resource.reference, resource.data))

    def targets(self, full_url: str) -> tuple[str, ...]:
        """The references of what this Bundle calls `full_url`: nothing, one resource, or (a
        Bundle that breaks FHIR's rule that fullUrls are unique) several, in the order read."""
        return tuple(reference for reference, _ in self._targets.get(full_url, ()))


@dataclass(frozen=True, slots=True)
class RawResource:
    """One resource as read, unvalidated, with where it came from (for messages).

    `reference` is `Type/id`; without an id, the Bundle fullUrl, or else where it was read.
    `bundle` is the scope of the Bundle that holds it, where its own references resolve.
    """

    data: Mapping[str, Any]
    origin: str  # "labs.json entry 4", "export.ndjson:3"
    full_url: str | None = None
    bundle: BundleScope | None = None
    type: str = field(init=False)
    reference: str = field(init=False)

    def __post_init__(self) -> None:
        # Both are read several times per resource on the hot path: computed once.
        kind = str(self.data["resourceType"])
        object.__setattr__(self, "type", kind)
        object.__setattr__(self, "reference", self._reference(kind))

    def _reference(self, kind: str) -> str:
        rid = self.data.get("id")
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


def load_resources(data: Input, *, origin: str | None = None) -> Loaded:
    """Read a file (`Path`), JSON or NDJSON text, or already parsed JSON.

    Accepts a Bundle of any type (nested Bundles too), a single resource, a JSON array of
    resources, or NDJSON (one resource a line). Raises `FhirInputError` when the input cannot
    be read as FHIR at all.
    """
    if isinstance(data, Path):
        name = origin or str(data)
        return _load_text(_read_file(data, name), name, ndjson=data.suffix.lower() == ".ndjson")
    if isinstance(data, bytes):
        name = origin or "<input>"
        return _load_text(_decode(data, name), name, ndjson=False)
    if isinstance(data, str):
        return _load_text(data, origin or "<input>", ndjson=False)
    collector = _Collector(origin or "<input>")  # parsed JSON
    collector.top_level(data, collector.name)
    return collector.result()


def split_reference(reference: str) -> tuple[str, str] | None:
    """(type, id) of a relative or absolute literal reference (`Patient/x`, `http://s/Patient/x`)."""
    match = _TYPE_ID.search(reference)
    return (match[1], match[2]) if match else None


def _read_file(path: Path, name: str) -> str:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise FhirInputError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise FhirInputError(f"{name}: is a directory, not a file") from None
    except OSError as error:
        raise FhirInputError(f"{name}: cannot be read ({error.strerror})") from None
    return _decode(raw, name)


def _decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise FhirInputError(
            f"{name}: not UTF-8 text (byte 0x{raw[error.start]:02x} at offset {error.start})"
        ) from None


def _load_text(text: str, name: str, *, ndjson: bool) -> Loaded:
    text = text.removeprefix(_BOM)
    if not text.strip():
        if ndjson:
            return Loaded(origin=name)
        raise FhirInputError(f"{name}: empty, expected FHIR JSON")
    collector = _Collector(name)
    if not ndjson:
        try:
            value = _parse(text, name)
        except json.JSONDecodeError as error:
            # "Extra data": a first JSON value parsed and more followed, i.e. NDJSON.
            if not error.msg.startswith("Extra data"):
                raise FhirInputError(f"{name}: {_describe(error, text)}") from None
            ndjson = True
        else:
            collector.top_level(value, name)
            return collector.result()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{name}:{number}"
        try:
            value = _parse(line.removeprefix(_BOM), where)
        except json.JSONDecodeError as error:
            raise FhirInputError(f"{where}: {_describe(error, line)}") from None
        collector.resource(value, where, top=True)
    return collector.result()


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
    def __init__(self, name: str) -> None:
        self.name = name
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
        raw = RawResource(value, where, full_url, scope)
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
        for index, entry in enumerate(entries):
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
