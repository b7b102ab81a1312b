"""Read the ruleset keys about kinds of evidence and named dates, with their problems.

A concept's `evidence`, `scores` and `superseded`, a coded concept's `answers` and answer
`ties`, and the ruleset's `dates`. Each reader returns what it read and its problems as
(path, message), in clinical words; the loader reports them at their place in the file.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from .clock import Duration
from .codes import Code
from .conditions import DurationSyntaxError, parse_duration
from .evidence import NONE, OTHER
from .model import (
    Concept,
    EvidenceClass,
    Parameter,
    ReviewDate,
    ScoreEvidence,
    Supersession,
)
from .schema import ConceptSpec
from .thresholds import parameter_duration

Path = tuple[str | int, ...]
Problems = list[tuple[Path, str]]
ReadCode = Callable[[Path, str], Code]

# FHIR's Observation category codes and Condition verification statuses
CATEGORIES = frozenset(
    {
        "social-history",
        "vital-signs",
        "imaging",
        "laboratory",
        "procedure",
        "survey",
        "exam",
        "therapy",
        "activity",
    }
)
VERIFICATIONS = frozenset(
    {"unconfirmed", "provisional", "differential", "confirmed", "refuted", "entered-in-error"}
)
_NAME = r"[a-z][a-z0-9_]*"
_CLASS = re.compile(r"^[a-z][a-z0-9_-]*$")
_SCORE = re.compile(rf"^(?P<score>{_NAME})\s*(?P<op><=|>=|<|>|=)\s*(?P<value>-?\d+(?:\.\d+)?)$")
_AS = re.compile(r"^(?:(?P<evidence>[a-z][a-z0-9_-]*)\s+)?(?P<state>present|absent)$")
_SUPERSEDED = re.compile(r"^(?P<old>[a-z][a-z0-9_-]*)\s+by\s+(?P<new>[a-z][a-z0-9_-]*)\s+absent$")
_DATE = re.compile(
    rf"^latest\s+of\s+(?P<names>{_NAME}(?:\s*,\s*{_NAME})*)\s+within\s+(?P<within>.+)$"
)


def evidence_classes(
    name: str, spec: ConceptSpec, kind: str
) -> tuple[tuple[EvidenceClass, ...], Problems]:
    """A finding's evidence classes, in the order written (the first that fits wins)."""
    path: Path = ("concepts", name, "evidence")
    problems: Problems = []
    if spec.evidence and kind != "finding":
        problems.append((path, f"evidence: is for a finding; {name} is a {kind}"))
    classes = []
    for key, item in spec.evidence.items():
        where = (*path, key)
        if not _CLASS.match(key) or key in _RESERVED:
            problems.append(
                (
                    where,
                    f"evidence class {key!r}: use a word such as examined or reported, not one of "
                    f"{', '.join(sorted(_RESERVED))}",
                )
            )
        for i, code in enumerate(item.category):
            if code not in CATEGORIES | {NONE, OTHER}:
                problems.append(
                    (
                        (*where, "category", i),
                        f"{code!r} is not an Observation category; use one of "
                        f"{', '.join(sorted(CATEGORIES))}, none or other",
                    )
                )
        for i, code in enumerate(item.verification):
            if code not in VERIFICATIONS | {NONE}:
                problems.append(
                    (
                        (*where, "verification", i),
                        f"{code!r} is not a Condition verification status; use one of "
                        f"{', '.join(sorted(VERIFICATIONS))} or none",
                    )
                )
        if not item.category and not item.verification:
            problems.append(
                (
                    where,
                    f"evidence class {key}: give the categories or verification statuses "
                    "that make a record one",
                )
            )
        classes.append(EvidenceClass(key, frozenset(item.category), frozenset(item.verification)))
    return tuple(classes), problems


# words a condition reads after a concept, which an evidence class cannot be called
_RESERVED = frozenset(
    {
        "present",
        "absent",
        "recorded",
        "not",
        "active",
        "on",
        "confirmed",
        "started",
        "ended",
        "is",
        "marked",
        "previous",
        "below",
        "above",
        "at",
        "within",
        "since",
        "after",
        "all",
        "undated",
    }
)


def score_evidence(
    name: str, spec: ConceptSpec, classes: tuple[EvidenceClass, ...]
) -> tuple[tuple[ScoreEvidence, ...], Problems]:
    """`mrc_grade <= 4: examined present`: the score records that stand as this finding's."""
    path: Path = ("concepts", name, "scores")
    problems: Problems = []
    known = {c.name for c in classes}
    result = []
    for key, value in spec.scores.items():
        where = (*path, key)
        score, stands = _SCORE.match(" ".join(key.split())), _AS.match(" ".join(str(value).split()))
        if score is None:
            problems.append(
                (where, f"{key!r}: write a score compared with a number, e.g. 'mrc_grade <= 4'")
            )
            continue
        if stands is None:
            problems.append(
                (
                    where,
                    f"{value!r}: write what such a record is, e.g. 'examined present' or 'absent'",
                )
            )
            continue
        evidence = stands.group("evidence")
        if evidence is not None and evidence not in known:
            listed = ", ".join(sorted(known)) or "none: add evidence: to the concept"
            problems.append(
                (where, f"{name} has no evidence class {evidence!r} (its classes: {listed})")
            )
        result.append(
            ScoreEvidence(
                score.group("score"),
                score.group("op"),
                float(score.group("value")),
                evidence,
                stands.group("state") == "present",
                key,
            )
        )
    return tuple(result), problems


