"""FHIR input to per-patient engine records: read, pick what the ruleset uses, validate,
group by patient, normalise.

Resources are grouped through `subject` (or `patient`) references, written relative
(`Patient/x`), absolute (`https://host/fhir/Patient/x`) or as a Bundle's `urn:uuid:`
fullUrl, which names a resource only in the Bundle that holds the reference (two Bundles may
use the same fullUrl for two patients). A resource whose Bundle gives its subject's fullUrl to
more than one resource is left out with a warning. A Patient without an id is known by its
fullUrl, which is its name in the results: when two Bundles (or one) give the same fullUrl to two
such Patients, their data is left out with a warning, as the results could not tell them apart.
A resource read twice with different content (versions of it, or two exports) is read once,
with a warning: the newest copy by `meta.versionId` when every copy has one, then (among the
newest) by `meta.lastUpdated` when every copy has one; of differing copies left equal, or that
nothing orders, the first the ruleset reads. A newest version the ruleset does not read (its
code corrected to another) leaves the older ones out; an equal version is no newer.
A resource of one patient never reaches another's records. Warnings that belong to no patient
(unreadable entries, resources without a patient) are returned on the batch.

References to other resources are resolved within the input by `references.Referents`: an
Observation's Specimen, and a medicine's `medicationReference`, whose Medication is validated as
a resource of its own (its faults named under its reference) and read with the medicine. A
resource that refers outside itself is not served from the cache, as what it gives depends on
the resource it references too (`refers_outside`). A Patient is read only for a ruleset with
demographic concepts; a patient without a Patient resource is then warned about when the
ruleset has an age.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from fhir.resources.R4B.resource import Resource

from engine.evaluation import DataWarning
from engine.model import Ruleset
from engine.records import Record

from .cache import Interpreted, ResourceCache
from .demographics import AGE_UNKNOWN, age_concepts, demographic_concepts
from .elements import ValidatedElements
from .medications import medication_reference
from .normalise import records_for
from .reading import Input, Loaded, RawResource, load_resources, split_reference
from .references import REFERENCED_TYPES, Referents, refers_outside
from .validation import is_used, unread_warnings, validate

__all__ = ["PatientBatch", "PatientData", "patient_of", "patient_records"]

_SUBJECT_KEYS = ("subject", "patient")
_EARLIEST = datetime.min.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PatientData:
    """One patient's records and the warnings about their data."""

    patient: str  # "Patient/<id>"
    records: tuple[Record, ...] = ()
    warnings: tuple[DataWarning, ...] = ()


@dataclass(frozen=True, slots=True)
class PatientBatch:
    """Every patient found, sorted by reference, and the warnings that belong to none."""

    patients: tuple[PatientData, ...] = ()
    warnings: tuple[DataWarning, ...] = ()

    def get(self, patient: str) -> PatientData | None:
        return next((p for p in self.patients if p.patient == patient), None)


@dataclass
class _Patient:
    records: list[Record] = field(default_factory=list)
    warnings: list[DataWarning] = field(default_factory=list)


