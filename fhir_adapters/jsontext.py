"""JSON text to Python values, as `json.loads` reads them, at orjson's speed.

A CDS Hooks call carries its prefetch as one JSON body (60 KB for 50 Observations), and the
standard library took a tenth of the call to read it; orjson reads it in about half the time.
orjson refuses some JSON the standard library reads (NaN) and reads integers past 64 bits as
floats, losing digits; text orjson refuses, and text with a run of 19 digits or more, goes to
`json.loads`, which gives the same value or the same error as before. A number longer than
Python's int() reads (4300 digits) is a `ValueError` that says so, not int()'s advice to call
`sys.set_int_max_str_digits()`.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import orjson

__all__ = ["loads", "standard_loads"]


def loads(text: bytes | str) -> Any:
    """The value of JSON `text`; raises `json.JSONDecodeError`, `ValueError` (or
    `RecursionError`) as `standard_loads` does."""
    raw = text.encode() if isinstance(text, str) else text
    if _LONG_RUN not in raw.translate(_DIGITS_AS_ZERO):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return standard_loads(text)


def standard_loads(text: bytes | str) -> Any:
    """`json.loads`, but a number too long for int() is a `ValueError` saying so."""
    try:
        return json.loads(text)
    except ValueError as error:
        if type(error) is not ValueError:  # JSONDecodeError, UnicodeDecodeError: json's own
            raise
        # The only bare ValueError json.loads raises: int() refusing a number that long.
        raise ValueError(f"a number has more than {sys.get_int_max_str_digits()} digits") from None


# 2**63 has 19 digits: a longer integer does not fit orjson's 64 bits. Digits mapped to "0",
# 19 zeros in a row are 19 digits in a row (a run inside a string sends the text to json
# too, which reads it just as well); the search is C-speed, 30 µs for 60 KB.
_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_RUN = b"0" * 19
