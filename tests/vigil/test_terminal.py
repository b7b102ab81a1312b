"""Stored text printed in a table: control characters escaped, everything else as it is."""

from __future__ import annotations

from vigil.terminal import printable


def test_control_and_format_characters_are_escaped() -> None:
    assert printable("a\nb\r\x1b[2J\x7f\x85") == "a\\x0ab\\x0d\\x1b[2J\\x7f\\x85"
    assert printable("right\u202eleft\u2028next") == "right\\u202eleft\\u2028next"


def test_printable_text_is_left_alone_and_escapes_cannot_be_faked() -> None:
    assert printable("Patient/p1 café — 低钾") == "Patient/p1 café — 低钾"
    assert printable("a\\x0ab") == "a\\\\x0ab"  # a literal backslash is not an escape