def patient_records(
    data: Loaded | Input, ruleset: Ruleset, cache: ResourceCache | None = None
) -> PatientBatch:
    """Read FHIR input (see `load_resources`) into each patient's records for `ruleset`;
    with a `cache`, a resource read before with the same content is not validated again."""
    loaded = data if isinstance(data, Loaded) else load_resources(data)
    elements = cache.elements if cache is not None else ValidatedElements(keep_first_met=True)
    patients: dict[str, _Patient] = {}
    unowned: list[DataWarning] = list(loaded.warnings)
    known = frozenset(r.reference for r in loaded.resources if r.type == "Patient")
    reused = _reused_patient_urls(loaded.resources)
    unowned.extend(
        DataWarning(
            f"Patients without an id in {len(origins)} Bundles share this fullUrl"
            f" ({', '.join(origins)}): which one a reference means cannot be told in the"
            " results, so their data is left out",
            reference,
        )
        for reference, origins in reused.items()
    )

    referents = Referents(loaded.resources, REFERENCED_TYPES)
    demographic = bool(demographic_concepts(ruleset))
    used: list[RawResource] = []
    for raw in loaded.resources:
        if is_used(raw, ruleset):
            used.append(raw)
        else:
            _report_unread(raw, ruleset, known, reused, patients, unowned)
    # Versions are ordered among every copy: a newer one the ruleset does not read (its code
    # corrected) still supersedes the older. Copies nothing orders apart: the first one used.
    copies = _copies(loaded.resources)
    read_ids = {id(raw) for raw in used} if copies else set()
    chosen = {key: _chosen(found, read_ids) for key, found in copies.items()}

    for raw in used:
        reference = raw.reference
        if chosen and not _is_chosen(raw, chosen, copies, read_ids, known, unowned):
            continue
        if raw.type == "Patient":
            # Without demographic concepts rules read nothing from a Patient but its id: it only
            # makes the patient known, so it is not validated (the most expensive resource to
            # validate, for nothing).
            if reference not in reused and not _reused_in_its_bundle(raw):
                bucket = patients.setdefault(reference, _Patient())
                if demographic:
                    read = _interpreter(raw, ruleset, elements, referents)
                    result = read() if cache is None else cache.get_or_read(raw, ruleset, read)
                    bucket.records.extend(result.records)
                    bucket.warnings.extend(result.warnings)
            continue
        owner, clash = _owner(raw, known)
        if owner in reused:
            clash = f"subject {owner} names Patients without an id in several Bundles: left out"
        if clash:
            unowned.append(DataWarning(clash, reference))
            continue
        read = _interpreter(raw, ruleset, elements, referents)
        # what a resource that refers outside itself means depends on more than its content
        if cache is None or refers_outside(raw):
            result = read()
        else:
            result = cache.get_or_read(raw, ruleset, read)
        if owner is None:
            unowned.extend(result.warnings)
            if result.valid:
                unowned.append(DataWarning("no Patient subject: left out", reference))
            continue
        bucket = patients.setdefault(owner, _Patient())
        bucket.records.extend(result.records)
        bucket.warnings.extend(result.warnings)

    if age_concepts(ruleset):
        for reference, bucket in patients.items():
            if reference not in known:
                message = f"no Patient resource in the input: {AGE_UNKNOWN}"
                bucket.warnings.append(DataWarning(message, reference))

    return PatientBatch(
        tuple(
            PatientData(ref, tuple(sorted(p.records, key=_record_order)), tuple(p.warnings))
            for ref, p in sorted(patients.items())
        ),
        tuple(unowned),
    )


def _report_unread(
    raw: RawResource,
    ruleset: Ruleset,
    known: frozenset[str],
    reused: Mapping[str, object],
    patients: dict[str, _Patient],
    unowned: list[DataWarning],
) -> None:
    """Warn the patient of a resource left unread because its codes are not strings, or of a
    Patient whose JSON repeats a key (on the batch when the patient's data is left out: a
    result would stand for several)."""
    warnings = unread_warnings(raw, ruleset)
    if not warnings:
        return
    owner, _ = _owner(raw, known)
    if owner is None or owner in reused:
        unowned.extend(warnings)
    else:
        patients.setdefault(owner, _Patient()).warnings.extend(warnings)


def _interpreter(
    raw: RawResource, ruleset: Ruleset, elements: ValidatedElements, referents: Referents
) -> Callable[[], Interpreted]:
    """Validate and read `raw`, resolving its references through `referents`."""

    def read() -> Interpreted:
        validated, warnings = validate(raw, elements)
        # a faulty Medication is reported even beside a medicine that is not valid itself
        referenced, found = _referenced_medication(raw, referents, elements)
        if validated is None:
            return Interpreted(False, (), (*warnings, *found))
        records, more = records_for(validated, ruleset, referents.resolver(raw), referenced)
        return Interpreted(True, tuple(records), (*warnings, *found, *more))

    return read


