"""Load a ruleset file: check its shape and its meaning, report every problem at once."""

from __future__ import annotations

import difflib
import hashlib
import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from . import units
from .codes import DEFAULT_SYSTEMS, Code, parse_code
from .compiler import (
    SCOPE_FINDING,
    SCOPE_RULE,
    CompileError,
    check_alternatives,
    compile_ruleset,
)
from .conditions import (
    BelowReference,
    Compare,
    Condition,
    ConditionSyntaxError,
    FindingRef,
    NoSuggestion,
    Presence,
    atoms,
    parse_condition,
)
from .dependencies import Cycle, strata
from .errors import ArgumentError, Problem, RulesetError
from .levels import ladder
from .model import (
    Action,
    Advice,
    Citation,
    Concept,
    Level,
    Parameter,
    RedFlag,
    Referral,
    Rule,
    Ruleset,
)
from .schema import ConceptSpec, RulesetSpec, ThenSpec
from .thresholds import ThresholdError, ThresholdOutOfRange, resolve_threshold
from .yaml_source import Source, load_yaml

# the levels of every ruleset until the loader reads a ruleset's own `levels:`
DEFAULT_LEVELS = (
    Level("none", "No action", "info"),
    Level("self-care", "Self-care", "info"),
    Level("primary-care", "Primary care", "warning"),
    Level("neurology", "Neurology", "warning"),
    Level("urgent", "Urgent", "critical"),
)
LEVELS = tuple(level.id for level in DEFAULT_LEVELS)

