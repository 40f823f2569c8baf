"""Decode multipart/related responses with the standard library's MIME parser.

An independent parser, so tests of the server's multipart encoding are not circular.
"""

from __future__ import annotations

import email.parser
import email.policy


def read_parts(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """(Content-Type, payload) of every part."""
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    assert message.is_multipart(), f"not multipart: {content_type}"
    parts = []
    for part in message.iter_parts():  # type: ignore[attr-defined]
        payload = part.get_payload(decode=True)
        parts.append((str(part.get("Content-Type", "")), bytes(payload)))
    return parts
