"""A ruleset's shape checked section by section: every shape problem in plain words, and what is
left when the broken entries are set aside, so its meaning can be checked in the same pass.

pydantic's own wording never leaves this module: each error is translated by its type into a
sentence naming the key and the value. An entry with a shape problem (a concept, a parameter, a
rule, ...) is dropped whole and its name remembered in `Broken`, so the checks of meaning that
follow do not also report it as unknown.
"""

from __future__ import annotations

import difflib
import re
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from .errors import Problem
from .schema import RulesetSpec, RuleSpec
from .yaml_source import Path, Source

# sections that map a name to an entry, and those that list entries
NAMED_SECTIONS = frozenset(
    {
        "concepts",
        "parameters",
        "citations",
        "regions",
        "sites",
        "referrals",
        "code-systems",
        "dates",
        "word-lists",
    }
)
LISTED_SECTIONS = frozenset(
    {"rules", "red-flags", "notes", "levels", "value-sets", "authors", "reviewers"}
    | {"unread-text-warnings"}
)
# what a required top-level key stands in as while the rest is checked
PLACEHOLDERS: dict[str, Any] = {
    "id": "ruleset",
    "version": "0.0.0",
    "status": "draft",
    "title": "",
    "concepts": {},
}
_ENTRY_WORDS = {
    "concepts": "concept",
    "parameters": "parameter",
    "citations": "citation",
    "regions": "region",
    "sites": "site",
    "referrals": "referral of level",
    "code-systems": "code system",
    "dates": "date",
    "word-lists": "word list",
    "rules": "rule",
    "red-flags": "red flag",
    "notes": "note",
    "levels": "level",
}
_BASIC_TAGS = frozenset({"str", "int", "float", "bool", "none"})


class LenientSpec(RulesetSpec):
    """A ruleset whose rules were all set aside (or never written, reported already): the rest
    is still checked."""

    rules: list[RuleSpec] = Field(default_factory=list)


@dataclass
class Broken:
    """Names of entries set aside for a shape problem, reported already: a check of meaning
    does not report a reference to one of them as unknown."""

    concepts: set[str] = field(default_factory=set)
    parameters: set[str] = field(default_factory=set)
    rules: set[str] = field(default_factory=set)
    findings: set[str] = field(default_factory=set)
    levels: set[str] = field(default_factory=set)
    other: set[str] = field(default_factory=set)  # sites, regions, citations, red flags ...

    def names(self) -> set[str]:
        return (
            self.concepts
            | self.parameters
            | self.rules
            | self.findings
            | self.levels
            | (self.other)
        )

    def hides(self, message: str) -> bool:
        """Whether `message` only says that a broken entry is unknown (a cascade)."""
        for name in self.names():
            quoted = rf"['`]{re.escape(name)}['`]"
            said = (
                rf"(unknown [a-z ]+?|no rule(?: derives)?(?: the finding)?|there is no level|"
                rf"no level|no concept|no parameter) {quoted}",
                rf"{quoted} is (?:no|neither)",
                rf"\{{{re.escape(name)}(?: side)?\}} names no",
            )
            if any(re.search(pattern, message) for pattern in said):
                return True
        return False


@dataclass
class Shape:
    """What checking the shape found: the spec of what is valid (None when not even that can
    be built), the source it is located by, the problems, and the entries set aside."""

    spec: RulesetSpec | None
    source: Source
    problems: list[Problem]
    broken: Broken


def check_shape(source: Source) -> Shape:
    """Validate `source.data` as a ruleset; on shape problems, drop the broken entries and
    validate what is left, locating it by a source whose paths follow the entries kept."""
    try:
        return Shape(RulesetSpec.model_validate(source.data), source, [], Broken())
    except ValidationError as error:
        errors = list(error.errors())
    problems = [
        source.problem(loc, text, at_key=key, code="unknown-key" if key else code)
        for loc, text, key, code in translate(errors, source.data)
    ]
    data = dict(source.data)
    drops: set[Path] = set()
    broken = Broken()
    for item in errors:
        loc = strip_tags(tuple(item["loc"]))
        _set_aside(loc, item["type"], source.data, data, drops, broken)
    kept = prune(source, data, drops)
    try:
        spec: RulesetSpec = LenientSpec.model_validate(kept.data)
    except ValidationError:
        return Shape(None, kept, problems, broken)
    return Shape(spec, kept, problems, broken)


def _set_aside(
    loc: Path,
    kind: str,
    original: dict[str, Any],
    data: dict[str, Any],
    drops: set[Path],
    broken: Broken,
) -> None:
    if not loc:
        return
    top = loc[0]
    if not isinstance(top, str):
        return
    if len(loc) >= 2 and top in NAMED_SECTIONS | LISTED_SECTIONS:
        entry = loc[:2]
        drops.add(entry)
        _remember(entry, original, broken)
        return
    if kind == "missing" or top in PLACEHOLDERS:
        if top in PLACEHOLDERS:
            data[top] = PLACEHOLDERS[top]
        return
    data.pop(top, None)  # an optional section: its default stands in
    if top in ("hit-policy", "card", "scope"):
        broken.other.add(top)