MAX_RULESET_BYTES = 4 * 2**20  # a ruleset is input from people: far above 4,000 rules' worth
SUMMARY_LIMIT = 120  # leaves room under CDS Hooks' 140 characters once placeholders are filled
_PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
_BRACED = re.compile(r"\{([^{}]*)\}")


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
    process) is the SHA-256 of `text`: a `content_hash` given is checked against it."""
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
    try:
        spec = RulesetSpec.model_validate(parsed.data)
    except ValidationError as error:
        raise RulesetError(problems + _shape_problems(error, parsed)) from None
    checker = _Checker(parsed, spec)
    ruleset = checker.build(digest, source)
    problems += checker.problems
    if problems:
        raise RulesetError(problems)
    return ruleset


def _path_text(loc: tuple[str | int, ...]) -> str:
    """`rules.3.when`, with any key that is not a plain name quoted."""
    return ".".join(
        str(part) if isinstance(part, int) or re.fullmatch(r"[\w-]+", part) else repr(part)
        for part in loc
    )


def _shape_problems(error: ValidationError, source: Source) -> list[Problem]:
    problems = []
    for item in error.errors():
        loc = tuple(item["loc"])
        kind = item["type"]
        where = _path_text(loc) or "the ruleset"
        if kind == "missing":
            message = f"{where} is missing"
        elif kind == "extra_forbidden":
            message = f"unknown key {loc[-1]!r} in {_path_text(loc[:-1]) or 'the ruleset'}"
        elif kind == "literal_error":
            message = f"{where}: {item['msg'].lower()}, not {item['input']!r}"
        elif kind == "string_pattern_mismatch" and loc[-1] == "version":
            message = f"version {item['input']!r} is not semantic (major.minor.patch)"
        elif kind == "string_pattern_mismatch":
            message = f"{where} {item['input']!r}: use lowercase letters, digits and hyphens"
        else:
            message = f"{where}: {item['msg']}"
        problems.append(source.problem(loc, message, at_key=kind == "extra_forbidden"))
    return problems


def _did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


class _Checker:
    def __init__(self, source: Source, spec: RulesetSpec) -> None:
        self.source = source
        self.spec = spec
        self.problems: list[Problem] = []
        self.systems = {**DEFAULT_SYSTEMS, **spec.code_systems}

    def report(self, path: tuple[str | int, ...], message: str) -> None:
        problem = self.source.problem(path, message)
        if problem not in self.problems:  # a parameter used by several rules is wrong once
            self.problems.append(problem)

    def build(self, digest: str, source: Path | None) -> Ruleset:
        spec = self.spec
        concepts = {
            name: self._concept(name, c)
            for name, c in spec.concepts.items()
            if self._is_name(("concepts", name), name)
        }
        sites = {
            name: tuple(self._code(("sites", name, i), text) for i, text in enumerate(codes))
            for name, codes in spec.sites.items()
        }
        parameters = {
            name: p
            for name, value in spec.parameters.items()
            if (p := self._parameter(name, value))
        }
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
            source=source,
            code_systems=self.systems,
            levels=DEFAULT_LEVELS,
        )
        derived = {r.then.derive for r in spec.rules if r.then.derive}
        rules = self._rules(partial, derived)
        scope = self._condition(spec.scope, ("scope",)) if spec.scope is not None else None
        if scope is not None:
            self._check_condition(scope, partial, derived)
            scope = self._bounded(("scope",), SCOPE_RULE, scope)
        red_flags = tuple(self._red_flag(i, partial, derived) for i in range(len(spec.red_flags)))
        try:
            strata(rules, ladder(partial))
        except Cycle as cycle:
            first = next(r for r in rules if r.id == cycle.rules[0])
            self.report(
                ("rules", rules.index(first)),
                f"these rules derive each other's findings in a cycle: {cycle}",
            )
        ruleset = replace(partial, rules=rules, scope=scope, red_flags=red_flags)
        if not self.problems:
            try:
                compile_ruleset(ruleset)
            except CompileError as error:
                index = next((i for i, r in enumerate(rules) if r.id == error.rule), 0)
                self.report(("rules", index), f"rule {error.rule}: {error}")
        return ruleset

    # -- pieces -----------------------------------------------------------------------------

    def _is_name(self, path: tuple[str | int, ...], name: str) -> bool:
        if re.fullmatch(r"[a-z][a-z0-9_]*", name):
            return True
        self.report(path, f"concept name {name!r}: use lowercase letters, digits and underscores")
        return False

    def _code(self, path: tuple[str | int, ...], text: str, display: str | None = None) -> Code:
        try:
            code = parse_code(text, self.systems)
        except ValueError as error:
            self.report(path, str(error))
            return Code("invalid", text)
        return Code(code.system, code.code, display)

    def _concept(self, name: str, spec: ConceptSpec) -> Concept:
        path: tuple[str | int, ...] = ("concepts", name)
        codes = tuple(self._code((*path, "codes", i), c) for i, c in enumerate(spec.codes))
        unit = None
        if spec.unit is not None:
            try:
                unit = units.lookup(spec.unit).code
            except units.UnitError:
                self.report((*path, "unit"), f"{name}: unknown unit {spec.unit!r}")
        lookback = None
        if spec.lookback is not None:
            lookback = self._lookback((*path, "lookback"), spec.lookback, name)
        molar_mass = None
        if spec.molar_mass is not None:
            molar_mass = self._molar_mass((*path, "molar-mass"), spec.molar_mass, name)
        return Concept(name, codes, unit, lookback, molar_mass, spec.valence, spec.title)

    def _lookback(self, path: tuple[str | int, ...], text: str, concept: str) -> timedelta | None:
        try:
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
        try:
            value, unit = units.parse_quantity(str(raw))
        except units.UnitError as error:
            self.report(path, f"parameter {name}: {error}")
            return None
        if units.is_duration(unit) and value <= 0:
            self.report(path, f"parameter {name}: a duration must be more than 0, not {raw}")
            return None
        return Parameter(name, value, unit, str(raw))

    def _level(self, path: tuple[str | int, ...], level: str) -> bool:
        if level in LEVELS and level != "none":
            return True
        self.report(
            path,
            f"there is no level {level!r}{_did_you_mean(level, LEVELS[1:])} "
            f"(levels: {', '.join(LEVELS[1:])})",
        )
        return False

    def _check_duplicate_codes(self, concepts: dict[str, Concept]) -> None:
        seen: dict[tuple[str, str], str] = {}
        for name, concept in concepts.items():
            for i, code in enumerate(concept.codes):
                other = seen.setdefault(code.key, name)
                if other != name:
                    self.report(
                        ("concepts", name, "codes", i),
                        f"{code.compact(self.systems)} already means {other}; a code may "
                        "belong to one concept only",
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
        seen: set[str] = set()
        for i, spec in enumerate(self.spec.rules):
            path: tuple[str | int, ...] = ("rules", i)
            if spec.id in seen:
                self.report((*path, "id"), f"rule id {spec.id!r} is used twice")
                continue
            if spec.id == SCOPE_RULE or spec.then.derive == SCOPE_FINDING:
                self.report(path, f"{SCOPE_RULE!r} and {SCOPE_FINDING!r} are Vigil's own names")
            seen.add(spec.id)
            when = self._condition(spec.when, (*path, "when"))
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
            rules.append(Rule(spec.id, spec.title or spec.id, when, action, line))
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
            ok = self._level((*path, "suggest"), spec.suggest) and ok
            if not spec.summary:
                self.report(path, "a suggestion needs a summary")
                ok = False
        for key in ("summary", "detail"):
            ok = self._placeholders_ok(getattr(spec, key), (*path, key), partial) and ok
        for j, item in enumerate(spec.advice):
            ok = self._placeholders_ok(item.text, (*path, "advice", j, "text"), partial) and ok
        if spec.summary and len(spec.summary) > SUMMARY_LIMIT:
            self.report(
                (*path, "summary"),
                f"summary is {len(spec.summary)} characters; keep it under {SUMMARY_LIMIT}",
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
        if not ok:
            return None
        return Action(
            derive=spec.derive,
            suggest=spec.suggest,
            summary=spec.summary,
            detail=spec.detail,
            cite=tuple(cites),
            referral=referral,
            advice=advice,
        )

    def _placeholders_ok(
        self, text: str | None, path: tuple[str | int, ...], partial: Ruleset
    ) -> bool:
        """Whether every brace in `text` is a placeholder naming a concept or parameter. A brace
        is never literal: the evaluator would leave {Potassium} or an unclosed { on the card as
        written, a typo seen only when a patient's card shows it."""
        ok = True
        for inner in _BRACED.findall(text or ""):
            known = inner in partial.concepts or inner in self.spec.parameters
            if not (known and _PLACEHOLDER.fullmatch(f"{{{inner}}}")):
                self.report(
                    path,
                    f"{{{inner}}} names no concept or parameter"
                    f"{_did_you_mean(inner, [*partial.concepts, *partial.parameters])}",
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
                if atom.name not in derived:
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
            elif isinstance(atom, Presence) and atom.site and atom.site not in partial.sites:
                self.report(
                    atom.path,
                    f"unknown body site {atom.site!r}{_did_you_mean(atom.site, partial.sites)}",
                )
            elif isinstance(atom, BelowReference) and partial.concepts[atom.concept].unit is None:
                self.report(atom.path, f"{atom.concept} has no unit, so no reference range")
            elif isinstance(atom, Compare):
                broken = self.spec.parameters.keys() - partial.parameters.keys()
                if atom.threshold in broken:
                    continue  # the parameter itself is wrong, and reported already
                try:
                    resolve_threshold(atom, partial)
                except ThresholdOutOfRange as error:
                    self.report(self._threshold_path(atom, partial), str(error))
                except ThresholdError as error:
                    self.report(atom.path, str(error))

    @staticmethod
    def _threshold_path(atom: Compare, partial: Ruleset) -> tuple[str | int, ...]:
        """Where to fix a threshold whose number is wrong: at its parameter, if it has one."""
        return ("parameters", atom.threshold) if atom.threshold in partial.parameters else atom.path

    def _red_flag(self, i: int, partial: Ruleset, derived: set[str]) -> RedFlag:
        spec = self.spec.red_flags[i]
        path = ("red-flags", i)
        if (spec.concept is None) == (spec.finding is None):
            self.report(path, "a red flag names exactly one of concept or finding")
        elif spec.concept is not None and spec.concept not in partial.concepts:
            self.report(
                (*path, "concept"),
                f"unknown concept {spec.concept!r}{_did_you_mean(spec.concept, partial.concepts)}",
            )
        elif spec.finding is not None and spec.finding not in derived:
            self.report(
                (*path, "finding"),
                f"no rule derives {spec.finding!r}{_did_you_mean(spec.finding, derived)}",
            )
        return RedFlag(spec.label, spec.concept, spec.finding)
