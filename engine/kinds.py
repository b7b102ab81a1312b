"""What each kind of concept may be asked, checked when a ruleset loads.

`check_atom` returns the problems of one condition atom against the ruleset it belongs to, each
as (path, message) in clinical words: `palpitations > 2` on a finding without a unit,
`potassium present` on a quantity, `age active`, an unknown marker, a window whose length is no
duration or whose anchor is no concept, `after X started` where X is no medication.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator

from . import units
from .codes import parse_code
from .conditions import (
    AboveReference,
    Atom,
    BelowReference,
    CodedIs,
    Compare,
    FindingRef,
    Limit,
    Marked,
    MedicationState,
    NoSuggestion,
    NotRechecked,
    Path,
    Presence,
    RegionState,
    ResultTest,
    Streak,
    Trend,
    Window,
    atoms,
    parse_condition,
)
from .model import Concept, Ruleset
from .schema import RulesetSpec
from .thresholds import (
    DimensionMismatch,
    ThresholdError,
    ThresholdOutOfRange,
    is_difference,
    parameter_duration,
    resolve_multiple,
    resolve_threshold,
)

SEXES: tuple[str, ...] = ("male", "female", "other", "unknown")  # FHIR administrative gender
# attributes that read a value (as opposed to counting readings, sites or days)
VALUE_ATTRIBUTES = frozenset({"latest", "lowest", "highest", "previous", "median"})
_STATES = ("present", "absent", "recorded")  # what a finding is, beside its evidence classes
_MEDICATION_STATES = "active, on hold, confirmed, started within ..., ended within ..."

Problems = Iterator[tuple[Path, str]]


def compared_concepts(spec: RulesetSpec) -> frozenset[str]:
    """The concepts whose value some rule or the scope compares (`gad7 >= 10`): a unit-less
    concept without a declared kind is a score when compared, else a finding."""
    raw = [rule.when for rule in spec.rules]
    if spec.scope is not None:
        raw.append(spec.scope)
    names: set[str] = set()
    for i, when in enumerate(raw):
        try:
            condition = parse_condition(when, (i,))
        except ValueError:
            continue  # reported when the rule itself is read
        for atom in atoms(condition):
            if isinstance(atom, Trend | Streak) or (
                isinstance(atom, Compare) and atom.attribute in VALUE_ATTRIBUTES
            ):
                names.add(atom.concept)
    return frozenset(names)


def check_atom(atom: Atom, ruleset: Ruleset, broken: frozenset[str]) -> Problems:
    """The problems of `atom` (concept already known to exist). `broken` names parameters that
    are wrong themselves and reported already."""
    if isinstance(atom, FindingRef | NoSuggestion):
        return
    concept = ruleset.concepts[atom.concept]
    yield from _kind_problems(atom, concept, ruleset)
    window = getattr(atom, "window", None)
    if window is not None:
        yield from _window_problems(atom, window, ruleset, broken)
    if isinstance(atom, Trend):
        for length in (atom.over, atom.gap, atom.else_over, atom.else_gap):
            if isinstance(length, str):
                yield from _length_problems(atom, length, ruleset, broken)
        if atom.since is not None:
            yield from _medication_anchor(atom, atom.since, ruleset)
        if atom.else_measure is not None and is_difference(atom.measure) != is_difference(
            atom.else_measure
        ):
            yield (
                atom.path,
                f"in '{atom.text}': a difference (rise, fall) and a ratio cannot stand in for "
                "each other after 'else'; use the same kind of measure on both sides",
            )
    if isinstance(atom, Streak):
        for length in (atom.lasting, atom.lasting_most):
            if isinstance(length, str):
                yield from _length_problems(atom, length, ruleset, broken)
        if atom.start_op is not None and atom.start_threshold not in (None, *broken):
            start = Compare(
                atom.concept, "latest", atom.start_op, atom.start_threshold or "", atom.text, ()
            )
            try:
                resolve_threshold(start, ruleset)
            except ThresholdError as error:
                yield (atom.path, f"in '{atom.text}': the result it starts at: {error}")
        for name in atom.unstarted:
            yield from _unstarted_problems(atom, name, ruleset)
    if isinstance(atom, AboveReference):
        yield from _reference_problems(atom, ruleset, broken)
    if isinstance(atom, ResultTest | NotRechecked):
        yield from _result_problems(atom, ruleset, broken)
    if isinstance(atom, Compare | Trend | Streak) and atom.threshold not in broken:
        try:
            resolve_threshold(atom, ruleset)
        except ThresholdOutOfRange as error:
            at = ("parameters", atom.threshold) if atom.threshold in ruleset.parameters else None
            yield (at or atom.path, str(error))
        except DimensionMismatch as error:
            yield dimension_problem(atom, ruleset, error)
        except ThresholdError as error:
            yield (atom.path, str(error))


def dimension_problem(
    atom: Compare | Trend | Streak, ruleset: Ruleset, error: DimensionMismatch
) -> tuple[Path, str]:
    """A threshold of the wrong dimension: at the parameter when it is one (it is what to fix),
    naming both dimensions; a number written in the rule stays reported at the rule."""
    parameter = ruleset.parameters.get(atom.threshold)
    if parameter is None:
        return (atom.path, str(error))
    return (
        ("parameters", parameter.name),
        f"parameter `{parameter.name}` is {parameter.text} ({_a(units.dimension(error.unit))}) "
        f"but `{atom.concept}` is read in {error.concept_unit} "
        f"({_a(units.dimension(error.concept_unit))}): give it a unit of that dimension",
    )


def _a(words: str) -> str:
    return f"{'an' if words[:1] in 'aeiou' else 'a'} {words}"


def limit_problems(ruleset: Ruleset) -> Iterator[tuple[Path, str]]:
    """The problems of the concepts' `low`, `high` and `prefer` keys: thresholds that are no
    value of the concept, preferred codes that are not the concept's own."""
    for concept in ruleset.concepts.values():
        if concept.kind != "quantity":
            continue  # the loader says these keys are for a quantity
        path: Path = ("concepts", concept.name)
        for key, limit in (("low", concept.low), ("high", concept.high)):
            if limit is not None and limit.threshold is not None:
                yield from _limit_threshold(concept.name, limit, ruleset, (*path, key), "")
        own = {code.key for code in concept.codes}
        for i, code in enumerate(concept.prefer):
            if code.key not in own and code.system != "invalid":
                yield (
                    (*path, "prefer", i),
                    f"{concept.name}: prefer {code.system}#{code.code}, which is not one of its "
                    "codes; list the codes preferred among its own",
                )