def _remember(entry: Path, original: dict[str, Any], broken: Broken) -> None:
    section, key = entry
    value = value_at(original, entry)
    if section == "concepts":
        broken.concepts.add(str(key))
    elif section == "parameters":
        broken.parameters.add(str(key))
    elif section in ("rules", "levels", "notes", "red-flags") and isinstance(value, dict):
        ident = value.get("id")
        if isinstance(ident, str):
            {"rules": broken.rules, "levels": broken.levels}.get(section, broken.other).add(ident)
        then = value.get("then")
        if section == "rules" and isinstance(then, dict) and isinstance(then.get("derive"), str):
            broken.findings.add(then["derive"])
    elif isinstance(key, str):
        broken.other.add(key)


def value_at(data: Any, path: Sequence[str | int]) -> Any:
    """The value at `path` in `data`, or None where the path leads nowhere."""
    for part in path:
        listed = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not (listed or (isinstance(data, dict) and part in data)):
            return None
        data = data[part]
    return data


def prune(source: Source, data: dict[str, Any], drops: set[Path]) -> Source:
    """`data` without the entries at `drops`, located as they were in `source`: the marks of
    a list's later items follow them to their new indexes."""
    new = Source(source.file, None)

    def walk(value: Any, old: Path, now: Path) -> Any:
        if old in source.marks:
            new.marks[now] = source.marks[old]
        if old in source.key_marks:
            new.key_marks[now] = source.key_marks[old]
        if isinstance(value, dict):
            return {
                k: walk(v, (*old, k), (*now, k)) for k, v in value.items() if (*old, k) not in drops
            }
        if isinstance(value, list):
            kept = [(i, v) for i, v in enumerate(value) if (*old, i) not in drops]
            return [walk(v, (*old, i), (*now, j)) for j, (i, v) in enumerate(kept)]
        return value

    new.data = walk(data, (), ())
    return new


def is_tag(part: str | int) -> bool:
    """Whether a part of pydantic's location names a branch of a union, not a key."""
    return isinstance(part, str) and (
        "[" in part or part in _BASIC_TAGS or re.fullmatch(r"[A-Z][A-Za-z]*Spec", part) is not None
    )


def strip_tags(loc: Sequence[str | int]) -> Path:
    return tuple(part for part in loc if not is_tag(part))


def translate(errors: Iterable[Any], data: Any) -> list[tuple[Path, str, bool, str]]:
    """Each shape error once, in words: (location, message, located at the key, its code)."""
    groups: dict[Path, list[Any]] = {}
    for item in errors:
        groups.setdefault(strip_tags(item["loc"]), []).append(item)
    # an error inside one branch of a union means the author chose that branch: say only that
    chosen = {
        strip_tags(branch_root(i["loc"]))
        for items in groups.values()
        for i in items
        if has_tag(i["loc"]) and not is_tag(i["loc"][-1])
    }
    found: list[tuple[Path, str, bool, str]] = []
    for loc, items in groups.items():
        shallow = all(has_tag(i["loc"]) and is_tag(i["loc"][-1]) for i in items)
        if shallow and loc in chosen:
            continue
        if shallow and len(loc) == 2 and loc[0] == "parameters":
            text = (
                f"parameter `{loc[1]}` must be a number, a number with a unit, a duration "
                f"(14 days) or a code (system#code), not {describe(items[0]['input'])}"
            )
            found.append((loc, text, False, "wrong-type"))
            continue
        if shallow:
            tags = [str(i["loc"][-1]) for i in items]
            choices = " or ".join(dict.fromkeys(tag_words(t) for t in tags))
            text = f"{subject_of(loc, data)} must be {choices}, not {describe(items[0]['input'])}"
            found.append((loc, text, False, "wrong-type"))
            continue
        for item in items:
            code = {"missing": "missing-key", "extra_forbidden": "unknown-key"}.get(
                item["type"], "wrong-value"
            )
            found.append((loc, message(loc, item, data), item["type"] == "extra_forbidden", code))
    return found


def has_tag(loc: Sequence[str | int]) -> bool:
    return any(is_tag(p) for p in loc)


def branch_root(loc: Sequence[str | int]) -> Path:
    """The location up to the last branch name."""
    index = max(i for i, p in enumerate(loc) if is_tag(p))
    return tuple(loc[:index])


def tag_words(tag: str) -> str:
    if tag.startswith("literal["):
        return "one of " + ", ".join(re.findall(r"'([^']*)'", tag))
    return {
        "str": "a text",
        "int": "a whole number",
        "float": "a number",
        "bool": "true or false",
        "none": "left empty",
    }.get(tag, "a list" if tag.startswith("list[") else "a mapping of keys to values")


