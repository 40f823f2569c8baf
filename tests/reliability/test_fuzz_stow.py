"""STOW-RS under fuzzing (PS3.18 §10.5): whatever the body, never a 5xx, always a JSON or
DICOM JSON reason, and nothing stored from a rejected part (DESIGN.md §6)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudpacs.runtime import Services
from tests.reliability.archive import (
    check_answer,
    check_consistent,
    check_nothing_half_written,
    stored_keys,
)
from tests.reliability.strategies import DICOM_PARTS, PART_TYPES, SEGMENTS, multipart_bodies
from tests.support.multipart_body import stow_body
from tests.support.server import live_server


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[httpx.Client, Services]]:
    data: Path = tmp_path_factory.mktemp("fuzz-stow") / "data"
    with (
        live_server(data) as (url, services),
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        yield http, services
        check_consistent(services.index, services.blobs)


def _post(
    archive: tuple[httpx.Client, Services], path: str, body: bytes, content_type: str
) -> None:
    http, services = archive
    before = stored_keys(services.blobs)
    headers = {"Content-Type": content_type} if content_type else {}
    response = http.post(path, content=body, headers=headers)
    answer = check_answer(response)
    check_nothing_half_written(services.index, services.blobs, before, answer)


@given(multipart_bodies())
def test_fuzzed_multipart_bodies(
    archive: tuple[httpx.Client, Services], request_body: tuple[bytes, str]
) -> None:
    body, content_type = request_body
    _post(archive, "/studies", body, content_type)


@given(PART_TYPES, DICOM_PARTS)
def test_fuzzed_dicom_parts_in_a_well_framed_body(
    archive: tuple[httpx.Client, Services], part_type: str, part: bytes
) -> None:
    body, headers = stow_body([part], part_type=part_type or "application/dicom")
    _post(archive, "/studies", body, headers["Content-Type"])


@given(SEGMENTS, st.lists(DICOM_PARTS, min_size=1, max_size=3), st.booleans())
def test_fuzzed_parts_to_a_fuzzed_study_path(
    archive: tuple[httpx.Client, Services], study: str, parts: list[bytes], chunked: bool
) -> None:
    """``POST /studies/{study}``; a chunked body (no Content-Length) takes the path that reads
    the whole body before storing."""
    http, services = archive
    body, headers = stow_body(parts)
    content: bytes | Iterator[bytes] = iter([body[:7], body[7:]]) if chunked else body
    before = stored_keys(services.blobs)
    response = http.post(f"/studies/{quote(study, safe='')}", content=content, headers=headers)
    answer = check_answer(response)
    check_nothing_half_written(services.index, services.blobs, before, answer)
