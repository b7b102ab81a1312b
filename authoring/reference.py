"""The ruleset language for authors: every construct with an example, the code systems and the
units, as text, Markdown or JSON (`vigil reference`).

The constructs come from the catalogue `authoring/templates/reference.yaml`; the code systems
from `engine.codes` and the units from `engine.units`, so the reference says what the engine
reads. `example_ruleset` places an example inside the catalogue's context ruleset, which is how
a test proves every example still loads.
"""

from __future__ import annotations

import json
import textwrap
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Any, Literal

import yaml

from engine.codes import DEFAULT_SYSTEMS, LOCAL_SYSTEM, SYSTEM_ALIASES
from engine.units import dimension, spellings
from engine.units.ucum import ATOMS, PREFIXES

Check = Literal["condition", "rule", "concept", "parameter", "ruleset", "scenario", "yaml"]
Format = Literal["text", "markdown", "json"]
WIDTH = 100  # the text form's line length

UNIT_SYNTAX = (
    "Units are UCUM codes, case-sensitive (https://ucum.org): metric prefixes on metric atoms "
    "(mg, umol, kPa); `.` multiplies and `/` divides, left to right (mL/min/{1.73_m2}); a "
    "leading `/` (/min); integer exponents (m2, s-1); powers of ten (10*9/L); annotations in "
    "braces, which stay part of the unit ({1.73_m2}) or alone are the unit 1 ({score}); "
    "bracketed atoms (mm[Hg], [IU]). Units of one dimension convert exactly; mass and "
    "equivalents become moles only with a concept's molar-mass or valence; an arbitrary unit "
    "([IU]) converts only to itself unless a concept declares `same-as`; Cel, [degF] and [pH] "
    "are never converted. Durations in rules are words: hours, days, weeks, months, years."
)


@dataclass(frozen=True, slots=True)
class Entry:
    """One construct: its name, what it means, an example as written in YAML, and how the
    example is checked (see the catalogue's header)."""

    construct: str
    meaning: str
    example: str
    check: Check


@dataclass(frozen=True, slots=True)
class Section:
    title: str
    intro: str
    entries: tuple[Entry, ...]


@cache
def catalogue_data() -> dict[str, Any]:
    """The catalogue file, as YAML data."""
    text = (files("authoring") / "templates" / "reference.yaml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def context_text() -> str:
    """The ruleset every example is checked in."""
    return str(catalogue_data()["context"])


def sections() -> tuple[Section, ...]:
    """The catalogue's sections, in order."""
    return tuple(
        Section(
            str(s["title"]),
            str(s.get("intro", "")),
            tuple(_entry(e) for e in s["entries"]),
        )
        for s in catalogue_data()["sections"]
    )


def _entry(raw: dict[str, Any]) -> Entry:
    if set(raw) != {"construct", "meaning", "example", "check"}:  # a flow mapping's stray comma
        raise ValueError(f"catalogue entry {raw!r}: construct, meaning, example, check")
    example = raw["example"]
    text = example if isinstance(example, str) else _dump(example)
    return Entry(str(raw["construct"]), str(raw["meaning"]), text.rstrip("\n"), raw["check"])


def _dump(data: object) -> str:
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def example_ruleset(entries: list[Entry]) -> str:
    """The context ruleset with the examples placed in it: a condition as a rule's `when`, a
    rule, a concept or a parameter added (replacing one of the same name), a ruleset's keys
    replacing the context's. Scenario and YAML-only examples are left out."""
    ruleset: dict[str, Any] = yaml.safe_load(context_text())
    for number, entry in enumerate(entries, start=1):
        example = yaml.safe_load(entry.example)
        if entry.check == "condition":
            rule = {
                "id": f"example-{number}",
                "when": example,
                "then": {"suggest": "none", "summary": f"Example {number}", "cite": "guide"},
            }
            ruleset["rules"].append(rule)
        elif entry.check == "rule":
            ruleset["rules"].append(example)
        elif entry.check == "concept":
            ruleset["concepts"].update(example)
        elif entry.check == "parameter":
            ruleset["parameters"].update(example)
        elif entry.check == "ruleset":
            ruleset.update(example)
    return _dump(ruleset)


def code_systems() -> list[dict[str, str]]:
    """Each code system prefix with its URI and what it is for; aliases read as it."""
    aliases: dict[str, list[str]] = defaultdict(list)
    for alias, system in SYSTEM_ALIASES.items():
        aliases[system].append(alias)
    rows = []
    for prefix, uri in DEFAULT_SYSTEMS.items():
        note = (
            "the project's own codes, only where no standard code exists"
            if (uri == LOCAL_SYSTEM)
            else ""
        )
        if aliases[uri]:
            note = f"also read: {', '.join(aliases[uri])}"
        rows.append({"prefix": prefix, "uri": uri, "note": note})
    return rows


def known_units() -> dict[str, Any]:
    """The UCUM atoms Vigil knows by dimension (and whether they take metric prefixes), the
    prefixes, and the non-UCUM spellings read as a unit."""
    atoms: dict[str, list[str]] = defaultdict(list)
    for code, atom in ATOMS.items():
        atoms[dimension(code)].append(f"{code}{'' if atom.metric else ' (no prefix)'}")
    return {
        "atoms": {name: atoms[name] for name in sorted(atoms)},
        "prefixes": list(PREFIXES),
        "spellings": spellings(),
    }


def reference_data() -> dict[str, Any]:
    """Everything `vigil reference` prints, as JSON-ready data."""
    return {
        "sections": [
            {
                "title": s.title,
                "intro": s.intro,
                "entries": [
                    {"construct": e.construct, "meaning": e.meaning, "example": e.example}
                    for e in s.entries
                ],
            }
            for s in sections()
        ],
        "code_systems": code_systems(),
        "unit_syntax": UNIT_SYNTAX,
        "units": known_units(),
    }


def render(form: Format) -> str:
    """The reference as text (for a terminal or a pipe), Markdown or JSON."""
    if form == "json":
        return json.dumps(reference_data(), indent=2, ensure_ascii=False) + "\n"
    return render_markdown() if form == "markdown" else render_text()


def _wrapped(text: str, indent: str = "", first: str = "") -> list[str]:
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=first or indent,
        subsequent_indent=indent,
        break_on_hyphens=False,
    )


