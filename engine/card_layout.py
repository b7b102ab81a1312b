"""A ruleset's `card:` and `word-lists:` sections read and checked, each problem at its path.

`card:` says the words a card's text uses (`engine.card_text`): per red flag, the words of each
present state and of `not-recorded`; the concepts whose results it lists; the levels whose
card shows the advice notes. With a `card:` every level needs its `label:`. A word list names
concepts or derived findings with their words: `{name}` in a text lists those present.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence, Set

from .codes import Code, parse_code
from .errors import CodeError
from .model import CardFlag, CardLayout, CardResult, Concept, Level, RedFlag, WordList
from .red_flags import NOT_RECORDED, flag_id, flag_states
from .schema import RulesetSpec, WordListSpec

Where = tuple[str | int, ...]
Problems = list[tuple[Where, str]]

COUNT_PARTS = frozenset({"regions", "span"})  # `{fasciculation regions}`, `{fasciculation span}`
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


def word_lists_of(
    specs: Mapping[str, WordListSpec], concepts: Mapping[str, Concept], derived: Set[str]
) -> tuple[dict[str, WordList], Problems]:
    """The word lists, and what is wrong with them."""
    problems: Problems = []
    lists: dict[str, WordList] = {}
    for name, spec in specs.items():
        path: Where = ("word-lists", name)
        if not _NAME.fullmatch(name):
            problems.append((path, f"{name!r}: a list's name is lower case, e.g. symptoms"))
            continue
        if name in concepts:
            problems.append((path, f"{name!r} is a concept already: name the list otherwise"))
            continue
        for item in spec.words:
            if item not in concepts and item not in derived:
                problems.append(
                    ((*path, "words", item), f"no concept or derived finding {item!r} to list")
                )
        lists[name] = WordList(name, tuple(spec.words.items()), spec.join)
    return lists, problems


def card_layout(
    spec: RulesetSpec,
    levels: Sequence[Level],
    red_flags: Sequence[RedFlag],
    concepts: Mapping[str, Concept],
    code_systems: Mapping[str, str] | None = None,
) -> tuple[CardLayout | None, Problems]:
    """The ruleset's card layout (None without `card:`), and what is wrong with it; a result
    entry's `codes` are read with `code_systems` (the ruleset's prefixes)."""
    card = spec.card
    if card is None:
        return None, []
    problems: Problems = []
    for i, level in enumerate(levels):
        if level.label is None and spec.levels:
            problems.append(
                (("levels", i), f"level {level.id!r} needs a label: for the card's title")
            )
    flags = {flag_id(f): f for f in red_flags}
    card_flags: list[CardFlag] = []
    for name, words in card.flags.items():
        path: Where = ("card", "flags", name)
        flag = flags.get(name)
        if flag is None:
            known = ", ".join(flags) or "none"
            problems.append((path, f"no red flag {name!r} (red flags: {known})"))
            continue
        states, absent = flag_states(flag)
        present = [state for state, _ in states]
        if isinstance(words, str):
            card_flags.append(CardFlag(name, tuple((s, words) for s in present)))
            continue
        for state in words:
            if state == NOT_RECORDED and absent is None:
                problems.append(
                    ((*path, state), f"{name} is never recorded absent, so never not recorded")
                )
            elif state not in present and state != NOT_RECORDED:
                said = ", ".join([*present, NOT_RECORDED])
                problems.append(((*path, state), f"{name} has no state {state!r} ({said})"))
        shown = tuple((s, w) for s, w in words.items() if s != NOT_RECORDED)
        card_flags.append(CardFlag(name, shown, words.get(NOT_RECORDED)))
    results: list[CardResult] = []
    for i, item in enumerate(card.results):
        path = ("card", "results", i, "concept")
        concept = concepts.get(item.concept)
        if concept is None:
            problems.append((path, f"no concept {item.concept!r} to list its results"))
            continue
        if concept.kind not in ("quantity", "score"):
            problems.append((path, f"{item.concept} is a {concept.kind}: it has no results"))
            continue
        missing = item.words if item.missing is None or item.missing is True else item.missing
        codes: list[Code] = []
        for j, text in enumerate(item.codes):
            try:
                codes.append(parse_code(text, code_systems))
            except CodeError as error:
                problems.append((("card", "results", i, "codes", j), str(error)))
        results.append(CardResult(item.concept, item.words, missing or None, tuple(codes)))
    ids = [level.id for level in levels]
    for i, level_id in enumerate(card.advice_at):
        if level_id not in ids:
            problems.append(
                (("card", "advice-at", i), f"there is no level {level_id!r} ({', '.join(ids)})")
            )
    layout = CardLayout(tuple(card_flags), tuple(results), tuple(card.advice_at))
    return layout, problems


__all__ = ["COUNT_PARTS", "card_layout", "word_lists_of"]
