"""Which answers the Lambda HTTP app gzips: DICOM JSON yes; DICOM, frames and images
(JPEG, PNG, GIF, compressed already) no."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.testclient import TestClient

from cloudpacs.aws_lambda.http_app import GZIP_MINIMUM_BYTES, NOT_COMPRESSED


def _client(media_type: str) -> TestClient:
    async def answer(request: Request) -> Response:
        return Response(b"\x00" * (2 * GZIP_MINIMUM_BYTES), media_type=media_type)

    app = Starlette(routes=[Route("/", answer)])
    compressed = GZipMiddleware(
        app, minimum_size=GZIP_MINIMUM_BYTES, exclude_content_types=NOT_COMPRESSED
    )
    return TestClient(compressed)


@pytest.mark.parametrize(
    ("media_type", "gzipped"),
    [
        ("application/dicom+json", True),
        ("application/dicom", False),
        ('multipart/related; type="application/dicom"', False),
        ("application/octet-stream", False),
        ("image/jpeg", False),
        ("image/png", False),
        ("image/gif", False),
    ],
)
def test_only_text_answers_are_gzipped(media_type: str, gzipped: bool) -> None:
    response = _client(media_type).get("/", headers={"Accept-Encoding": "gzip"})
    assert (response.headers.get("content-encoding") == "gzip") is gzipped