def _limit_threshold(
    concept: str, limit: Limit, ruleset: Ruleset, path: Path, text: str
) -> Problems:
    assert limit.op is not None and limit.threshold is not None
    compare = Compare(concept, "latest", limit.op, limit.threshold, limit.text, path)
    try:
        resolve_threshold(compare, ruleset)
    except ThresholdError as error:
        yield (path, f"in '{text or limit.text}': {error}")


def _result_problems(
    atom: ResultTest | NotRechecked, ruleset: Ruleset, broken: frozenset[str]
) -> Problems:
    if isinstance(atom, NotRechecked):
        for name in atom.group:
            concept = ruleset.concepts.get(name)
            if concept is None:
                continue  # the loader names it, at the group's own atom for it
            if concept.low is None and concept.high is None:
                yield (
                    atom.path,
                    f"'{atom.text}': {name} has no low or high limit to judge an old result by "
                    f"(give {name} low: or high:)",
                )
            elif concept.lookback is None:
                yield (
                    atom.path,
                    f"'{atom.text}': {name} has no lookback, so every result is current",
                )
        return
    concept = ruleset.concepts[atom.concept]
    if atom.preliminary and concept.preliminary != "candidates":
        yield (
            atom.path,
            f"'{atom.text}': {concept.name} does not keep preliminary results; "
            "give it preliminary: candidates",
        )
    for clause in atom.clauses:
        if isinstance(clause, str):
            if getattr(concept, clause) is None:
                yield (
                    atom.path,
                    f"'{atom.text}': {concept.name} has no {clause} limit (give it {clause}: ...)",
                )
        elif clause.threshold is not None and clause.threshold not in broken:
            yield from _limit_threshold(concept.name, clause, ruleset, atom.path, atom.text)


def _reference_problems(atom: AboveReference, ruleset: Ruleset, broken: frozenset[str]) -> Problems:
    if atom.multiple is not None and atom.multiple not in broken:
        try:
            resolve_multiple(atom.multiple, ruleset)
        except ThresholdError as error:
            yield (atom.path, f"in '{atom.text}': {error}")
    if atom.fallback is not None and atom.fallback not in broken:
        fallback = Compare(atom.concept, "latest", ">", atom.fallback, atom.text, atom.path)
        try:
            resolve_threshold(fallback, ruleset)
        except ThresholdError as error:
            yield (atom.path, f"in '{atom.text}': the limit after 'else': {error}")