def render_text() -> str:
    """Plain text, wrapped at 100 columns, examples indented as written."""
    lines = ["VIGIL RULESET LANGUAGE", ""]
    for section in sections():
        lines += [section.title.upper(), "=" * len(section.title)]
        if section.intro:
            lines += [*_wrapped(section.intro), ""]
        for entry in section.entries:
            lines += _wrapped(f"{entry.construct}: {entry.meaning}", "  ", "* ")
            lines += [f"      {line}" for line in entry.example.splitlines()]
        lines.append("")
    lines += ["CODE SYSTEMS", "============"]
    for row in code_systems():
        note = f"  ({row['note']})" if row["note"] else ""
        lines.append(f"  {row['prefix']:<8} {row['uri']}{note}")
    lines += ["", "UNITS", "=====", *_wrapped(UNIT_SYNTAX), ""]
    units = known_units()
    for name, codes in units["atoms"].items():
        lines += _wrapped(f"{name}: {', '.join(codes)}", "      ", "  ")
    lines += _wrapped(f"prefixes: {' '.join(units['prefixes'])}", "      ", "  ")
    spelt = ", ".join(f"{k} = {v}" for k, v in units["spellings"].items())
    lines += [*_wrapped(f"also read: {spelt}", "      ", "  "), ""]
    return "\n".join(lines)


def render_markdown() -> str:
    """Markdown: a section per part, examples in YAML code blocks, tables of systems and units."""
    lines = ["# The Vigil ruleset language", ""]
    for section in sections():
        lines += [f"## {section.title}", ""]
        if section.intro:
            lines += [section.intro, ""]
        for entry in section.entries:
            lines += [f"**{entry.construct}**: {entry.meaning}", "", "```yaml"]
            lines += [entry.example, "```", ""]
    lines += ["## Code systems", "", "| prefix | system | |", "| --- | --- | --- |"]
    lines += [f"| `{r['prefix']}` | `{r['uri']}` | {r['note']} |" for r in code_systems()]
    lines += ["", "## Units", "", UNIT_SYNTAX, "", "| dimension | UCUM atoms |", "| --- | --- |"]
    units = known_units()
    lines += [
        f"| {name} | {', '.join(f'`{c}`' for c in codes)} |"
        for name, codes in units["atoms"].items()
    ]
    lines += ["", f"Metric prefixes: {' '.join(f'`{p}`' for p in units['prefixes'])}.", ""]
    spelt = ", ".join(f"`{k}` ({v})" for k, v in units["spellings"].items())
    lines += [f"Also read as UCUM: {spelt}.", ""]
    return "\n".join(lines)
