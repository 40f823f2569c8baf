"""multipart/related (RFC 2387) as DICOMweb uses it (PS3.18 §8.6.1.2).

``encode_parts`` streams a response part by part; ``MultipartParser`` consumes a request
body chunk by chunk and hands over each complete part once, so a STOW body is never held
twice in memory.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from cloudpacs.errors import BadRequest

CRLF = b"\r\n"
_BOUNDARY = re.compile(r'(?:^|;)\s*boundary\s*=\s*(?:"([^"]+)"|([^";\s]+))', re.IGNORECASE)


@dataclass(frozen=True)
class Part:
    headers: dict[str, str]
    """Header names in lower case."""
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")


def new_boundary() -> str:
    return "cloudpacs-" + secrets.token_hex(16)


def boundary_of(content_type: str) -> str:
    match = _BOUNDARY.search(content_type)
    if match is None:
        raise BadRequest("multipart Content-Type has no boundary parameter")
    return match.group(1) or match.group(2)


def part_header(content_type: str, boundary: str, extra: dict[str, str] | None = None) -> bytes:
    lines = [f"--{boundary}", f"Content-Type: {content_type}"]
    lines += [f"{k}: {v}" for k, v in (extra or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def closing(boundary: str) -> bytes:
    return f"--{boundary}--\r\n".encode("latin-1")


def encode_parts(parts: Iterable[tuple[str, Iterable[bytes]]], boundary: str) -> Iterator[bytes]:
    """Yield the body of a multipart/related message; each part is (content type, chunks)."""
    for content_type, chunks in parts:
        yield part_header(content_type, boundary)
        yield from chunks
        yield CRLF
    yield closing(boundary)


class MultipartParser:
    """Incremental parser: ``feed`` chunks, then ``close``; ``parts`` holds what was parsed.

    Consumed bytes are skipped with an offset and compacted away only when they make up
    most of the buffer, so parsing stays linear in the body size.
    """

    def __init__(self, boundary: str) -> None:
        self._first = b"--" + boundary.encode("latin-1")
        self._delimiter = CRLF + self._first
        self._buffer = bytearray()
        self._pos = 0
        self._scan_from = 0
        self._state = "preamble"
        self._headers: dict[str, str] = {}
        self.parts: list[Part] = []

    def feed(self, chunk: bytes) -> None:
        if self._pos and self._pos * 2 > len(self._buffer):
            del self._buffer[: self._pos]
            self._scan_from -= self._pos
            self._pos = 0
        self._buffer += chunk
        while self._step():
            pass

    def close(self) -> list[Part]:
        if self._state != "done":
            raise BadRequest("multipart body ended before its closing boundary")
        return self.parts

    def _step(self) -> bool:
        buf, pos = self._buffer, self._pos
        if self._state == "preamble":
            idx = buf.find(self._first, pos)
            if idx < 0:
                return False
            self._pos = idx + len(self._first)
            self._state = "after-boundary"
            return True
        if self._state == "after-boundary":
            if len(buf) - pos < 2:
                return False
            if buf[pos : pos + 2] == b"--":
                self._state = "done"
                return False
            line_end = buf.find(CRLF, pos)
            if line_end < 0:
                return False
            self._pos = line_end + 2  # transport padding and CRLF after the boundary
            self._state = "headers"
            return True
        if self._state == "headers":
            if buf[pos : pos + 2] == CRLF:
                end = pos - 2  # a part with no headers
            else:
                end = buf.find(CRLF + CRLF, pos)
                if end < 0:
                    if len(buf) - pos > 64 * 1024:
                        raise BadRequest("multipart part headers are too large")
                    return False
            self._headers = _parse_headers(bytes(buf[pos : max(end, pos)]))
            self._pos = end + 4
            self._state = "body"
            self._scan_from = self._pos
            return True
        if self._state == "body":
            idx = buf.find(self._delimiter, self._scan_from)
            if idx < 0:
                self._scan_from = max(pos, len(buf) - len(self._delimiter) + 1)
                return False
            with memoryview(buf) as view:  # one copy of the part, not two (slice, bytes)
                body = bytes(view[pos:idx])
            self.parts.append(Part(self._headers, body))
            self._pos = idx + len(self._delimiter)
            self._state = "after-boundary"
            return True
        return False


def _parse_headers(raw: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in raw.decode("latin-1").split("\r\n"):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise BadRequest(f"malformed multipart part header {line[:60]!r}")
        headers[name.strip().lower()] = value.strip()
    return headers