def _kind_problems(atom: Atom, concept: Concept, ruleset: Ruleset) -> Problems:
    name, kind = concept.name, concept.kind
    if isinstance(atom, MedicationState):
        if kind != "medication":
            yield (
                atom.path,
                f"{name} is a {_described(concept)}, not a medication; "
                f"'{atom.text}' reads medicines ({_MEDICATION_STATES})",
            )
        return
    if kind == "medication":
        yield (
            atom.path,
            f"{name} is a medication; ask whether it is {_MEDICATION_STATES} "
            f"(e.g. '{name} active'), not '{atom.text}'",
        )
        return
    if isinstance(atom, CodedIs):
        yield from _coded_problems(atom, concept, ruleset)
        return
    if isinstance(atom, RegionState) or (isinstance(atom, Compare) and atom.attribute == "regions"):
        yield from _region_problems(atom, concept, ruleset)
        return
    if kind == "demographic":
        if concept.field == "sex":
            yield (atom.path, f"{name} is the patient's sex; write '{name} is female'")
        elif not (isinstance(atom, Compare) and atom.attribute == "latest"):
            yield (atom.path, f"{name} is the patient's age in years; compare it: '{name} >= 80'")
        return
    if isinstance(atom, Presence):
        yield from _presence_problems(atom, concept, ruleset)
    elif isinstance(atom, Compare | Trend | Streak):
        reads_value = not isinstance(atom, Compare) or atom.attribute in VALUE_ATTRIBUTES
        if reads_value and kind in ("finding", "event", "coded") and concept.unit is None:
            yield (
                atom.path,
                f"{name} is a {kind} without a unit: it is present or absent, not a number; "
                f"write '{name} present' (or give {name} a unit)",
            )
        if isinstance(atom, Compare) and atom.attribute == "sites" and kind != "finding":
            yield (atom.path, f"{name} is a {kind}; only findings are recorded at body sites")
    elif isinstance(atom, ResultTest | NotRechecked):
        if concept.unit is None:
            yield (atom.path, f"{name} has no unit: '{atom.text}' reads results with a value")
    elif isinstance(atom, BelowReference | AboveReference):
        if concept.unit is None:
            yield (atom.path, f"{name} has no unit, so no reference range")
    elif isinstance(atom, Marked):
        known = [marker.name for marker in concept.markers]
        if atom.marker not in known:
            listed = ", ".join(known) or "none defined"
            yield (atom.path, f"{name} has no marker {atom.marker!r} (its markers: {listed})")


def _region_problems(atom: RegionState | Compare, concept: Concept, ruleset: Ruleset) -> Problems:
    """Regions, focal and sides read a finding's body sites, placed by the `regions` table."""
    if concept.kind != "finding":
        yield (atom.path, f"{concept.name} is a {concept.kind}; only findings have body regions")
    elif not ruleset.regions:
        yield (
            atom.path,
            f"'{atom.text}' reads body regions, but the ruleset has no regions table: add one "
            "and give sites a region, e.g. calf: {codes: [sct#53840002], region: lower_limb}",
        )
    elif isinstance(atom, RegionState) and atom.state == "focal":
        if not any(region.focal for region in ruleset.regions.values()):
            yield (
                atom.path,
                f"'{atom.text}': no region class is focal; mark those where one region alone "
                "is focal (the limbs) with focal: true",
            )
    elif isinstance(atom, RegionState) and not any(r.sided for r in ruleset.regions.values()):
        yield (
            atom.path,
            f"'{atom.text}': no region class is sided; mark those with a left and a right "
            "(the limbs) with sided: true",
        )


