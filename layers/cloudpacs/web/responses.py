"""Response types DICOMweb uses: DICOM JSON and streamed multipart/related."""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable

from fastapi.responses import Response, StreamingResponse

from cloudpacs.dicom.json_model import bind_base, dumps
from cloudpacs.multipart import encode_parts, new_boundary

DICOM_JSON = "application/dicom+json"
Chunk = bytes | memoryview
"""A piece of a streamed body: a view where the bytes were not copied (``BlobStore.get_buffer``)."""


def dicom_json(
    payload: object | bytes, base: str, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = payload if isinstance(payload, bytes) else dumps(payload)
    return Response(
        bind_base(body, base), status_code=status, media_type=DICOM_JSON, headers=headers
    )


def multipart_response(
    part_type: str,
    parts: Iterable[tuple[str, Iterable[bytes]]],
    *,
    transfer_syntax: str | None,
    boundary: str | None = None,
) -> StreamingResponse:
    """``boundary``: fixed by the answer's ETag (``web.conditional``), else a random one."""
    boundary = boundary or new_boundary()
    return streamed_multipart(part_type, encode_parts(parts, boundary), boundary, transfer_syntax)


def streamed_multipart(
    part_type: str,
    body: Iterable[Chunk] | AsyncIterable[Chunk],
    boundary: str,
    transfer_syntax: str | None = None,
) -> StreamingResponse:
    """A multipart/related response whose body (already framed with ``boundary``) streams."""
    content_type = f'multipart/related; type="{part_type}"; boundary={boundary}'
    if transfer_syntax:
        content_type += f"; transfer-syntax={transfer_syntax}"
    return StreamingResponse(body, media_type=content_type)
