"""Names a ruleset defines and nothing reads: concepts (`unused-concept`), parameters
(`unused-parameter`) and derived findings (`unused-finding`).

A name is read when a value of the loaded model that refers to a name holds it (a condition's
concept, threshold, window, anchor; a red flag's finding; a card result's concept; a date's
concepts; a concept's own limits and lookback), or when a text fills it in as a placeholder
(`{potassium}`). Ids, titles and a rule's own `derive` are not reads.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from typing import Any

from engine.codes import Code
from engine.conditions import suppressed_rule

from .context import Context
from .issues import Issue

PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)")
NOT_READS = frozenset({"id", "title", "derive", "label"})


def leaves(value: Any) -> Iterator[str | Code]:
    """Every string and code in a model value, through dataclasses, mappings and sequences,
    except in the fields that name a thing rather than read it."""
    if isinstance(value, str | Code):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for f in dataclasses.fields(value):
            if f.name not in NOT_READS:
                yield from leaves(getattr(value, f.name))
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from leaves(key)
            yield from leaves(item)
    elif isinstance(value, tuple | list | frozenset | set):
        for item in value:
            yield from leaves(item)


def names_read(context: Context) -> set[str | tuple[str, str]]:
    """The names read, and the (system, code) of every code used (a code parameter's use)."""
    ruleset = context.ruleset
    parts: list[Any] = [
        ruleset.rules,
        ruleset.scope,
        ruleset.red_flags,
        ruleset.notes,
        ruleset.dates,
        ruleset.card,
        ruleset.word_lists,
        ruleset.hit_policy,
        ruleset.levels,
        [(c.low, c.high, c.scores) for c in ruleset.concepts.values()],
    ]
    written = context.source.data.get("concepts")
    if isinstance(written, dict):  # a lookback parameter is resolved to a time when loaded
        parts.append([spec.get("lookback") for spec in written.values() if isinstance(spec, dict)])
    read: set[str | tuple[str, str]] = set()
    for leaf in leaves(parts):
        if isinstance(leaf, Code):
            read.add(leaf.key)
        else:
            read.add(leaf.strip())
            read.update(PLACEHOLDER.findall(leaf))
    return read


def check(context: Context) -> list[Issue]:
    ruleset = context.ruleset
    read = names_read(context)
    issues = []
    for name in ruleset.concepts:
        if name not in read:
            issues.append(
                context.key_issue(
                    "unused-concept", name, ("concepts", name), f"no rule reads concept {name}"
                )
            )
    for name, parameter in ruleset.parameters.items():
        code = parameter.code
        if name not in read and (code is None or code.key not in read):
            issues.append(
                context.key_issue(
                    "unused-parameter", name, ("parameters", name), f"nothing uses parameter {name}"
                )
            )
    reported: set[str] = set()
    for rule in ruleset.rules:
        finding = rule.then.derive
        if not finding or finding in read or finding in reported or suppressed_rule(rule.id):
            continue
        reported.add(finding)
        where = (*context.rule_path(rule), "then", "derive")
        message = f"no rule, note or red flag reads finding {finding}, which rule {rule.id} derives"
        issues.append(context.issue("unused-finding", finding, where, message))
    return issues
