"""Response types DICOMweb uses: DICOM JSON and streamed multipart/related."""

from __future__ import annotations

from collections.abc import Iterable

from fastapi.responses import Response, StreamingResponse

from cloudpacs.dicom.json_model import bind_base, dumps
from cloudpacs.multipart import encode_parts, new_boundary

DICOM_JSON = "application/dicom+json"


def dicom_json(
    payload: object | bytes, base: str, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = payload if isinstance(payload, bytes) else dumps(payload)
    return Response(
        bind_base(body, base), status_code=status, media_type=DICOM_JSON, headers=headers
    )


def multipart_response(
    part_type: str, parts: Iterable[tuple[str, Iterable[bytes]]], *, transfer_syntax: str | None
) -> StreamingResponse:
    boundary = new_boundary()
    content_type = f'multipart/related; type="{part_type}"; boundary={boundary}'
    if transfer_syntax:
        content_type += f"; transfer-syntax={transfer_syntax}"
    return StreamingResponse(encode_parts(parts, boundary), media_type=content_type)
