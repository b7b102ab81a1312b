"""Text from a database or a caller, made safe to print in a terminal table."""

from __future__ import annotations

import unicodedata

# Control and format characters (newlines, ESC, bidi overrides) and line or paragraph separators:
# printed as they are, a stored value could start a forged row or rewrite the terminal.
_UNPRINTABLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})


def printable(text: str, *, backslash: bool = True) -> str:
    """`text` with each unprintable character, and the backslash, written as an escape;
    `backslash=False` leaves backslashes as they are, for text whose escapes are already made
    (a file name's undecodable bytes, written `\\xff`)."""
    return "".join(_escape(char, backslash) for char in text)


def _escape(char: str, backslash: bool) -> str:
    if char == "\\":
        return "\\\\" if backslash else char
    if unicodedata.category(char) not in _UNPRINTABLE_CATEGORIES:
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