def _presence_problems(atom: Presence, concept: Concept, ruleset: Ruleset) -> Problems:
    name, kind = concept.name, concept.kind
    if kind in ("quantity", "score") and atom.state != "recorded":
        yield (
            atom.path,
            f"{name} is a {kind}, which has a value rather than being {atom.state}; "
            f"write '{name} recorded' or compare it",
        )
    if kind == "coded" and atom.state != "recorded":
        yield (
            atom.path,
            f"{name} is a coded answer; write '{name} is <code>' or '{name} recorded'",
        )
    if atom.site is not None:
        if kind != "finding":
            yield (atom.path, f"{name} is a {kind}; only findings are recorded at body sites")
        elif atom.site not in ruleset.sites:
            yield (atom.path, f"unknown body site {atom.site!r}")
    if atom.evidence is not None and kind == "finding":  # other kinds: said above
        known = [c.name for c in concept.evidence]
        if atom.evidence not in known:
            listed = (
                f"its classes: {', '.join(known)}"
                if known
                else "it has none: give it evidence: classes, e.g. examined and reported"
            )
            close = difflib.get_close_matches(atom.evidence, [*known, *_STATES], n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            yield (
                atom.path,
                f"'{atom.text}': {name} has no evidence class {atom.evidence!r} ({listed}){hint}",
            )
    if atom.until is not None and not _is_date(atom.until, ruleset):
        yield (
            atom.path,
            f"'{atom.text}': {atom.until!r} is neither one of the ruleset's dates nor a concept",
        )
    if atom.window is not None and atom.window.relation == "undated" and kind == "event":
        yield (atom.path, f"'{atom.text}': an event always has a date; 'undated' reads none")


def _is_date(name: str, ruleset: Ruleset) -> bool:
    return name in ruleset.dates or name in ruleset.concepts


def _coded_problems(atom: CodedIs, concept: Concept, ruleset: Ruleset) -> Problems:
    name = concept.name
    if concept.kind == "demographic" and concept.field == "sex":
        if atom.value not in SEXES:
            yield (
                atom.path,
                f"sex is one of {', '.join(SEXES)}; {atom.value!r} is not",
            )
    elif concept.kind == "coded":
        try:
            parse_code(atom.value, ruleset.code_systems or None)
        except ValueError as error:
            yield (atom.path, f"{name} is a coded answer: {error}")
    else:
        yield (
            atom.path,
            f"{name} is a {_described(concept)}; 'is' reads a coded answer or the patient's sex",
        )


def _window_problems(
    atom: Atom, window: Window, ruleset: Ruleset, broken: frozenset[str]
) -> Problems:
    for length in (window.length, window.near):
        if isinstance(length, str):
            yield from _length_problems(atom, length, ruleset, broken)
    if window.relation == "undated" and not isinstance(atom, Presence):
        yield (
            atom.path,
            f"'{atom.text}': 'undated' reads records with no date, which have no value to "
            "compare; write e.g. 'pregnancy present undated'",
        )
    if window.anchor is None:
        return
    if window.relation == "after-start":
        yield from _medication_anchor(atom, window.anchor, ruleset)
    elif not _is_date(window.anchor, ruleset):
        yield (
            atom.path,
            f"{window.anchor!r} in '{window.text}' is not a concept; a window is anchored on the "
            "latest reading of a concept",
        )


def _medication_anchor(atom: Atom, anchor: str, ruleset: Ruleset) -> Problems:
    concept = ruleset.concepts.get(anchor)
    if concept is None:
        yield (atom.path, f"'after {anchor} started': {anchor!r} is not a concept")
    elif concept.kind != "medication":
        yield (
            atom.path,
            f"'after {anchor} started': {anchor} is a {_described(concept)}, not a medication; "
            "only a medicine is started",
        )


def _unstarted_problems(atom: Streak, name: str, ruleset: Ruleset) -> Problems:
    """`with no X started after it`: X must be a medication concept."""
    concept = ruleset.concepts.get(name)
    if concept is None:
        close = difflib.get_close_matches(name, list(ruleset.concepts), n=1, cutoff=0.6)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        yield (atom.path, f"in '{atom.text}': {name!r} is not a concept{hint}")
    elif concept.kind != "medication":
        yield (
            atom.path,
            f"in '{atom.text}': {name} is a {_described(concept)}, not a medication; only a "
            "medicine is started",
        )


def _length_problems(atom: Atom, name: str, ruleset: Ruleset, broken: frozenset[str]) -> Problems:
    if name in broken:
        return
    parameter = ruleset.parameters.get(name)
    if parameter is None:
        yield (atom.path, f"{name!r} in '{_text(atom)}' is neither a duration nor a parameter")
    elif parameter_duration(parameter) is None:
        yield (
            atom.path,
            f"{name} ({parameter.text}) is not a duration such as 24 hours, 90 days or "
            "15 months, so it cannot be a window",
        )


def _text(atom: Atom) -> str:
    return atom.text


def _described(concept: Concept) -> str:
    if concept.kind == "demographic":
        return f"demographic ({concept.field})"
    return concept.kind
