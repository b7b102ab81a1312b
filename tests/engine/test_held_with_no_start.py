"""A held comparison with no medicine started after the result it holds since: `potassium < 6.0
mmol/L for 90 to 730 days since a result >= 5.5 mmol/L with no raasi started after it`. Parsed,
evaluated through `Evaluator.evaluate` on hand-built rulesets, and each misuse located when the
ruleset loads and through `vigil evaluate`."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from engine.clock import Duration
from engine.codes import Code
from engine.conditions import ConditionSyntaxError, Streak, parse_condition
from engine.model import Concept
from engine.records import Record
from tests.engine.hand_built import AS_OF, POTASSIUM, evaluate, fired, result, ruleset, words
from tests.engine.test_language_loader import BASE, WHEN_LINE, problems, rule
from tests.vigil.test_evaluate_command import EXAMPLES, vigil

K2 = replace(POTASSIUM, decimals=2)
RAASI = Concept("raasi", (Code("http://www.whocc.no/atc", "C09"),), kind="medication")
NSAID = Concept("nsaid", (Code("http://www.whocc.no/atc", "M01A"),), kind="medication")
STABLE = (
    "potassium < 6.0 mmol/L for 90 to 730 days since a result >= 5.5 mmol/L "
    "with no raasi or nsaid started after it"
)
RULES = ruleset([K2, RAASI, NSAID], {"stable": parse_condition(STABLE, ())})


def k(value: float, days_ago: float, source: str) -> Record:
    return result(value, days_ago * 24, source)


def drug(
    days_ago: float,
    *,
    concept: str = "raasi",
    status: str = "active",
    group: str = "rxnorm#35296",
    product: str | None = None,
    source: str = "MedicationRequest/m",
) -> Record:
    return Record(
        concept,
        source,
        time=AS_OF - timedelta(days=days_ago),
        status=status,
        code=group,
        product=product,
    )


# p0 candidates 300 and 120 days before the index; the latest (120) is the one that counts
MILD = [k(5.6, 300, "o/a"), k(5.3, 200, "o/b"), k(5.7, 120, "o/p0"), k(5.6, 0, "o/now")]


# -- parsing ----------------------------------------------------------------------------------


def test_the_clause_names_the_medicines_and_keeps_the_held_comparison() -> None:
    atom = parse_condition(STABLE.replace(" or nsaid", ", nsaid or heparin"), ())

    assert isinstance(atom, Streak)
    assert atom.unstarted == ("raasi", "nsaid", "heparin")
    assert (atom.threshold, atom.lasting, atom.lasting_most) == (
        "6.0 mmol/L",
        Duration(90, "days"),
        Duration(730, "days"),
    )
    assert (atom.start_op, atom.start_threshold) == (">=", "5.5 mmol/L")


def test_the_clause_goes_with_a_plain_held_comparison_too() -> None:
    atom = parse_condition("potassium < 6.0 mmol/L for 90 days with no raasi started after it", ())

    assert isinstance(atom, Streak)
    assert (atom.threshold, atom.unstarted, atom.start_op) == ("6.0 mmol/L", ("raasi",), None)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (
            "potassium < 6.0 mmol/L with no raasi started after it",
            "'with no ... started after it' closes a held comparison",
        ),
        (
            "potassium last 2 results >= 6.0 mmol/L with no raasi started after it",
            "'with no ... started after it' closes a held comparison",
        ),
        (
            "potassium rise over 12 hours > 0.5 mmol/L for 90 days with no raasi started after it",
            "'with no ... started after it' closes a held comparison ('for 90 days'), not a trend",
        ),
        (
            "potassium < 6.0 mmol/L for 90 days with no raasi, ACE inhibitors started after it",
            "'ACE inhibitors' is not a medication concept name",
        ),
    ],
)
def test_a_misplaced_or_unreadable_clause_is_a_syntax_error(line: str, message: str) -> None:
    with pytest.raises(ConditionSyntaxError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_condition(line, ())


# -- evaluation -------------------------------------------------------------------------------


def test_without_medicines_the_held_comparison_holds() -> None:
    assert fired(RULES, MILD) == {"stable"}


@pytest.mark.parametrize(
    ("medicines", "expected"),
    [
        ([drug(400)], {"stable"}),  # started before every p0
        ([drug(250)], {"stable"}),  # after the older p0, before the latest: that one counts
        ([drug(100)], set()),  # after the latest p0
        ([drug(100, concept="nsaid", group="atc#M01AE01")], set()),  # any of the named concepts
        ([drug(100, status="stopped")], {"stable"}),  # only an active drug group breaks it
        ([drug(400, status="completed"), drug(30)], {"stable"}),  # a repeat is not a start
        # a new product of the group is a new start; the same product again is not
        (
            [
                drug(400, product="rxnorm#198188", status="completed", source="MR/a"),
                drug(100, product="rxnorm#198189", source="MR/b"),
            ],
            set(),
        ),
        (
            [
                drug(400, product="rxnorm#198188", status="completed", source="MR/a"),
                drug(100, product="rxnorm#198188", source="MR/b"),
            ],
            {"stable"},
        ),
    ],
)
def test_a_medicine_started_after_the_earlier_result_breaks_it(
    medicines: list[Record], expected: set[str]
) -> None:
    assert fired(RULES, [*MILD, *medicines]) == expected


def test_the_start_is_compared_by_calendar_date_in_the_ruleset_s_zone() -> None:
    as_of = datetime(2026, 3, 2, 10, tzinfo=UTC)
    london = ruleset(
        [K2, RAASI, NSAID], {"stable": parse_condition(STABLE, ())}, time_zone="Europe/London"
    )
    p0 = datetime(2025, 7, 10, 10, tzinfo=UTC)  # 11:00 BST, 10 July
    records = [
        result(5.7, (as_of - p0).total_seconds() / 3600, "o/p0", as_of=as_of),
        result(5.6, 2, "o/now", as_of=as_of),
    ]

    def started(at: datetime) -> Record:
        return Record("raasi", "MR/r", time=at, status="active", code="rxnorm#35296")

    # 23:30 BST on p0's date: not after it; 00:30 BST the next day: after it
    same_day = started(datetime(2025, 7, 10, 22, 30, tzinfo=UTC))
    next_day = started(datetime(2025, 7, 10, 23, 30, tzinfo=UTC))
    assert fired(london, [*records, same_day], as_of) == {"stable"}
    assert fired(london, [*records, next_day], as_of) == set()
    # in UTC both are on 10 July
    assert fired(RULES, [*records, next_day], as_of) == {"stable"}


def test_a_date_only_result_is_its_own_date() -> None:
    # west of UTC a date's midnight UTC is the evening before: the result keeps its own date
    as_of = datetime(2026, 3, 2, 15, tzinfo=UTC)
    new_york = ruleset(
        [K2, RAASI, NSAID], {"stable": parse_condition(STABLE, ())}, time_zone="America/New_York"
    )
    p0 = replace(k(5.7, 0, "o/p0"), time=datetime(2025, 11, 2, tzinfo=UTC), date_only=True)
    now = result(5.6, 2, "o/now", as_of=as_of)

    def started(day: int) -> Record:  # at noon in New York (17:00 UTC)
        at = datetime(2025, 11, day, 17, tzinfo=UTC)
        return Record("raasi", "MR/r", time=at, status="active", code="rxnorm#35296")

    assert fired(new_york, [p0, now, started(2)], as_of) == {"stable"}
    assert fired(new_york, [p0, now, started(3)], as_of) == set()


def test_the_words_say_which_medicines_and_since_when() -> None:
    three = STABLE.replace("raasi or nsaid", "raasi, nsaid or heparin")
    heparin = Concept("heparin", (Code("http://www.whocc.no/atc", "B01AB"),), kind="medication")
    rules = ruleset([K2, RAASI, NSAID, heparin], {"stable": parse_condition(three, ())})

    evaluation = evaluate(rules, [*MILD, drug(250)])

    p0_date = (AS_OF - timedelta(days=120)).date().isoformat()
    assert words(evaluation, "stable") == [
        "< 6.0 mmol/L for 90 days to 730 days: 5.7 → 5.6 mmol/L, no raasi, nsaid or heparin "
        f"started after {p0_date} ['o/p0', 'o/now']"
    ]


# -- loading ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "message"),
    [
        (
            "potassium < high_potassium for 90 days with no raasii started after it",
            "in 'potassium < high_potassium for 90 days with no raasii started after it': "
            "'raasii' is not a concept; did you mean 'raasi'?",
        ),
        (
            "potassium < high_potassium for 90 days with no raasi or egfr started after it",
            "in 'potassium < high_potassium for 90 days with no raasi or egfr started after it': "
            "egfr is a quantity, not a medication; only a medicine is started",
        ),
        (
            "potassium < high_potassium with no raasi started after it",
            "in 'potassium < high_potassium with no raasi started after it': 'with no ... "
            "started after it' closes a held comparison, 'it' being the earlier result it holds "
            "since; write e.g. 'potassium < 6.0 mmol/L for 90 days with no raasi started after "
            "it'",
        ),
    ],
)
def test_a_misused_clause_is_located_when_the_ruleset_loads(
    tmp_path: Path, when: str, message: str
) -> None:
    assert problems(BASE + rule(when), tmp_path) == [f"{WHEN_LINE}:11: {message}"]


def test_a_misused_clause_fails_the_command_with_exit_2_and_its_place(tmp_path: Path) -> None:
    path = tmp_path / "ruleset.yaml"
    when = "potassium < high_potassium for 90 days with no egfr started after it"
    path.write_text(BASE + rule(when))

    run = vigil("evaluate", EXAMPLES, "--ruleset", path, "--as-of", "2026-03-01")

    assert run.returncode == 2
    assert f"{path}:{WHEN_LINE}:11: in '{when}': egfr is a quantity, not a medication" in run.stderr
    assert "Traceback" not in run.stderr