def _referenced_medication(
    raw: RawResource, referents: Referents, elements: ValidatedElements
) -> tuple[dict[str, Resource], list[DataWarning]]:
    """The Medication a medicine's `medicationReference` names outside it, validated, by the
    reference as written (none when it cannot be resolved or is not valid: the medicine then
    warns that it names no Medication that can be read); and the warnings validating it gave,
    under the Medication's own reference."""
    if raw.type not in ("MedicationRequest", "MedicationStatement"):
        return {}, []
    text = medication_reference(raw.data)
    if text is None:
        return {}, []  # coded, or a contained Medication, validated with the medicine
    target, _ = referents.resource(raw, text, "Medication")
    if target is None:
        return {}, []
    validated, warnings = validate(target, elements)
    return ({text: validated.model} if validated is not None else {}), warnings


def patient_of(raw: RawResource, patients: frozenset[str] = frozenset()) -> str | None:
    """The patient a resource belongs to, from its raw `subject`/`patient` reference.

    Read before validation so that a resource failing validation still warns its patient;
    `patients` are the references of Patient resources read (some have no `Type/id` form).
    A fullUrl resolves only in the resource's own Bundle, and not at all when that Bundle
    gives it to more than one resource.
    """
    return _owner(raw, patients)[0]


def _owner(raw: RawResource, patients: frozenset[str]) -> tuple[str | None, str | None]:
    """The resource's patient, and why it cannot be told when its Bundle gives the subject's
    fullUrl to more than one resource."""
    text = _subject(raw)
    if text is None:
        return None, None
    targets = raw.bundle.targets(text) if raw.bundle is not None else ()
    if len(targets) > 1:
        distinct = list(dict.fromkeys(targets))
        named = ", ".join(distinct) if len(distinct) == len(targets) else "resources without an id"
        return None, f"subject {text} is the fullUrl of {named} in one Bundle: left out"
    # Only its own Bundle names a Patient without an id (known by its fullUrl) by that fullUrl
    if targets and targets[0] in patients:
        return targets[0], None
    parts = split_reference(targets[0] if targets else text)
    return (f"Patient/{parts[1]}" if parts and parts[0] == "Patient" else None), None


def _subject(raw: RawResource) -> str | None:
    for key in _SUBJECT_KEYS:
        ref = raw.data.get(key)
        text = ref.get("reference") if isinstance(ref, Mapping) else None
        if isinstance(text, str) and text:
            return text
    return None


def _not_this_copy(copy: RawResource, by_version: bool, read: set[int]) -> str:
    if by_version and id(copy) not in read:
        return (
            f"superseded by a newer version at {copy.origin}, which the ruleset does not read:"
            " left out"
        )
    why = " (a newer version)" if by_version else ""
    return f"read twice with different content; the copy at {copy.origin} is used{why}"


def _is_chosen(
    raw: RawResource,
    chosen: Mapping[tuple[str, int], tuple[RawResource, bool]],
    copies: Mapping[tuple[str, int], Sequence[RawResource]],
    read: set[int],
    known: frozenset[str],
    unowned: list[DataWarning],
) -> bool:
    """Whether `raw` is the copy of its resource to read; warns of the differing copies left
    out, and of an identical one left out that another patient's Bundle gave it."""
    key = _identity(raw)
    copy, by_version = chosen.get(key, (raw, False))
    if copy is not raw:
        if copy.data != raw.data:
            unowned.append(DataWarning(_not_this_copy(copy, by_version, read), raw.reference))
        else:
            unowned.extend(_given_to_another_patient(copy, raw, known))
        return False
    unowned.extend(_unread_copies(raw, copies.get(key, ()), read, by_version))
    return True


def _given_to_another_patient(
    kept: RawResource, left_out: RawResource, known: frozenset[str]
) -> list[DataWarning]:
    """A warning when two identical copies belong to different patients: the same words, but
    a urn subject each Bundle resolves to its own patient."""
    owners = [_owner(c, known)[0] or "no patient" for c in (kept, left_out)]
    if owners[0] == owners[1]:
        return []
    message = f"read twice, for {owners[0]} and for {owners[1]}; the copy at {kept.origin} is used"
    return [DataWarning(message, left_out.reference)]


def _unread_copies(
    chosen: RawResource, copies: Sequence[RawResource], read: set[int], by_version: bool
) -> list[DataWarning]:
    """A warning for each differing copy the ruleset does not read (its code another), left out
    beside the chosen one: what was measured is in doubt, so not passed over in silence."""
    return [
        DataWarning(_not_this_copy(chosen, by_version, read), other.reference)
        for other in copies
        if id(other) not in read and other.data != chosen.data
    ]