def describe(value: Any) -> str:
    """A value as an author would name it."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return f"`{str(value).lower()}` (YAML reads yes, no, on and off as true or false)"
    if isinstance(value, dict):
        return "a mapping of keys to values"
    if isinstance(value, list):
        return "a list"
    text = str(value)
    return f"`{text[:60]}…`" if len(text) > 60 else f"`{text}`"


def _entry(loc: Path, data: Any) -> tuple[str, Path]:
    """The entry a location is in, in words, and the rest of the location."""
    if len(loc) >= 2 and loc[0] in _ENTRY_WORDS:
        word = _ENTRY_WORDS[str(loc[0])]
        value = value_at(data, loc[:2])
        name: object = loc[1]
        if isinstance(value, dict):
            for key in ("id", "label"):
                if isinstance(value.get(key), str):
                    name = value[key]
                    break
        if isinstance(loc[1], int) and name == loc[1]:
            return f"{word} {loc[1] + 1} of {loc[0]}", loc[2:]
        return f"{word} `{name}`", loc[2:]
    return "the ruleset", loc


def _key(rest: Path) -> str:
    return ".".join(str(p + 1) if isinstance(p, int) else p for p in rest)


def subject_of(loc: Path, data: Any) -> str:
    where, rest = _entry(loc, data)
    if not rest:
        return where
    return f"`{_key(rest)}` of {where}" if where != "the ruleset" else f"`{_key(rest)}`"


def message(loc: Path, item: Any, data: Any) -> str:
    """One pydantic error in plain words."""
    kind = item["type"]
    ctx = item.get("ctx") or {}
    value = item.get("input")
    if kind == "missing":
        where, rest = _entry(loc[:-1], data)
        inside = f"`{_key(rest)}` of {where}" if rest else where
        return f"{inside} needs `{loc[-1]}:`"
    if kind == "extra_forbidden":
        where, rest = _entry(loc[:-1], data)
        inside = f"`{_key(rest)}` of {where}" if rest else where
        hint = did_you_mean(str(loc[-1]), keys_at(loc[:-1]))
        return f"unknown key `{loc[-1]}` in {inside}{hint}"
    subject = subject_of(loc, data)
    if kind == "literal_error":
        choices = ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
        return f"{subject} must be one of {choices}, not {describe(value)}"
    if loc == ("version",) and kind in ("string_type", "string_pattern_mismatch"):
        return f"version {describe(value)} is not semantic: write major.minor.patch, e.g. 1.0.0"
    if kind == "string_pattern_mismatch":
        return f"{subject} {describe(value)}: use lowercase letters, digits and hyphens"
    if kind in ("string_type", "string_unicode"):
        return f"{subject} must be a text, not {describe(value)}"
    if kind in ("list_type", "tuple_type", "set_type"):
        return f"{subject} must be a list (`[a, b]` or one `- item` a line), not {describe(value)}"
    if kind in ("dict_type", "model_type", "model_attributes_type", "dataclass_type"):
        return f"{subject} must be a mapping of keys to values, not {describe(value)}"
    if kind.startswith("int_"):
        return f"{subject} must be a whole number, not {describe(value)}"
    if kind.startswith("float_") or kind.startswith("decimal_"):
        return f"{subject} must be a number, not {describe(value)}"
    if kind.startswith("bool_"):
        return f"{subject} must be true or false, not {describe(value)}"
    if kind.startswith("date"):  # date_parsing, date_from_datetime_parsing, date_type
        return f"{subject} {describe(value)} is not a date: write it as YYYY-MM-DD"
    bound = {
        "greater_than_equal": ("at least", "ge"),
        "less_than_equal": ("at most", "le"),
        "greater_than": ("more than", "gt"),
        "less_than": ("less than", "lt"),
    }.get(kind)
    if bound is not None:
        return f"{subject} must be {bound[0]} {ctx.get(bound[1])}, not {describe(value)}"
    if kind in ("too_short", "string_too_short"):
        least = ctx.get("min_length", 1)
        what = "a character" if kind == "string_too_short" else "an entry"
        count = what if least == 1 else f"{least} entries"
        return f"{subject} must have at least {count}; it is empty"
    if kind in ("too_long", "string_too_long"):
        return f"{subject} is too long: at most {ctx.get('max_length')}"
    return f"{subject} cannot be {describe(value)}"


def did_you_mean(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else ""


def keys_at(loc: Sequence[str | int]) -> list[str]:
    """The keys a mapping at `loc` may have (empty when it is not of a fixed shape)."""
    current: list[Any] = [RulesetSpec]
    for part in loc:
        current = [nxt for ann in current for nxt in _step(ann, part)]
    keys: list[str] = []
    for ann in current:
        for model in _models(ann):
            keys += [f.alias or n for n, f in model.model_fields.items()]
    return keys


def _models(ann: Any) -> list[type[BaseModel]]:
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return [ann]
    if typing.get_origin(ann) in (typing.Union, types.UnionType):
        return [m for a in typing.get_args(ann) for m in _models(a)]
    return []


def _step(ann: Any, part: str | int) -> list[Any]:
    origin = typing.get_origin(ann)
    if origin in (typing.Union, types.UnionType):
        return [n for a in typing.get_args(ann) for n in _step(a, part)]
    if origin is list and isinstance(part, int):
        return [typing.get_args(ann)[0]]
    if origin is dict:
        return [typing.get_args(ann)[1]]
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        for name, info in ann.model_fields.items():
            if part in (name, info.alias):
                return [info.annotation]
    return []
