"""Load a ruleset file: check its shape and its meaning, report every problem at once."""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import units
from .card_layout import COUNT_PARTS, card_layout, word_lists_of
from .clock import Duration
from .codes import DEFAULT_SYSTEMS, Code, parse_code
from .compiler import (
    SCOPE_FINDING,
    SCOPE_RULE,
    CompileError,
    check_alternatives,
    compile_ruleset,
)
from .conditions import (
    SUPPRESSED,
    All,
    Condition,
    ConditionSyntaxError,
    DurationSyntaxError,
    FindingRef,
    Limit,
    NoSuggestion,
    Not,
    atoms,
    parse_condition,
    parse_duration,
    parse_limit,
    suppressed_finding,
    suppressed_rule,
)
from .dependencies import Cycle, strata
from .errors import ArgumentError, Problem, RulesetError
from .evidence_options import (
    check_scores,
    coded_answers,
    evidence_classes,
    review_dates,
    score_evidence,
    supersessions,
)
from .kinds import check_atom, compared_concepts, limit_problems
from .levels import ladder
from .model import (
    Action,
    Advice,
    Citation,
    Concept,
    ConceptKind,
    Hides,
    HitPolicy,
    Instruction,
    Level,
    LintAnswer,
    Marker,
    Parameter,
    Proposal,
    RedFlag,
    Referral,
    Region,
    Rule,
    Ruleset,
    Shows,
    SiteRegion,
)
from .note_text import problems as note_text_problems
from .notes import Fired, Note, leaves, parse_note_condition
from .products import read_products
from .schema import (
    AlwaysSpec,
    ConceptSpec,
    HideSpec,
    LevelSpec,
    MarkerSpec,
    NoteSpec,
    ProposalSpec,
    RulesetSpec,
    ThenSpec,
)
from .shape import Broken, check_shape
from .thresholds import DURATION_UCUM
from .valuesets import ValueSetError, read_value_set
from .yaml_source import Source, load_yaml

MAX_RULESET_BYTES = 4 * 2**20  # a ruleset is input from people: far above 4,000 rules' worth
SUMMARY_LIMIT = 125  # with a level label ("URGENT TODAY — "), within CDS Hooks' 140 characters
PLACEHOLDER_WIDTH = 10  # what a placeholder is counted as against it: a date's width
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)( side)?\}")
_BRACED = re.compile(r"\{([^{}]*)\}")
# `14 days after raasi started, else 3 days`: due after a medicine's latest start
_DUE_AFTER = re.compile(
    r"(?P<due>.+?)\s+after\s+(?P<concept>[a-z][a-z0-9_]*)\s+started(?:\s*,?\s*else\s+(?P<else>.+))?"
)
_PLACED = frozenset({"date", "time"})  # what an `already-text` may name


def load_file(path: Path) -> Ruleset:
    """Read and check one ruleset file; raise `RulesetError` listing every problem."""
    name = str(path)
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_RULESET_BYTES + 1)
    except OSError as error:
        raise RulesetError(
            [Problem(name, 0, 0, f"cannot read the file: {error.strerror}")]
        ) from None
    if len(raw) > MAX_RULESET_BYTES:
        message = f"the file is larger than {MAX_RULESET_BYTES // 2**20} MiB: split the ruleset"
        raise RulesetError([Problem(name, 0, 0, message)])
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RulesetError([Problem(name, 1, 1, "the file is not UTF-8 text")]) from None
    return load_text(text, name, source=path)


def load_text(
    text: str,
    file: str = "<ruleset>",
    *,
    content_hash: str | None = None,
    source: Path | None = None,
) -> Ruleset:
    """Check and load a ruleset's YAML text; raise `RulesetError` listing every problem.

    The ruleset's identity (and the compiled rules it shares with equal rulesets in the
    process) is the SHA-256 of `text`, a `content_hash` given is checked against it; value-set
    and product files, read relative to `source` (the ruleset file), add their codes to it."""
    ruleset, parsed = _check(text, file, content_hash, source)
    try:
        compile_ruleset(ruleset)
    except CompileError as error:
        index = next((i for i, r in enumerate(ruleset.rules) if r.id == error.rule), 0)
        message = f"rule {error.rule}: {error}"
        raise RulesetError([parsed.problem(("rules", index), message, code="compile")]) from None
    return ruleset


def check_text(
    text: str,
    file: str = "<ruleset>",
    *,
    content_hash: str | None = None,
    source: Path | None = None,
) -> Ruleset:
    """Check a ruleset's YAML text and build it, without compiling its rules for
    durable_rules; raise `RulesetError` listing every problem (as `load_text` does)."""
    return _check(text, file, content_hash, source)[0]


def _check(
    text: str, file: str, content_hash: str | None, source: Path | None
) -> tuple[Ruleset, Source]:
    if not isinstance(text, str):
        raise ArgumentError(f"a ruleset's text is a str, not {type(text).__name__}")
    if not isinstance(file, str):
        raise ArgumentError(f"a ruleset's file name is a str, not {type(file).__name__}")
    if source is not None and not isinstance(source, Path):
        raise ArgumentError(f"a ruleset's source is a Path, not {type(source).__name__}")
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
    if content_hash is not None and content_hash != digest:
        # a hash reused for edited text would run the rules compiled from the old text
        raise ArgumentError(
            f"content_hash {str(content_hash)[:16]!r} is not the SHA-256 of the text; leave it out"
        )
    if len(text) > MAX_RULESET_BYTES:
        message = f"the text is larger than {MAX_RULESET_BYTES // 2**20} MiB: split the ruleset"
        raise RulesetError([Problem(file, 0, 0, message)])
    parsed, problems = load_yaml(text, file)
    if parsed is None:
        raise RulesetError(problems)
    if not isinstance(parsed.data, dict):
        raise RulesetError([parsed.problem((), "a ruleset must be a mapping of keys to values")])
    shape = check_shape(parsed)
    problems += shape.problems
    if shape.spec is None:
        raise RulesetError(problems)
    checker = _Checker(shape.source, shape.spec, source, shape.broken)
    ruleset = checker.build(digest, source)
    problems += [p for p in checker.problems if not shape.broken.hides(p.message)]
    if problems:
        raise RulesetError(problems)
    return ruleset, parsed


_NOTHING_LEVEL = "none"  # the one level of a ruleset that declares none: nothing to do
# the statuses of an event's resource that count when the concept names none
_EVENT_STATUSES: dict[str, tuple[str, ...]] = {
    "Procedure": ("completed", "in-progress"),
    "ServiceRequest": ("active", "completed"),
    "Encounter": ("finished", "in-progress"),
}


def _duration_words(text: str) -> Duration | None:
    """`15 months`, `1 year`, `24 hours`: a duration written in words, else None."""
    try:
        return parse_duration(text)
    except DurationSyntaxError:
        return None


def _clash(one: Concept, other: Concept) -> bool:
    """Whether a code in both concepts would mean both on one resource."""
    return one.kind == other.kind and (one.kind != "event" or one.resource == other.resource)


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


def _parameters_named(atom: object) -> set[str]:
    """The names an atom may read as parameters: its threshold, window and trend lengths."""
    window = getattr(atom, "window", None)
    named = [
        getattr(atom, "threshold", None),
        getattr(window, "length", None),
        getattr(atom, "over", None),
        getattr(atom, "gap", None),
    ]
    return {name for name in named if isinstance(name, str)}


