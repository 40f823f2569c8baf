"""Build STOW-RS request bodies exactly as a client would send them."""

from __future__ import annotations

from cloudpacs.multipart import encode_parts, new_boundary


def stow_body(
    parts: list[bytes], part_type: str = "application/dicom"
) -> tuple[bytes, dict[str, str]]:
    boundary = new_boundary()
    body = b"".join(encode_parts(((part_type, [p]) for p in parts), boundary))
    headers = {"Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}'}
    return body, headers