def _copies(resources: Sequence[RawResource]) -> dict[tuple[str, int], list[RawResource]]:
    """The copies of each resource (see `_identity`) read more than once."""
    seen: set[str] = set()
    twice: set[str] = set()
    for raw in resources:  # on every call: most references are read once, and cheaply so
        if raw.reference in seen:
            twice.add(raw.reference)
        else:
            seen.add(raw.reference)
    grouped: dict[tuple[str, int], list[RawResource]] = {}
    for raw in resources if twice else ():
        if raw.reference in twice:
            grouped.setdefault(_identity(raw), []).append(raw)
    return {key: found for key, found in grouped.items() if len(found) > 1}


def _identity(raw: RawResource) -> tuple[str, int]:
    """Which resource this is a copy of: its reference, and for one known only by its fullUrl
    (no id) its Bundle too, as the same fullUrl in another Bundle names another resource."""
    return raw.reference, id(raw.bundle) if raw.reference == raw.full_url else 0


def _chosen(copies: list[RawResource], read: set[int]) -> tuple[RawResource, bool]:
    """The copy to use, and whether it was chosen as newer than the others (then it supersedes
    them even when the ruleset does not read it). When several differing copies are newest
    alike (or nothing orders them), the newest of those the ruleset reads, else the first."""
    newest = _newest(copies)
    if all(c.data == newest[0].data for c in newest):
        return newest[0], len(newest) < len(copies)
    newest_read = [c for c in newest if id(c) in read]
    if not newest_read:
        return newest[0], True  # no copy read is among the newest: all are superseded
    return _newest(newest_read)[0], False


def _newest(copies: list[RawResource]) -> list[RawResource]:
    """The copies that are newest by `meta.versionId` when every copy has one, then among
    those by `meta.lastUpdated` when each has one: several when they are equal."""
    return _latest(_latest(copies, _version_id), _last_updated)


_Key = TypeVar("_Key", int, datetime)


def _latest(
    copies: list[RawResource], key: Callable[[RawResource], _Key | None]
) -> list[RawResource]:
    keys = [key(c) for c in copies]
    known = [k for k in keys if k is not None]
    if len(known) < len(keys):
        return copies
    top = max(known)
    return [c for c, k in zip(copies, keys, strict=True) if k == top]


_VERSION_NUMBER = re.compile(r"[0-9]{1,18}")


def _meta(raw: RawResource, key: str) -> object:
    meta = raw.data.get("meta")
    return meta.get(key) if isinstance(meta, Mapping) else None


def _version_id(raw: RawResource) -> int | None:
    number = _meta(raw, "versionId")
    if isinstance(number, str) and _VERSION_NUMBER.fullmatch(number):
        return int(number)
    return None


def _last_updated(raw: RawResource) -> datetime | None:
    text = _meta(raw, "lastUpdated")
    if not isinstance(text, str):
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _reused_patient_urls(resources: Sequence[RawResource]) -> dict[str, list[str]]:
    """The urn fullUrls that Patients without an id have in more than one Bundle, with where
    each is: FHIR makes them different patients, but the results would name both alike."""
    bundles: dict[str, dict[int, str]] = {}
    for raw in resources:
        if raw.type == "Patient" and raw.bundle is not None and raw.reference == raw.full_url:
            bundles.setdefault(raw.reference, {}).setdefault(id(raw.bundle), raw.origin)
    return {ref: list(found.values()) for ref, found in bundles.items() if len(found) > 1}


def _reused_in_its_bundle(raw: RawResource) -> bool:
    """A Patient without an id (known by its fullUrl) whose own Bundle gives that fullUrl to
    another resource too: it cannot be told apart from the other."""
    if raw.reference != raw.full_url or raw.bundle is None:
        return False
    return len(raw.bundle.targets(raw.full_url)) > 1


def _record_order(record: Record) -> tuple[str, datetime, str]:
    return (record.concept, record.time or _EARLIEST, record.source)
