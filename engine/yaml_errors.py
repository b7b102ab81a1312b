"""A YAML syntax error as one located sentence that says what to do.

PyYAML says what its parser expected (`mapping values are not allowed here`); an author needs to
hear that a text holding `: ` must be quoted, that a tab is not indentation, or which quote was
never closed. The cause is read from PyYAML's words and the line it points at.
"""

from __future__ import annotations

import re

import yaml

from .errors import Problem

QUOTE_IT = 'put the whole text in double quotes ("...")'


def syntax_problem(error: yaml.MarkedYAMLError, text: str, file: str) -> Problem:
    """The problem of a YAML syntax error, at the place to fix it."""
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    problem = (error.problem or "").splitlines()[0] if error.problem else ""
    context = error.context or ""
    lines = text.splitlines()
    here = lines[line - 1] if 0 < line <= len(lines) else ""
    advice = _advice(problem, context, here, column)
    opened = error.context_mark
    if "flow" in context and opened is not None and opened.line + 1 != line:
        # not closed on its line: point at the `[` or `{` that opened it
        line, column = opened.line + 1, opened.column + 1
    if "quoted scalar" in context and error.context_mark is not None:
        line, column = error.context_mark.line + 1, error.context_mark.column + 1
        advice = "this quote is never closed: end the text with the same quote mark"
    reason = problem or context or "invalid YAML"
    return Problem(file, line, column, f"not valid YAML: {reason}; {advice}", "yaml-syntax")


def _advice(problem: str, context: str, here: str, column: int) -> str:
    before = here[: column - 1]
    if "'\\t'" in problem:
        return "a tab cannot indent YAML: indent with spaces only"
    found = re.search(r"found character '(.)' that cannot start any token", problem)
    if found:
        return f"a text cannot start with `{found[1]}`: {QUOTE_IT}"
    if problem.startswith("found undefined alias"):
        return f"a text starting with `*` refers to a YAML anchor: {QUOTE_IT}"
    if "alias" in context or "anchor" in context:
        return f"a text cannot start with `*` or `&`: {QUOTE_IT}"
    if "tag" in context or "tag" in problem:
        return f"a text cannot start with `!`: {QUOTE_IT}"
    if problem == "mapping values are not allowed here":
        if re.search(r"\S: ", before) or re.search(r"^\s*(- )?[^\s:#][^:#]*:\s+\S", before):
            return f"a text holding `: ` must be quoted: {QUOTE_IT}"
        return "this line is indented more than the key above it: line up keys of one mapping"
    in_flow = "flow sequence" in context or "flow mapping" in context
    colon = re.search(r"[\[{,]\s*[^\s:,\[{][^:,]*:\s*[^\s:,]+[^:,]*$", before)
    if in_flow and "got ':'" in problem and colon:
        return f"a text holding `: ` must be quoted: {QUOTE_IT}"
    if "flow sequence" in context or "flow mapping" in context:
        bracket, what = ("[", "list") if "sequence" in context else ("{", "mapping")
        return (
            f"a text starting with `{bracket}` is read as a {what} that is not closed: "
            f"{QUOTE_IT}, or close the `{bracket}`"
        )
    if "<document start>" in problem:
        return f"a line starting with `%` is read as a YAML directive: {QUOTE_IT}"
    if "'<scalar>'" in problem:
        value = re.search(r":\s+(\S)", here)
        start = value[1] if value else ""
        if start in "[{\"'":
            return f"a text starting with `{start}` must be quoted whole: {QUOTE_IT}"
        return f"this line holds more than one value: {QUOTE_IT}, or fix its indentation"
    if problem.startswith("expected <block end>") or "expected key" in problem:
        return (
            "this line is indented differently from the keys above it: keys of one mapping, "
            "and the items of one list, start in the same column"
        )
    if "could not find expected ':'" in problem:
        return "a text that goes on to the next line must be quoted, or indented under its key"
    return "check the indentation and quote texts holding `: `, `#`, `[` or `{`"