class _Checker:
    def __init__(
        self,
        source: Source,
        spec: RulesetSpec,
        file: Path | None = None,
        broken: Broken | None = None,
    ) -> None:
        self.source = source
        self.broken = broken or Broken()
        self.spec = spec
        self.problems: list[Problem] = []
        self.systems = {**DEFAULT_SYSTEMS, **spec.code_systems}
        self.folder = file.parent if file is not None else None
        self.value_sets: dict[str, tuple[Code, ...]] = {}
        self.from_value_sets: set[tuple[str, tuple[str, str]]] = set()  # (concept, code key)
        self.code_at: dict[tuple[str, tuple[str, str]], int] = {}  # where a concept lists a code
        self.compared = compared_concepts(spec)
        self.levels: tuple[Level, ...] = ()
        self.parameters: dict[str, Parameter] = {}
        # conditions of proposals (`if:`, `already:`), checked once the concepts are known
        self.proposal_conditions: list[Condition] = []
        self.sited_at: dict[tuple[str, int], tuple[str | int, ...]] = {}  # `code at X` entries
        self.proposed_codes: frozenset[tuple[str, str]] = frozenset()  # what any rule orders

    def report(
        self, path: tuple[str | int, ...], message: str, *, at_key: bool = False, code: str = ""
    ) -> None:
        problem = self.source.problem(path, message, at_key=at_key, code=code)
        if problem not in self.problems:  # a parameter used by several rules is wrong once
            self.problems.append(problem)

    def build(self, digest: str, source: Path | None) -> Ruleset:
        spec = self.spec
        time_zone = self._time_zone()
        self._read_value_sets()
        products = self._products()
        if self.value_sets or products:
            # the codes read from beside the ruleset are part of what it means: an edited value
            # set makes another ruleset, as an edited YAML file does
            external = repr((sorted(self.value_sets.items()), sorted(products.items())))
            digest = hashlib.sha256(f"{digest}\n{external}".encode()).hexdigest()
        parameters = {
            name: p
            for name, value in spec.parameters.items()
            if (p := self._parameter(name, value))
        }
        self.parameters = parameters
        concepts = {
            name: self._concept(name, c)
            for name, c in spec.concepts.items()
            if self._is_name(("concepts", name), name)
        }
        regions = self._regions()
        sites, site_regions = self._sites(regions)
        self.levels = self._levels(concepts)
        citations = {
            key: Citation(key, c.title, c.url, c.section) for key, c in spec.citations.items()
        }
        referrals = {}
        for level, r in spec.referrals.items():
            self._level(("referrals", level), level)
            referrals[level] = Referral(
                self._code(("referrals", level, "code"), r.code, r.display), r.priority
            )
        self._check_duplicate_codes(concepts)
        dates, problems = review_dates(spec.dates, concepts, parameters)
        for where, message in [*check_scores(concepts), *problems]:
            self.report(where, message)
        for word_at, word in enumerate(spec.unread_text_warnings):
            if not word.strip():
                self.report(("unread-text-warnings", word_at), "give a word, e.g. potassium")

        partial = Ruleset(
            id=spec.id,
            version=spec.version,
            status=spec.status,
            title=spec.title,
            description=spec.description,
            content_hash=digest,
            concepts=concepts,
            sites=sites,
            parameters=parameters,
            rules=(),
            citations=citations,
            referrals=referrals,
            authors=tuple(spec.authors),
            reviewers=tuple(spec.reviewers),
            effective_from=spec.effective.start if spec.effective else None,
            effective_until=spec.effective.until if spec.effective else None,
            source=source,
            code_systems=self.systems,
            levels=self.levels,
            time_zone=time_zone,
            products=products,
            unread_text_warnings=tuple(w.strip() for w in spec.unread_text_warnings),
            regions=regions,
            site_regions=site_regions,
            dates=dates,
            lint_answers=tuple(
                LintAnswer(
                    a.warning, a.subject, a.answer, self.source.where(("lint-answers", i))[0]
                )
                for i, a in enumerate(spec.lint_answers)
            ),
        )
        self._check_sited_codes(partial)
        for path, message in limit_problems(partial):
            self.report(path, message)
        derived = {r.then.derive for r in spec.rules if r.then.derive} | {
            suppressed_finding(r.id) for r in spec.rules if r.suppressed_when is not None
        }
        derived |= self.broken.findings  # a rule set aside for its shape may derive them
        rules = self._rules(partial, derived)
        for condition in self.proposal_conditions:
            self._check_condition(condition, partial, derived)
        scope = self._condition(spec.scope, ("scope",)) if spec.scope is not None else None
        if scope is not None:
            self._check_condition(scope, partial, derived)
            scope = self._bounded(("scope",), SCOPE_RULE, scope)
        red_flags = tuple(self._red_flag(i, partial, derived) for i in range(len(spec.red_flags)))
        self._distinct_flags(red_flags)
        try:
            strata(rules, ladder(partial))
        except Cycle as cycle:
            first = next(r for r in rules if r.id == cycle.rules[0])
            self.report(
                ("rules", rules.index(first)),
                f"these rules derive each other's findings in a cycle: {cycle}",
            )
        hit_policy = self._hit_policy(rules)
        notes = self._notes(partial, derived, {r.id for r in self.spec.rules})
        word_lists, word_problems = word_lists_of(self.spec.word_lists, concepts, derived)
        card, card_problems = card_layout(self.spec, self.levels, red_flags, concepts, self.systems)
        for where, message in [*word_problems, *card_problems]:
            self.report(where, message)
        for name, words in self.spec.card.flags.items() if self.spec.card else ():
            said = {"": words} if isinstance(words, str) else words
            for state, text in said.items():  # a flag's words are filled in as a summary is
                where = ("card", "flags", name, state) if state else ("card", "flags", name)
                self._placeholders_ok(text, where, concepts)
        return replace(
            partial,
            rules=rules,
            scope=scope,
            red_flags=red_flags,
            hit_policy=hit_policy,
            notes=notes,
            card=card,
            word_lists=word_lists,
        )

    # -- pieces -----------------------------------------------------------------------------

    def _is_name(self, path: tuple[str | int, ...], name: str) -> bool:
        if re.fullmatch(r"[a-z][a-z0-9_]*", name):
            return True
        self.report(path, f"concept name {name!r}: use lowercase letters, digits and underscores")
        return False

    def _code(self, path: tuple[str | int, ...], text: str, display: str | None = None) -> Code:
        """The code `text` means: `prefix#code`, or the name of a code-valued parameter."""
        if re.fullmatch(r"[a-z][a-z0-9_]*", text):
            parameter = self.parameters.get(text)
            if parameter is not None and parameter.code is not None:
                return parameter.code
            if text in self.spec.parameters and parameter is None:
                return Code("invalid", text)  # the parameter's own problem is reported
            if parameter is not None:
                self.report(path, f"parameter {text} is {parameter.text}, not a code")
                return Code("invalid", text)
        try:
            code = parse_code(text, self.systems)
        except ValueError as error:
            self.report(path, str(error))
            return Code("invalid", text)
        return Code(code.system, code.code, display)

    def _regions(self) -> dict[str, Region]:
        regions = {}
        for name, spec in self.spec.regions.items():
            if re.fullmatch(r"[a-z][a-z0-9_]*", name):
                regions[name] = Region(name, spec.sided, spec.focal)
            else:
                self.report(
                    ("regions", name),
                    f"region {name!r}: use lowercase letters, digits and underscores",
                )
        return regions

    def _sites(
        self, regions: Mapping[str, Region]
    ) -> tuple[dict[str, tuple[Code, ...]], dict[str, SiteRegion]]:
        """The named body sites' codes, and the region (and side) of those that name one."""
        sites: dict[str, tuple[Code, ...]] = {}
        placed: dict[str, SiteRegion] = {}
        seen: dict[tuple[str, str], str] = {}
        for name, spec in self.spec.sites.items():
            path: tuple[str | int, ...] = ("sites", name)
            listed = isinstance(self.source.data.get("sites", {}).get(name), list)
            where = path if listed else (*path, "codes")  # `calf: [sct#53840002]`
            codes = tuple(self._code((*where, i), text) for i, text in enumerate(spec.codes))
            sites[name] = codes
            for i, code in enumerate(codes):
                other = seen.setdefault(code.key, name)
                if other != name and code.system != "invalid":
                    self.report((*where, i), f"{code.compact()} is already the site {other}")
            if spec.region is None:
                if spec.side is not None:
                    self.report((*path, "side"), f"site {name} has a side but no region")
                continue
            region = regions.get(spec.region)
            if region is None:
                known = ", ".join(regions) or "none: add a regions table"
                self.report((*path, "region"), f"unknown region {spec.region!r} (regions: {known})")
                continue
            if spec.side is not None and not region.sided:
                self.report(
                    (*path, "side"),
                    f"site {name} has a side, but region {region.name} is not sided "
                    "(give it sided: true)",
                )
            placed[name] = SiteRegion(region.name, spec.side)
        return sites, placed

    def _check_sited_codes(self, partial: Ruleset) -> None:
        """Every `code at X` names a region class or a named site."""
        for concept in partial.concepts.values():
            for i, (code, place) in enumerate(concept.sited_codes):
                where = self.sited_at[(concept.name, i)]
                if place in partial.regions or place in partial.sites:
                    if concept.kind != "finding":
                        self.report(
                            where,
                            f"{concept.name} is a {concept.kind}; "
                            "only findings are recorded at body sites",
                        )
                    continue
                known = [*partial.regions, *partial.sites]
                self.report(
                    where,
                    f"{code.compact()} at {place!r}: {place!r} is no region or site"
                    f"{_did_you_mean(place, known)}; write e.g. 'sct#65124004 at lower_limb'",
                )

    def _concept(self, name: str, spec: ConceptSpec) -> Concept:
        path: tuple[str | int, ...] = ("concepts", name)
        codes: list[Code] = []
        prefixes: list[Code] = []
        sited: list[tuple[Code, str]] = []
        for i, text in enumerate(spec.codes):
            where = (*path, "codes", i)
            if text.startswith("valueset:"):
                codes.extend(self._value_set_codes(where, name, text.removeprefix("valueset:")))
            elif text.endswith("*"):
                prefix = self._code(where, text[:-1])
                if not prefix.code or prefix.code.endswith("#"):
                    self.report(where, f"{text!r}: write a prefix code as e.g. atc#C09A*")
                prefixes.append(prefix)
            else:
                text, at, place = text.partition(" at ")
                code = self._code(where, text.strip())
                self.code_at.setdefault((name, code.key), i)
                codes.append(code)
                if at:
                    sited.append((code, place.strip()))
                    self.sited_at[(name, len(sited) - 1)] = where
        unit = None
        if spec.unit is not None:
            try:
                unit = units.lookup(spec.unit).code
            except units.UnitError:
                self.report((*path, "unit"), f"{name}: unknown unit {spec.unit!r}")
        lookback = None
        if isinstance(spec.lookback, str):
            lookback = self._lookback((*path, "lookback"), spec.lookback, name)
        elif spec.lookback is not None:
            self.report(
                (*path, "lookback"),
                f"{name} lookback {spec.lookback!r} has no unit: how far back its records "
                "count is a duration such as '365 days'",
            )
        molar_mass = None
        if spec.molar_mass is not None:
            molar_mass = self._molar_mass((*path, "molar-mass"), spec.molar_mass, name)
        kind = self._kind(name, spec)
        same_as = self._same_as(path, name, spec, kind, unit, molar_mass)
        accepted = self._accepted_units(path, name, spec, kind, unit, molar_mass, same_as)
        evidence, problems = evidence_classes(name, spec, kind)
        scores, more = score_evidence(name, spec, evidence)
        superseded, most = supersessions(name, spec, evidence)
        answers, tie_answers, last = coded_answers(name, spec, kind, self._code)
        for where, message in [*problems, *more, *most, *last]:
            self.report(where, message)
        markers = tuple(
            self._marker((*path, "markers", key), name, key, marker)
            for key, marker in spec.markers.items()
        )
        low, high = (
            self._limit(path, key, text) for key, text in (("low", spec.low), ("high", spec.high))
        )
        prefer = tuple(self._code((*path, "prefer", i), c) for i, c in enumerate(spec.prefer))
        return Concept(
            name,
            tuple(codes),
            unit,
            lookback,
            molar_mass,
            spec.valence,
            spec.title,
            kind=kind,
            prefixes=tuple(prefixes),
            ties=spec.ties if isinstance(spec.ties, str) else None,
            answers_of=tuple(
                self._code((*path, "answers-of", i), c) for i, c in enumerate(spec.answers_of)
            ),
            resource=spec.resource,
            statuses=tuple(spec.statuses) or _EVENT_STATUSES.get(spec.resource or "", ()),
            field=spec.field,
            markers=markers,
            decimals=spec.decimals,
            shown_decimals=spec.shown_decimals,
            shown_unit=spec.shown_unit,
            sited_codes=tuple(sited),
            same_as=same_as,
            accepted_units=accepted,
            low=low,
            high=high,
            prefer=prefer,
            preliminary=spec.preliminary,
            evidence=evidence,
            scores=scores,
            superseded=superseded,
            answers=answers,
            tie_answers=tie_answers,
        )

    def _limit(self, path: tuple[str | int, ...], key: str, text: str | None) -> Limit | None:
        if text is None:
            return None
        try:
            return parse_limit(text, (*path, key))
        except ConditionSyntaxError as error:
            self.report(error.path, str(error))
            return None

    def _kind(self, name: str, spec: ConceptSpec) -> ConceptKind:
        """The declared kind, or the default one, with the keys that kind needs checked."""
        path: tuple[str | int, ...] = ("concepts", name)
        kind: ConceptKind
        if spec.kind is not None:
            kind = spec.kind
        elif spec.unit is not None:
            kind = "quantity"
        else:
            # a unit-less concept some rule compares (`gad7 >= 10`) is a score
            kind = "score" if name in self.compared else "finding"
        at = (*path, "kind") if spec.kind is not None else path
        if kind == "quantity" and spec.unit is None:
            self.report(at, f"{name} is a quantity: give its unit (unit: mmol/L)")
        if kind in ("score", "coded", "medication", "demographic", "event") and spec.unit:
            self.report((*path, "unit"), f"{name} is a {kind}, which has no unit")
        if kind == "demographic":
            if spec.field is None:
                self.report(at, f"{name} is a demographic: say which (field: age or field: sex)")
            if spec.codes:
                self.report(
                    (*path, "codes"),
                    f"{name} is read from the patient's {spec.field or 'record'}, not from codes",
                )
        elif not spec.codes and spec.field is None:  # a stray field: is reported below
            self.report((*path, "codes"), f"{name} needs at least one code")
        if spec.field is not None and kind != "demographic":
            self.report(
                (*path, "field"),
                f"field: is for a demographic concept; {name} is a {kind} (add kind: demographic)",
            )
        if kind == "event" and spec.resource is None:
            self.report(
                at,
                f"{name} is an event: name its resource (Procedure, Encounter or ServiceRequest)",
            )
        if kind != "event" and (spec.resource is not None or spec.statuses):
            key = "resource" if spec.resource is not None else "statuses"
            self.report(
                (*path, key),
                f"{key}: is for an event concept; {name} is a {kind} (add kind: event)",
            )
        if spec.answers_of and kind != "finding":
            self.report((*path, "answers-of"), f"answers-of: is for a finding; {name} is a {kind}")
        ranked = isinstance(spec.ties, str)  # a list of answers is read with `answers`
        if kind not in ("quantity", "score") and (ranked or spec.decimals is not None):
            key = "ties" if ranked else "decimals"
            self.report((*path, key), f"{key}: is for a quantity or a score; {name} is a {kind}")
        if spec.preliminary is not None and kind not in ("finding", "quantity", "score", "coded"):
            self.report((*path, "preliminary"), f"preliminary: is for results; {name} is a {kind}")
        for key, used in (
            ("low", spec.low),
            ("high", spec.high),
            ("prefer", spec.prefer),
            ("preliminary", spec.preliminary == "candidates"),
        ):
            if used and kind != "quantity":
                self.report((*path, key), f"{key}: is for a quantity; {name} is a {kind}")
        if spec.markers and kind != "quantity":
            self.report((*path, "markers"), f"markers: are for a quantity; {name} is a {kind}")
        return kind

    def _same_as(
        self,
        path: tuple[str | int, ...],
        name: str,
        spec: ConceptSpec,
        kind: ConceptKind,
        unit: str | None,
        molar_mass: float | None,
    ) -> units.SameAs:
        """The concept's units declared equal, each checked by `units.same_as_problem`."""
        if not spec.same_as:
            return ()
        if kind != "quantity":
            message = f"same-as: is for a quantity; {name} is a {kind}"
            self.report((*path, "same-as"), message, at_key=True)
            return ()
        if unit is None:  # a missing or unknown unit is reported already
            return ()
        pairs: list[tuple[str, str]] = []
        for key, same in spec.same_as.items():
            problem = units.same_as_problem(
                key, same, unit, molar_mass=molar_mass, valence=spec.valence, earlier=tuple(pairs)
            )
            if problem is not None:
                self.report((*path, "same-as", key), f"{name}: same-as: {problem}", at_key=True)
                continue
            pairs.append((units.lookup(key).code, units.lookup(same).code))
        return tuple(pairs)

    def _accepted_units(
        self,
        path: tuple[str | int, ...],
        name: str,
        spec: ConceptSpec,
        kind: ConceptKind,
        unit: str | None,
        molar_mass: float | None,
        same_as: units.SameAs,
    ) -> tuple[str, ...]:
        """The units a concept's data may be in, each known and convertible to its unit."""
        if not spec.accepted_units:
            return ()
        if spec.unit is None:
            message = f"accepted-units: is for a concept with a unit; {name} ({kind}) has none"
            self.report((*path, "accepted-units"), message, at_key=True)
            return ()
        if unit is None:  # an unknown unit is reported already
            return ()
        found: list[str] = []
        for i, text in enumerate(spec.accepted_units):
            try:
                code = units.lookup(text).code
                units.convert(
                    1.0, code, unit, molar_mass=molar_mass, valence=spec.valence, same_as=same_as
                )
            except units.UnitError as error:
                self.report((*path, "accepted-units", i), f"{name}: accepted unit: {error}")
                continue
            found.append(code)
        return tuple(found)

    def _marker(
        self, path: tuple[str | int, ...], concept: str, name: str, spec: MarkerSpec
    ) -> Marker:
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            self.report(
                path, f"marker name {name!r}: use lowercase letters, digits and underscores"
            )
        for key in ("note", "negation"):
            pattern = getattr(spec, key)
            if pattern is None:
                continue
            try:
                re.compile(pattern, re.IGNORECASE)
            except re.error as error:
                self.report(
                    (*path, key),
                    f"{concept} marker {name}: {key} {pattern!r} is not a regular expression "
                    f"({error})",
                )
        if spec.negation is not None and spec.note is None:
            self.report((*path, "negation"), f"{concept} marker {name}: a negation needs a note")
        if not (spec.specimen_condition or spec.interpretation or spec.note):
            self.report(
                path,
                f"{concept} marker {name}: give a specimen-condition, an interpretation or a note",
            )
        return Marker(
            name,
            tuple(
                self._code((*path, "specimen-condition", i), c)
                for i, c in enumerate(spec.specimen_condition)
            ),
            tuple(
                self._code((*path, "interpretation", i), c)
                for i, c in enumerate(spec.interpretation)
            ),
            spec.note,
            spec.negation,
        )

    def _value_set_codes(
        self, path: tuple[str | int, ...], concept: str, url: str
    ) -> tuple[Code, ...]:
        codes = self.value_sets.get(url)
        if codes is None:
            listed = ", ".join(self.value_sets) or "none listed under value-sets"
            self.report(path, f"{concept}: unknown value set {url!r} (value sets: {listed})")
            return ()
        self.from_value_sets.update((concept, code.key) for code in codes)
        return codes

    def _read_value_sets(self) -> None:
        for i, name in enumerate(self.spec.value_sets):
            path = ("value-sets", i)
            if self.folder is None:
                self.report(
                    path, "value sets are read beside the ruleset file; load it from a file"
                )
                return
            try:
                value_set = read_value_set(self.folder / name)
            except ValueSetError as error:
                self.report(path, str(error))
                continue
            if value_set.url in self.value_sets:
                self.report(path, f"two value sets have the url {value_set.url!r}")
                continue
            self.value_sets[value_set.url] = value_set.codes

    def _products(self) -> dict[tuple[str, str], tuple[Code, ...]]:
        name = self.spec.products
        if name is None:
            return {}
        if self.folder is None:
            self.report(
                ("products",), "products are read beside the ruleset file; load it from a file"
            )
            return {}
        products, problems = read_products(self.folder / name, self.systems)
        for problem in problems:
            if problem.line == 0:  # the file as a whole: say so where the ruleset names it
                self.report(("products",), problem.message + f" ({name})")
            elif problem not in self.problems:
                self.problems.append(problem)
        return products

    def _time_zone(self) -> str:
        name = self.spec.time_zone
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            self.report(
                ("time-zone",),
                f"time-zone {name!r} is not an IANA time zone name such as Europe/London or UTC",
            )
            return "UTC"
        return name

    def _lookback(self, path: tuple[str | int, ...], text: str, concept: str) -> timedelta | None:
        name = text.strip()
        try:
            if re.fullmatch(r"[a-z][a-z0-9_]*", name):
                parameter = self.parameters.get(name)
                if parameter is None:
                    if name not in self.spec.parameters:  # a broken one is reported already
                        hint = _did_you_mean(name, self.parameters)
                        self.report(path, f"{concept} lookback {name!r} names no parameter{hint}")
                    return None
                value, unit, text = parameter.value, parameter.unit, f"{name} ({parameter.text})"
                if not units.is_duration(unit):
                    raise units.UnitError(unit)
            elif (duration := _duration_words(name)) is not None:
                value, unit = duration.amount, DURATION_UCUM[duration.unit]
            else:
                value, unit = units.parse_quantity(text)
            lookback = units.to_timedelta(value, unit)
        except units.UnitError:
            self.report(path, f"{concept} lookback {text!r} is not a duration such as '30 days'")
            return None
        except OverflowError:
            self.report(path, f"{concept} lookback {text!r} is too long to be a date range")
            return None
        if lookback <= timedelta(0):
            # no record is newer than now, so nothing would count: a silent 'not recorded'
            self.report(
                path,
                f"{concept} lookback {text!r} must be more than 0 "
                "(leave lookback out to count records of any age)",
            )
            return None
        return lookback

    def _molar_mass(self, path: tuple[str | int, ...], text: str, concept: str) -> float | None:
        number = text.strip().removesuffix("g/mol")
        try:
            value, unit = units.parse_quantity(number)
        except units.UnitError:
            value, unit = 0.0, "not g/mol"
        if unit != "1" or number == text.strip():  # a bare number's unit would be a guess
            self.report(path, f"{concept}: write molar-mass as e.g. '24.305 g/mol'")
            return None
        if value <= 0:
            self.report(path, f"{concept}: molar-mass {text!r} must be more than 0 g/mol")
            return None
        return value

    def _parameter(self, name: str, raw: str | int | float | bool) -> Parameter | None:
        path = ("parameters", name)
        if isinstance(raw, bool):
            self.report(
                path,
                f"parameter {name}: YAML reads this as {str(raw).lower()} (yes/no), not a number; "
                "write a number, e.g. 4 or 14 days",
            )
            return None
        if isinstance(raw, str) and "#" in raw:
            try:
                code = parse_code(raw.strip(), self.systems)
            except ValueError as error:
                self.report(path, f"parameter {name}: {error}")
                return None
            return Parameter(name, 0.0, "code", raw.strip(), code=code)
        duration = _duration_words(str(raw))
        if duration is not None:
            return Parameter(name, duration.amount, DURATION_UCUM[duration.unit], str(raw))
        try:
            value, unit = units.parse_quantity(str(raw))
        except units.UnitError as error:
            self.report(path, f"parameter {name}: {error}")
            return None
        if units.is_duration(unit) and value <= 0:
            self.report(path, f"parameter {name}: a duration must be more than 0, not {raw}")
            return None
        return Parameter(name, value, unit, str(raw))

    def _level(self, path: tuple[str | int, ...], level: str, *, information: bool = False) -> bool:
        """Whether `level` is a declared level above the first; with `information`, the first
        too (a suggestion there informs and never raises the escalation)."""
        ids = [lv.id for lv in self.levels]
        if level in ids[1:] or (information and ids[:1] == [level]):
            return True
        if not self.spec.levels:
            self.report(
                path,
                f"the ruleset declares no levels, so nothing can be {level!r}; list them under "
                "levels:, lowest first, each with an id, a title and an indicator",
            )
        elif ids and level == ids[0]:
            self.report(path, f"{level!r} is the first level, which means nothing to do")
        else:
            self.report(
                path,
                f"there is no level {level!r}{_did_you_mean(level, ids[1:])} "
                f"(levels: {', '.join(ids[1:])})",
            )
        return False

    def _levels(self, concepts: dict[str, Concept]) -> tuple[Level, ...]:
        if self.spec.levels is None:
            # a ruleset that only derives findings: the one level means nothing to do
            return (Level(_NOTHING_LEVEL, "No action", "info"),)
        if not self.spec.levels:
            self.report(("levels",), "levels: list at least the first, nothing-to-do level")
            return (Level(_NOTHING_LEVEL, "No action", "info"),)
        levels: list[Level] = []
        for i, spec in enumerate(self.spec.levels):
            path: tuple[str | int, ...] = ("levels", i)
            if any(level.id == spec.id for level in levels):
                twin = next(j for j, other in enumerate(self.spec.levels) if other.id == spec.id)
                first = self.source.where(("levels", twin, "id"))[0]
                self.report(
                    (*path, "id"),
                    f"duplicate level id `{spec.id}`: first at line {first}",
                    code="duplicate-id",
                )
                continue
            if i == 0 and spec.propose:
                self.report(
                    (*path, "propose"),
                    f"{spec.id} is the first level, which means nothing to do: it proposes nothing",
                )
            proposals = self._proposals(spec, (*path, "propose"), concepts)
            levels.append(Level(spec.id, spec.title, spec.indicator, proposals, spec.label))
        return tuple(levels)

    def _proposals(
        self,
        spec: LevelSpec | ThenSpec,
        path: tuple[str | int, ...],
        concepts: dict[str, Concept],
    ) -> tuple[Proposal, ...]:
        return tuple(
            self._proposal((*path, i), item, concepts) for i, item in enumerate(spec.propose or [])
        )

    def _proposal(
        self, path: tuple[str | int, ...], spec: ProposalSpec, concepts: dict[str, Concept]
    ) -> Proposal:
        due: Duration | Literal["today", "now"] | None = None
        due_after: str | None = None
        due_else: Duration | None = None
        after = _DUE_AFTER.fullmatch(spec.due.strip()) if spec.due is not None else None
        if after is not None:
            due = self._duration((*path, "due"), after["due"])
            due_after = after["concept"]
            due_else = self._duration((*path, "due"), after["else"]) if after["else"] else None
            self._medication((*path, "due"), "due", due_after, concepts)
        elif spec.due is not None and spec.due.strip() in ("today", "now"):
            due = "today" if spec.due.strip() == "today" else "now"
        elif spec.due is not None:
            due = self._duration((*path, "due"), spec.due)
        when = self._condition(spec.when, (*path, "if")) if spec.when is not None else None
        already = self._condition(spec.already, (*path, "already")) if spec.already else None
        for condition in (when, already):
            if condition is not None:
                self.proposal_conditions.append(condition)
        if spec.already_text is not None and spec.already is None:
            self.report((*path, "already-text"), "already-text: goes with already: a condition")
        self._placeholders_ok(spec.note, (*path, "note"), concepts)
        for inner in _BRACED.findall(spec.already_text or ""):
            if inner not in _PLACED:
                self.report(
                    (*path, "already-text"),
                    f"{{{inner}}}: an already-text names only {{date}} or {{time}}, those of "
                    "the order already placed",
                )
        if spec.reason is not None:
            self._medication((*path, "reason"), "reason", spec.reason, concepts)
        if not spec.label.strip():
            self.report((*path, "label"), "a proposal's label is the button's words; give one")
        return Proposal(
            self._code((*path, "code"), spec.code),
            spec.label,
            spec.priority,
            spec.kind,
            due,
            spec.note,
            spec.reason,
            when=when,
            already=already,
            already_text=spec.already_text,
            due_after=due_after,
            due_else=due_else,
            first=spec.first,
            joins=spec.joins,
        )

    def _duration(self, path: tuple[str | int, ...], text: str) -> Duration | None:
        try:
            return parse_duration(text)
        except DurationSyntaxError as error:
            self.report(path, f"due: {error}")
            return None

    def _medication(
        self, path: tuple[str | int, ...], key: str, name: str, concepts: dict[str, Concept]
    ) -> None:
        """Report unless `name` is a medication concept (a proposal's reason, its due start)."""
        concept = concepts.get(name)
        if concept is None:
            self.report(path, f"{key}: unknown concept {name!r}{_did_you_mean(name, concepts)}")
        elif concept.kind != "medication":
            self.report(
                path,
                f"{key}: {name} is a {concept.kind}; a proposal's {key} is a medication concept",
            )

    def _hit_policy(self, rules: tuple[Rule, ...]) -> HitPolicy:
        spec = self.spec.hit_policy
        ids = {rule.id for rule in rules} | {r.id for r in self.spec.rules}
        always: set[str] = set()
        kinds: dict[str, frozenset[str]] = {}
        also: list[Shows] = []
        proposed = {p.code.key for lv in self.levels for p in lv.proposals}
        proposed |= {p.code.key for r in rules for p in r.then.proposals}
        proposed |= {r.then.referral.code.key for r in rules if r.then.referral is not None}
        self.proposed_codes = frozenset(proposed)
        for i, item in enumerate(spec.always):
            path: tuple[str | int, ...] = ("hit-policy", "always", i)
            if isinstance(item, str):
                self._policy_rules(path, [item], ids, always, whole=True)
                continue
            if item.levels or item.at or item.codes:
                also.append(self._shows(path, item, ids))
                continue
            if not item.rules:
                self.report(
                    path,
                    "hit-policy always: name the rules or the levels whose proposals are shown",
                )
            self._policy_rules((*path, "rules"), item.rules, ids, always)
            for rule in item.rules:
                if item.kinds:
                    kinds[rule] = frozenset(item.kinds)
        hide = tuple(
            self._hides(("hit-policy", "hide", i), item, ids) for i, item in enumerate(spec.hide)
        )
        for i, rule_spec in enumerate(self.spec.rules):
            for j, proposal in enumerate(rule_spec.then.propose or []):
                if proposal.joins and not spec.merge:
                    self.report(
                        ("rules", i, "then", "propose", j, "joins"),
                        "joins: adds to the same order of another rule, so it needs "
                        "hit-policy: merge: true",
                    )
        return HitPolicy(spec.show, spec.merge, frozenset(always), kinds, tuple(also), hide)

    def _policy_rules(
        self,
        path: tuple[str | int, ...],
        named: Sequence[str],
        ids: set[str],
        seen: set[str],
        *,
        whole: bool = False,
        what: str = "hit-policy always",
    ) -> None:
        """Report each of `named` that is no rule or is listed twice; add the others to
        `seen`. `whole`: `path` is the name's own (else the list's, indexed)."""
        for j, rule in enumerate(named):
            where = path if whole else (*path, j)
            if rule not in ids:
                self.report(where, f"{what}: no rule {rule!r}{_did_you_mean(rule, ids)}")
            elif rule in seen:
                self.report(where, f"{what}: {rule} is listed twice")
            seen.add(rule)

    def _shows(self, path: tuple[str | int, ...], item: AlwaysSpec, ids: set[str]) -> Shows:
        if not item.rules and not item.levels:
            self.report(
                path, "hit-policy always: name the rules or the levels whose proposals are shown"
            )
        self._policy_rules((*path, "rules"), item.rules, ids, set())
        for key, named in (("levels", item.levels), ("at", item.at)):
            for j, level in enumerate(named):
                self._level((*path, key, j), level, information=True)
        return Shows(
            frozenset(item.rules),
            frozenset(item.levels),
            frozenset(item.at),
            frozenset(item.kinds),
            frozenset(self._proposed((*path, "codes", j), c) for j, c in enumerate(item.codes)),
        )

    def _proposed(self, path: tuple[str | int, ...], text: str) -> tuple[str, str]:
        """The code a hit-policy entry names; reported unless some proposal orders it (a
        misspelt code would otherwise match nothing, in silence)."""
        code = self._code(path, text)
        if code.system != "invalid" and code.key not in self.proposed_codes:
            self.report(path, f"hit-policy: no level or rule proposes {text}")
        return code.key

    def _hides(self, path: tuple[str | int, ...], item: HideSpec, ids: set[str]) -> Hides:
        if not item.rules and not item.codes:
            self.report(
                path,
                "hit-policy hide: name the rules or the codes whose proposals "
                f"are not shown when {item.if_shown} is",
            )
        self._policy_rules((*path, "rules"), item.rules, ids, set(), what="hit-policy hide")
        return Hides(
            self._proposed((*path, "if-shown"), item.if_shown),
            frozenset(item.rules),
            frozenset(self._proposed((*path, "codes", j), c) for j, c in enumerate(item.codes)),
        )

    def _check_duplicate_codes(self, concepts: dict[str, Concept]) -> None:
        """A code means one concept, except a code from a value set, or one shared by concepts
        of different kinds (a coded ECG answer and a finding) or by event concepts of different
        resources (an ECG requested and an ECG done)."""
        seen: dict[tuple[str, str], list[str]] = {}
        for name, concept in concepts.items():
            for code in concept.codes:
                others = seen.setdefault(code.key, [])
                if name in others:
                    continue
                clash = next((o for o in others if _clash(concepts[o], concept)), None)
                others.append(name)
                from_value_set = {(name, code.key), (clash, code.key)} & self.from_value_sets
                if clash is None or from_value_set:
                    continue
                where = ("concepts", name, "codes", self.code_at.get((name, code.key), 0))
                if concept.kind == "event":
                    self.report(
                        where,
                        f"{code.compact(self.systems)} already means {clash}, also read from a "
                        f"{concept.resource}; a code may belong to one event concept of each "
                        "resource (unless it comes from a value set)",
                    )
                    continue
                self.report(
                    where,
                    f"{code.compact(self.systems)} already means {clash}; a code may "
                    "belong to one concept only (unless it comes from a value set)",
                )

    def _condition(self, raw: Any, path: tuple[str | int, ...]) -> Condition | None:
        try:
            return parse_condition(raw, path)
        except ConditionSyntaxError as error:
            self.report(error.path, str(error))
            return None

    def _bounded(
        self, path: tuple[str | int, ...], rule: str, condition: Condition
    ) -> Condition | None:
        """The condition, or None (reported) when its alternatives are too many to expand."""
        try:
            check_alternatives(rule, condition)
        except CompileError as error:
            self.report(path, f"rule {error.rule}: {error}")
            return None
        return condition

    def _rules(self, partial: Ruleset, derived: set[str]) -> tuple[Rule, ...]:
        rules: list[Rule] = []
        seen: dict[str, int] = {}
        for i, spec in enumerate(self.spec.rules):
            path: tuple[str | int, ...] = ("rules", i)
            if spec.id in seen:
                first = self.source.where(("rules", seen[spec.id], "id"))[0]
                self.report(
                    (*path, "id"),
                    f"duplicate rule id `{spec.id}`: first at line {first}",
                    code="duplicate-id",
                )
                continue
            if spec.id == SCOPE_RULE or spec.then.derive == SCOPE_FINDING:
                self.report(path, f"{SCOPE_RULE!r} and {SCOPE_FINDING!r} are Vigil's own names")
            seen[spec.id] = i
            when = self._condition(spec.when, (*path, "when"))
            suppressed: Condition | None = None
            if spec.suppressed_when is not None:
                suppressed = self._condition(spec.suppressed_when, (*path, "suppressed-when"))
                if suppressed is not None:
                    self._check_condition(suppressed, partial, derived)
            if when is not None:
                self._check_condition(when, partial, derived)
                when = self._bounded(path, spec.id, when)
            action = self._action(spec.then, (*path, "then"), partial)
            for j, advice in enumerate(spec.then.advice):
                if advice.when and advice.when not in derived:
                    self.report(
                        (*path, "then", "advice", j, "if"),
                        f"no rule derives {advice.when!r}{_did_you_mean(advice.when, derived)}",
                    )
            if when is None or action is None:
                continue
            line, _ = self.source.where(path)
            title = spec.title or spec.id
            if suppressed is not None:
                # the rule fires when its condition holds and it is not suppressed; when it is,
                # a rule of its own derives that, for a `suppressed:` condition to read
                finding = suppressed_finding(spec.id)
                both = self._bounded(path, spec.id, All((when, suppressed), path))
                if both is None:
                    continue
                rules.append(
                    Rule(finding, f"{title} (suppressed)", both, Action(derive=finding), line)
                )
                when = All((when, Not(suppressed, path)), path)
            rules.append(Rule(spec.id, title, when, action, line))
        return tuple(rules)

    def _action(
        self, spec: ThenSpec, path: tuple[str | int, ...], partial: Ruleset
    ) -> Action | None:
        ok = True
        if not spec.derive and not spec.suggest:
            self.report(path, "then: needs derive, suggest, or both")
            ok = False
        if spec.derive and not re.fullmatch(r"[a-z][a-z0-9-]*", spec.derive):
            self.report((*path, "derive"), f"finding {spec.derive!r}: use lowercase and hyphens")
            ok = False
        if spec.suggest is not None:
            ok = self._level((*path, "suggest"), spec.suggest, information=True) and ok
            if not spec.summary:
                self.report(path, "a suggestion needs a summary")
                ok = False
        said = self._summaries(spec, (*path, "summary"))
        summaries = tuple(variant for variant, _ in said)
        summary = summaries[-1].text if summaries else None
        ok = all(self._placeholders_ok(s.text, p, partial.concepts) for s, p in said) and ok
        ok = self._placeholders_ok(spec.detail, (*path, "detail"), partial.concepts) and ok
        for j, item in enumerate(spec.advice):
            where = (*path, "advice", j, "text")
            ok = self._placeholders_ok(item.text, where, partial.concepts) and ok
        instructions = self._instructions(spec, (*path, "instruction"), partial.concepts)
        if spec.instruction is not None and not spec.suggest:
            self.report((*path, "instruction"), "instruction: goes with suggest: a level")
            ok = False
        for variant, where in said:
            # as a card shows it, roughly: each placeholder as wide as a date
            width = len(" ".join(_BRACED.sub("x" * PLACEHOLDER_WIDTH, variant.text).split()))
            if width > SUMMARY_LIMIT:
                self.report(
                    where,
                    f"summary is about {width} characters once filled in; keep it under "
                    f"{SUMMARY_LIMIT}",
                )
                ok = False
        cites = [spec.cite] if isinstance(spec.cite, str) else spec.cite
        for i, key in enumerate(cites):
            if key not in partial.citations:
                where = (*path, "cite") if isinstance(spec.cite, str) else (*path, "cite", i)
                self.report(
                    where,
                    f"no citation {key!r} in citations{_did_you_mean(key, partial.citations)}",
                )
                ok = False
        referral = None
        if spec.suggest and ok:
            base = partial.referral_for(spec.suggest)
            code = (
                self._code((*path, "referral"), spec.referral)
                if spec.referral
                else (base.code if base else None)
            )
            if code is not None:
                referral = Referral(code, spec.priority or (base.priority if base else "routine"))
        advice = tuple(Advice(a.text, a.when) for a in spec.advice)
        proposals = self._proposals(spec, (*path, "propose"), dict(partial.concepts))
        if spec.propose is not None and not spec.suggest:
            self.report((*path, "propose"), "propose: goes with suggest: a level")
            ok = False
        if not ok:
            return None
        return Action(
            derive=spec.derive,
            suggest=spec.suggest,
            summary=summary,
            detail=spec.detail,
            cite=tuple(cites),
            referral=referral,
            advice=advice,
            proposals=proposals,
            instructions=instructions,
            summaries=summaries if len(summaries) > 1 else (),
        )

    def _summaries(
        self, spec: ThenSpec, path: tuple[str | int, ...]
    ) -> list[tuple[Instruction, tuple[str | int, ...]]]:
        """A suggestion's summary, each text with its place: one text, or variants each with an
        `if:` but the last (said when none holds)."""
        if spec.summary is None:
            return []
        if isinstance(spec.summary, str):
            return [(Instruction(spec.summary), path)]
        made: list[tuple[Instruction, tuple[str | int, ...]]] = []
        for i, item in enumerate(spec.summary):
            last = i == len(spec.summary) - 1
            when = None
            if item.when is not None and last:
                self.report((*path, i, "if"), "the last summary has no if: it is said otherwise")
            elif item.when is not None:
                when = self._condition(item.when, (*path, i, "if"))
                if when is not None:
                    self.proposal_conditions.append(when)
            elif not last:
                self.report((*path, i), "a summary before the last needs an if:")
            made.append((Instruction(item.text, when), (*path, i, "text")))
        return made

    def _instructions(
        self, spec: ThenSpec, path: tuple[str | int, ...], concepts: Mapping[str, Concept]
    ) -> tuple[Instruction, ...]:
        """A rule's "Do now" instruction: one text, or texts each with an `if:` condition."""
        if spec.instruction is None:
            return ()
        if isinstance(spec.instruction, str):
            self._placeholders_ok(spec.instruction, path, concepts)
            return (Instruction(spec.instruction),)
        made = []
        for i, item in enumerate(spec.instruction):
            self._placeholders_ok(item.text, (*path, i, "text"), concepts)
            when = self._condition(item.when, (*path, i, "if")) if item.when is not None else None
            if when is not None:
                self.proposal_conditions.append(when)
            made.append(Instruction(item.text, when))
        return tuple(made)

    def _placeholders_ok(
        self, text: str | None, path: tuple[str | int, ...], concepts: Mapping[str, Concept]
    ) -> bool:
        """Whether every brace in `text` is a placeholder naming a concept or parameter. A brace
        is never literal: the evaluator would leave {Potassium} or an unclosed { on the card as
        written, a typo seen only when a patient's card shows it."""
        ok = True
        for inner in _BRACED.findall(text or ""):
            name, dated = inner.removesuffix(" date"), inner.endswith(" date")
            if dated and name in concepts:
                continue  # `{weakness date}`: the date of its latest record saying present
            old = inner.removesuffix(" old")
            if old != inner and old in concepts and concepts[old].kind == "quantity":
                continue  # `{potassium old}`: its old value a `not rechecked` condition found
            counted = inner.rsplit(" ", 1)
            if len(counted) == 2 and counted[1] in COUNT_PARTS and counted[0] in concepts:
                continue  # `{fasciculation regions}`, `{fasciculation span}`
            if inner in self.spec.word_lists:
                continue  # `{symptoms}`: the words of those of a list present
            known = (
                inner in concepts
                or inner in self.spec.parameters
                or inner in self.spec.dates
                or (inner == SUPPRESSED and any(r.suppressed_when for r in self.spec.rules))
            )
            sided = inner.removesuffix(" side")  # `{leg_swelling side}`: a finding's side
            if sided != inner and sided in concepts:
                known = concepts[sided].kind == "finding"
            elif inner.split(" ")[0] in concepts and inner.count(" ") == 1:
                self.report(
                    path,
                    f"{{{inner}}}: a concept's age, comment or drugs are read only in a "
                    "card note (notes:); here write {" + inner.split(" ")[0] + "}",
                )
                ok = False
                continue
            if not (known and _PLACEHOLDER.fullmatch(f"{{{inner}}}")):
                self.report(
                    path,
                    f"{{{inner}}} names no concept or parameter"
                    f"{_did_you_mean(inner, [*concepts, *self.parameters])}",
                )
                ok = False
        unpaired = set(_BRACED.sub("", text or "")) & {"{", "}"}
        if unpaired:
            self.report(
                path,
                f"{' and '.join(sorted(unpaired))} without its pair; braces only mark "
                "placeholders such as {potassium}",
            )
            ok = False
        return ok

    def _check_condition(self, condition: Condition, partial: Ruleset, derived: set[str]) -> None:
        for atom in atoms(condition):
            if isinstance(atom, FindingRef):
                rule = suppressed_rule(atom.name)
                if rule is not None and atom.name not in derived:
                    self.report(
                        atom.path,
                        f"suppressed: rule {rule!r} has no suppressed-when:, so it is never "
                        "suppressed",
                    )
                elif atom.name not in derived:
                    hint = (
                        f"; {atom.name} is a concept: write '{atom.name} present'"
                        if atom.name in partial.concepts
                        else _did_you_mean(atom.name, derived)
                    )
                    self.report(atom.path, f"no rule derives the finding {atom.name!r}{hint}")
            elif isinstance(atom, NoSuggestion):
                if atom.level is not None:
                    self._level(atom.path, atom.level)
            elif atom.concept not in partial.concepts:
                hint = _did_you_mean(atom.concept, partial.concepts)
                self.report(atom.path, f"unknown concept {atom.concept!r}{hint}")
            else:
                codes = {n for n, p in partial.parameters.items() if p.code is not None}
                for name in sorted(_parameters_named(atom) & codes):
                    self.report(
                        atom.path,
                        f"parameter {name} is a code ({partial.parameters[name].text}), not a "
                        f"number or a duration: '{atom.text}' cannot use it",
                    )
                broken = frozenset(
                    (self.spec.parameters.keys() - partial.parameters.keys())
                    | self.broken.parameters
                )
                for path, message in check_atom(atom, partial, broken | codes):
                    dimension = path[:1] == ("parameters",) and " is read in " in message
                    self.report(path, message, code="unit-dimension" if dimension else "")

    def _notes(self, partial: Ruleset, derived: set[str], rule_ids: set[str]) -> tuple[Note, ...]:
        notes: list[Note] = []
        seen: dict[str, int] = {}
        for i, spec in enumerate(self.spec.notes):
            path: tuple[str | int, ...] = ("notes", i)
            # variants of one note (one id, the first that holds is shown) stand together
            if spec.id in seen and self.spec.notes[i - 1].id != spec.id:
                first = self.source.where(("notes", seen[spec.id], "id"))[0]
                self.report(
                    (*path, "id"),
                    f"duplicate note id `{spec.id}`: first at line {first}; variants of a note "
                    "(one id) stand one after another",
                    code="duplicate-id",
                )
            seen.setdefault(spec.id, i)
            note = self._note(path, spec, partial, derived, rule_ids)
            if note is not None:
                notes.append(note)
        return tuple(notes)

    def _note(
        self,
        path: tuple[str | int, ...],
        spec: NoteSpec,
        partial: Ruleset,
        derived: set[str],
        rule_ids: set[str],
    ) -> Note | None:
        ok = True
        named = {**self.spec.parameters, **self.spec.dates}  # `{neurology_review}`: a named date
        for message in note_text_problems(spec.text, partial.concepts, named):
            self.report((*path, "text"), message)
            ok = False
        if not spec.text.strip():
            self.report((*path, "text"), "a note needs its text")
            ok = False
        levels = [spec.show_at] if isinstance(spec.show_at, str) else spec.show_at
        for j, level in enumerate(levels):
            where = (*path, "show-at") if isinstance(spec.show_at, str) else (*path, "show-at", j)
            ok = self._level(where, level, information=True) and ok
        when = None
        if spec.when is not None:
            try:
                when = parse_note_condition(spec.when, (*path, "when"))
            except ConditionSyntaxError as error:
                self.report(error.path, str(error))
                return None
            for leaf in leaves(when):
                if isinstance(leaf, Fired):
                    if leaf.rule not in rule_ids:
                        hint = _did_you_mean(leaf.rule, rule_ids)
                        self.report(leaf.path, f"no rule {leaf.rule!r} to have fired{hint}")
                        ok = False
                    continue
                before = len(self.problems)
                self._check_condition(leaf.condition, partial, derived)
                ok = ok and len(self.problems) == before
        if not ok:
            return None
        return Note(spec.id, spec.text, when, tuple(levels), spec.section)

    def _red_flag(self, i: int, partial: Ruleset, derived: set[str]) -> RedFlag:
        """One red flag: a `concept` or `finding` shorthand, or `present-when` / `states` with
        an optional `absent-when`; every condition checked as a rule's is."""
        spec = self.spec.red_flags[i]
        path = ("red-flags", i)
        forms = [k for k, v in (("concept", spec.concept), ("finding", spec.finding)) if v]
        if spec.present_when is not None:
            forms.append("present-when")
        if spec.states:
            forms.append("states")
        if len(forms) != 1:
            named = " and ".join(forms) if forms else "none of them"
            self.report(
                path,
                f"red flag {spec.label!r}: say when it is present with exactly one of concept, "
                f"finding, present-when or states (it has {named})",
            )
        elif spec.concept is not None and spec.concept not in partial.concepts:
            self.report(
                (*path, "concept"),
                f"red flag {spec.label!r}: unknown concept {spec.concept!r}"
                f"{_did_you_mean(spec.concept, partial.concepts)}",
            )
        elif spec.concept is not None and partial.concepts[spec.concept].kind != "finding":
            kind = partial.concepts[spec.concept].kind
            self.report(
                (*path, "concept"),
                f"red flag {spec.label!r}: {spec.concept} is a {kind}, which is never present "
                "or absent; write present-when: with a condition",
            )
        elif spec.finding is not None and spec.finding not in derived:
            self.report(
                (*path, "finding"),
                f"red flag {spec.label!r}: no rule derives {spec.finding!r}"
                f"{_did_you_mean(spec.finding, derived)}",
            )
        states: list[tuple[str, Condition]] = []
        present = [("present", spec.present_when)] if spec.present_when is not None else []
        for name, raw in [*present, *spec.states.items()]:
            where = (
                (*path, "present-when")
                if name == "present" and present
                else (*path, "states", name)
            )
            if name in ("absent", "not-recorded") or not re.fullmatch(r"[a-z][a-z0-9-]*", name):
                self.report(
                    where,
                    f"red flag {spec.label!r}: {name!r} cannot name a present state (lower-case "
                    "words joined by -, not absent or not-recorded)",
                )
                continue
            condition = self._flag_condition(raw, where, partial, derived)
            if condition is not None:
                states.append((name, condition))
        absent = None
        if spec.absent_when is not None:
            absent = self._flag_condition(
                spec.absent_when, (*path, "absent-when"), partial, derived
            )
        ident = spec.id or spec.concept or spec.finding or ""
        if not ident:
            self.report(path, f"red flag {spec.label!r} needs an id (lower-case words joined by -)")
        return RedFlag(spec.label, spec.concept, spec.finding, ident, tuple(states), absent)

    def _distinct_flags(self, flags: tuple[RedFlag, ...]) -> None:
        seen: dict[str, int] = {}
        for i, flag in enumerate(flags):
            if flag.id and flag.id in seen:
                first = self.source.where(("red-flags", seen[flag.id]))[0]
                self.report(
                    ("red-flags", i),
                    f"duplicate red flag id `{flag.id}`: first at line {first}",
                    code="duplicate-id",
                )
            seen.setdefault(flag.id, i)

    def _flag_condition(
        self, raw: Any, path: tuple[str | int, ...], partial: Ruleset, derived: set[str]
    ) -> Condition | None:
        condition = self._condition(raw, path)
        if condition is None:
            return None
        self._check_condition(condition, partial, derived)
        return self._bounded(path, "red flag", condition)