def check_scores(concepts: Mapping[str, Concept]) -> Problems:
    """Each concept a `scores` key names is a score concept of the ruleset."""
    problems: Problems = []
    for concept in concepts.values():
        for rule in concept.scores:
            where: Path = ("concepts", concept.name, "scores", rule.text)
            score = concepts.get(rule.score)
            if score is None:
                problems.append((where, f"unknown concept {rule.score!r}"))
            elif score.kind != "score":
                problems.append(
                    (
                        where,
                        f"{rule.score} is a {score.kind}, not a score: only a score's records "
                        f"stand as {concept.name}'s",
                    )
                )
    return problems


def supersessions(
    name: str, spec: ConceptSpec, classes: tuple[EvidenceClass, ...]
) -> tuple[tuple[Supersession, ...], Problems]:
    """`reported by examined absent`: which present records stop counting."""
    raw = spec.superseded
    if raw is None:
        return (), []
    items = [raw] if isinstance(raw, str) else raw
    path: Path = ("concepts", name, "superseded")
    problems: Problems = []
    known = {c.name for c in classes}
    result = []
    for i, text in enumerate(items):
        where = path if isinstance(raw, str) else (*path, i)
        match = _SUPERSEDED.match(" ".join(text.split()))
        if match is None:
            problems.append((where, f"{text!r}: write e.g. 'reported by examined absent'"))
            continue
        for word in (match.group("old"), match.group("new")):
            if word not in known:
                listed = ", ".join(sorted(known)) or "none: add evidence: to the concept"
                problems.append(
                    (where, f"{name} has no evidence class {word!r} (its classes: {listed})")
                )
        result.append(Supersession(match.group("old"), match.group("new")))
    return tuple(result), problems


def coded_answers(
    name: str, spec: ConceptSpec, kind: str, code: ReadCode
) -> tuple[tuple[Code, ...], tuple[Code, ...], Problems]:
    """A coded concept's `answers` and the answers its `ties` says win a tie."""
    path: Path = ("concepts", name)
    problems: Problems = []
    if spec.answers and kind != "coded":
        problems.append(
            ((*path, "answers"), f"answers: is for a coded concept; {name} is a {kind}")
        )
    answers = tuple(code((*path, "answers", i), text) for i, text in enumerate(spec.answers))
    ties: tuple[Code, ...] = ()
    if isinstance(spec.ties, list):
        if kind != "coded":
            problems.append(
                (
                    (*path, "ties"),
                    f"ties: is highest or lowest for a {kind}; a list of answers is for a "
                    "coded concept",
                )
            )
        ties = tuple(code((*path, "ties", i), text) for i, text in enumerate(spec.ties))
        if answers and kind == "coded":
            for i, tie in enumerate(ties):
                if tie.key not in {a.key for a in answers}:
                    problems.append(
                        ((*path, "ties", i), f"{spec.ties[i]} is not one of {name}'s answers")
                    )
    return answers, ties, problems


def review_dates(
    raw: Mapping[str, str], concepts: Mapping[str, Concept], parameters: Mapping[str, Parameter]
) -> tuple[dict[str, ReviewDate], Problems]:
    """`neurology_review: latest of referral, assessment within 365 days`."""
    problems: Problems = []
    result = {}
    for name, text in raw.items():
        where: Path = ("dates", name)
        written = " ".join(str(text).split())
        if not re.fullmatch(_NAME, name):
            problems.append(
                (where, f"date name {name!r}: use lowercase letters, digits and underscores")
            )
            continue
        if name in concepts:
            problems.append((where, f"{name} is a concept already; give the date another name"))
            continue
        match = _DATE.match(written)
        if match is None:
            problems.append(
                (
                    where,
                    f"{written!r}: write e.g. 'latest of neurology_referral, "
                    "neurology_assessment within 365 days'",
                )
            )
            continue
        names = tuple(n.strip() for n in match.group("names").split(","))
        for concept in names:
            if concept not in concepts:
                problems.append((where, f"unknown concept {concept!r} in {written!r}"))
        within, problem = _within(match.group("within"), parameters)
        if within is None:
            problems.append((where, f"in {written!r}: {problem}"))
            continue
        result[name] = ReviewDate(name, names, within, written)
    return result, problems


def _within(text: str, parameters: Mapping[str, Parameter]) -> tuple[Duration | str | None, str]:
    """A duration or the name of a duration parameter; else None and the problem's words."""
    if re.fullmatch(_NAME, text):
        parameter = parameters.get(text)
        if parameter is not None and parameter_duration(parameter) is not None:
            return text, ""
        return None, f"{text!r} is neither a duration nor a duration parameter"
    try:
        return parse_duration(text), ""
    except DurationSyntaxError as error:
        return None, str(error)
