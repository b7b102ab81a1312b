"""Warnings answered in the ruleset's `lint-answers:`: an answered warning becomes a note
carrying its answer; an answer that matches no warning is itself a warning (`stale-answer`)."""

from __future__ import annotations

from collections.abc import Sequence

from engine.model import LintAnswer, Ruleset
from engine.yaml_source import Source

from ..findings import Finding, Level
from .issues import CODES, Issue


def answered(
    issues: Sequence[Issue], ruleset: Ruleset, source: Source
) -> list[tuple[Finding, str]]:
    """Each issue as a finding (a note when answered), with its subject; then the stale
    answers."""
    answers = {(a.warning, a.subject): a for a in ruleset.lint_answers}
    used: set[tuple[str, str]] = set()
    found = []
    for issue in issues:
        tag = f"[{issue.code} {issue.subject}]"
        answer = answers.get((issue.code, issue.subject))
        level: Level = "warning"
        message = f"{issue.message} {tag}"
        if answer is not None:
            used.add((issue.code, issue.subject))
            level, message = "note", f"{message}; answered: {answer.answer}"
        finding = Finding(source.file, issue.line, issue.column, level, message, issue.code)
        found.append((finding, issue.subject))
    for i, answer in enumerate(ruleset.lint_answers):
        if (answer.warning, answer.subject) not in used:
            found.append((stale(answer, i, source), answer.subject))
    return found


def stale(answer: LintAnswer, index: int, source: Source) -> Finding:
    line, column = source.where(("lint-answers", index))
    why = (
        "remove it"
        if answer.warning in CODES
        else f"{answer.warning!r} is no warning code ({', '.join(sorted(CODES))})"
    )
    message = (
        f"this answer to {answer.warning} {answer.subject} answers no warning: {why} "
        f"[stale-answer {answer.subject}]"
    )
    return Finding(source.file, line, column, "warning", message, "stale-answer")
