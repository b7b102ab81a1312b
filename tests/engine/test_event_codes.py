"""One code in several event concepts: allowed when they read different resource types (an ECG
requested, a ServiceRequest; an ECG done, a Procedure), refused at its place when they read
the same one."""

from __future__ import annotations

from pathlib import Path

from engine.loader import check_text
from tests.engine.test_language_loader import BASE, line_of, problems, rule

DIALYSIS = "  dialysis: {kind: event, resource: Procedure, codes: [sct#302497006]}"


def with_events(*lines: str) -> str:
    assert DIALYSIS in BASE
    return BASE.replace(DIALYSIS, "\n".join([DIALYSIS, *lines])) + rule(
        "[ecg_requested present within 2 days, ecg_done present within 2 days]"
    )


def test_one_code_in_event_concepts_of_different_resources_loads() -> None:
    text = with_events(
        "  ecg_requested: {kind: event, resource: ServiceRequest, codes: [sct#268400002]}",
        "  ecg_done: {kind: event, resource: Procedure, codes: [sct#268400002]}",
    )
    ruleset = check_text(text, "r.yaml")
    requested, done = ruleset.concepts["ecg_requested"], ruleset.concepts["ecg_done"]
    assert requested.codes == done.codes
    assert (requested.resource, done.resource) == ("ServiceRequest", "Procedure")


def test_one_code_in_two_event_concepts_of_one_resource_is_located(tmp_path: Path) -> None:
    text = with_events(
        "  ecg_requested: {kind: event, resource: ServiceRequest, codes: [sct#268400002]}",
        "  ecg_done: {kind: event, resource: Procedure, codes: [sct#268400002]}",
        "  ecg_recorded: {kind: event, resource: Procedure, codes: [sct#268400002]}",
    ) + rule("ecg_recorded present").replace("id: a", "id: b")
    assert problems(text, tmp_path) == [
        f"{line_of(text, 'ecg_recorded:')}:60: sct#268400002 already means ecg_done, also read "
        "from a Procedure; a code may belong to one event concept of each resource (unless it "
        "comes from a value set)"
    ]


def test_a_finding_between_two_events_does_not_hide_their_clash(tmp_path: Path) -> None:
    text = with_events(
        "  ecg_finding: {kind: finding, codes: [sct#268400002]}",
        "  ecg_done: {kind: event, resource: Procedure, codes: [sct#268400002]}",
        "  ecg_recorded: {kind: event, resource: Procedure, codes: [sct#268400002]}",
        "  ecg_requested: {kind: event, resource: ServiceRequest, codes: [sct#268400002]}",
    ) + rule("[ecg_recorded present, ecg_finding present]").replace("id: a", "id: b")
    assert problems(text, tmp_path) == [
        f"{line_of(text, 'ecg_recorded:')}:60: sct#268400002 already means ecg_done, also read "
        "from a Procedure; a code may belong to one event concept of each resource (unless it "
        "comes from a value set)"
    ]
