"""Reading a streamed HTTP response body under a size cap, decoding gzip or deflate as it comes
(deflate zlib-wrapped or raw).

The cap is checked while reading: a `Content-Length` over it is refused before a byte is read,
and a body sent without one (chunked) is read only until it passes the cap. It counts the bytes
as sent and the bytes after decoding, and decoding never runs ahead of the cap by more than one
step, so a few kilobytes that inflate to gigabytes (a decompression bomb) cost no more memory
than an honest body at the cap.
"""

from __future__ import annotations

import zlib
from typing import Protocol

import httpx

ACCEPT_ENCODING = "gzip, deflate"  # what `read_capped` decodes; say so in the request
_STEP = 64 * 1024  # the most one decoding step produces
_ZLIB_OR_GZIP = zlib.MAX_WBITS | 32  # zlib's header detection: gzip or zlib (HTTP's deflate)


class _Inflater(Protocol):
    """What `zlib.decompressobj()` returns, as far as it is used here."""

    @property
    def unconsumed_tail(self) -> bytes: ...

    def decompress(self, data: bytes, max_length: int = ..., /) -> bytes: ...


class BodyTooLarge(Exception):
    """The body is over the cap (as sent, as announced, or once decoded)."""


class BodyUndecodable(Exception):
    """The body's Content-Encoding is not one Vigil reads, or its bytes do not decode."""


async def read_capped(response: httpx.Response, cap: int) -> bytes:
    """The decoded body of a `client.stream(...)` response, at most `cap` bytes. Raises
    BodyTooLarge past the cap and BodyUndecodable for an encoding that cannot be read; the
    response is left for its `async with` to close, unread past the point of refusal."""
    declared = response.headers.get("content-length", "")
    if declared.strip().isdigit() and int(declared) > cap:
        raise BodyTooLarge(f"announced {int(declared)} bytes")
    if response.is_stream_consumed:  # a transport that hands over the body whole, decoded
        if len(response.content) > cap:
            raise BodyTooLarge("sent too many bytes")
        return response.content
    decoder = _decoder(response.headers.get("content-encoding", ""))
    parts: list[bytes] = []
    sent = size = 0
    async for raw in response.aiter_raw():
        sent += len(raw)
        if sent > cap:
            raise BodyTooLarge("sent too many bytes")
        if decoder is None:
            parts.append(raw)
            size += len(raw)
            continue
        data = raw
        while True:
            try:
                piece = decoder.decompress(data, _STEP)
            except zlib.error:
                raise BodyUndecodable("the compressed body is corrupt") from None
            size += len(piece)
            if size > cap:
                raise BodyTooLarge("inflates past the cap")
            parts.append(piece)
            data = decoder.unconsumed_tail
            if not data and len(piece) < _STEP:
                break  # this input is used up and nothing more is pending
    return b"".join(parts)


class _Deflate:
    """HTTP's deflate: zlib-wrapped, as the RFC says, or raw, as some servers send it (told
    apart by the first bytes, as httpx tells them apart)."""

    def __init__(self) -> None:
        self._inflater = zlib.decompressobj(_ZLIB_OR_GZIP)
        self._first = True

    @property
    def unconsumed_tail(self) -> bytes:
        return self._inflater.unconsumed_tail

    def decompress(self, data: bytes, max_length: int = 0, /) -> bytes:
        first = self._first
        self._first = self._first and not data  # told apart by the first bytes that come
        try:
            return self._inflater.decompress(data, max_length)
        except zlib.error:
            if not first:
                raise
            self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)  # no zlib header: raw
            return self._inflater.decompress(data, max_length)


def _decoder(encoding: str) -> _Inflater | None:
    codings = [c.strip().lower() for c in encoding.split(",") if c.strip()]
    codings = [c for c in codings if c != "identity"]
    if not codings:
        return None
    if codings in (["gzip"], ["x-gzip"]):
        return zlib.decompressobj(_ZLIB_OR_GZIP)
    if codings == ["deflate"]:
        return _Deflate()
    raise BodyUndecodable(f"Content-Encoding {encoding!r} is not gzip or deflate")


__all__ = ["ACCEPT_ENCODING", "BodyTooLarge", "BodyUndecodable", "read_capped"]
