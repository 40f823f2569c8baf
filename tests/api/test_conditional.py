"""ETags, Last-Modified, Cache-Control and conditional requests over real HTTP (RFC 9110)."""

from __future__ import annotations

import io
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import httpx
import pydicom
import pytest

from tests.support.multipart_body import stow_body
from tests.support.server import live_server
from tests.support.synthetic import ct_instance, ct_study

MULTIPART = 'multipart/related; type="application/dicom"'


def _store(http: httpx.Client, objects: list[bytes]) -> None:
    body, headers = stow_body(objects)
    response = http.post("/studies", content=body, headers=headers)
    assert response.status_code == 200, response.text


def _uids(obj: bytes) -> tuple[str, str, str]:
    ds = pydicom.dcmread(io.BytesIO(obj), stop_before_pixels=True)
    return ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.SOPInstanceUID


@pytest.fixture
def study(http: httpx.Client) -> tuple[str, str, str, list[bytes]]:
    study_uid, objects = ct_study(3, rows=16, columns=16)
    _store(http, objects)
    _, series_uid, sop_uid = _uids(objects[0])
    return study_uid, series_uid, sop_uid, objects


def _revalidated(http: httpx.Client, url: str, **headers: str) -> httpx.Response:
    """GET ``url``, then GET it again with its ETag: the second answer must be 304."""
    first = http.get(url, headers=headers)
    assert first.status_code == 200, first.text
    etag = first.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"')
    again = http.get(url, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304, again.text
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert again.headers["cache-control"] == first.headers["cache-control"]
    return first


def test_every_wado_and_qido_resource_answers_304_to_its_own_etag(
    http: httpx.Client, study: tuple[str, str, str, list[bytes]]
) -> None:
    study_uid, series_uid, sop_uid, _ = study
    instance = f"/studies/{study_uid}/series/{series_uid}/instances/{sop_uid}"
    revalidating = [
        (f"/studies/{study_uid}", {"Accept": MULTIPART}),
        (f"/studies/{study_uid}/series/{series_uid}", {"Accept": MULTIPART}),
        (instance, {"Accept": "application/dicom"}),
        (f"/studies/{study_uid}/metadata", {}),
        (f"/studies/{study_uid}/series/{series_uid}/metadata", {}),
        (f"{instance}/metadata", {}),
        ("/studies", {}),
        (f"/studies/{study_uid}/series", {}),
        (f"/studies/{study_uid}/instances", {}),
    ]
    for url, headers in revalidating:
        first = _revalidated(http, url, **headers)
        assert first.headers["cache-control"] == "private, no-cache", url
        assert "Accept" in first.headers["vary"], url
    pixels = [
        (f"{instance}/frames/1", {"Accept": 'multipart/related; type="application/octet-stream"'}),
        (f"{instance}/bulkdata/7FE00010", {}),
        (f"{instance}/rendered", {"Accept": "image/png"}),
        (f"{instance}/frames/1/rendered", {}),
        (f"/studies/{study_uid}/series/{series_uid}/rendered", {}),
        (f"{instance}/thumbnail", {}),
        (f"/studies/{study_uid}/thumbnail", {}),
    ]
    for url, headers in pixels:
        first = _revalidated(http, url, **headers)
        assert first.headers["cache-control"] == "private, max-age=3600", url


def test_stored_resources_carry_last_modified_and_answer_if_modified_since(
    http: httpx.Client, study: tuple[str, str, str, list[bytes]]
) -> None:
    study_uid = study[0]
    first = http.get(f"/studies/{study_uid}/metadata")
    modified = parsedate_to_datetime(first.headers["last-modified"])
    same = http.get(
        f"/studies/{study_uid}/metadata",
        headers={"If-Modified-Since": first.headers["last-modified"]},
    )
    assert same.status_code == 304
    earlier = format_datetime(modified.replace(year=modified.year - 1), usegmt=True)
    older = http.get(f"/studies/{study_uid}/metadata", headers={"If-Modified-Since": earlier})
    assert older.status_code == 200 and older.json()
    # An ETag that does not match wins over a date that would (RFC 9110 §13.2.2).
    both = http.get(
        f"/studies/{study_uid}/metadata",
        headers={"If-None-Match": '"other"', "If-Modified-Since": first.headers["last-modified"]},
    )
    assert both.status_code == 200


def test_same_etag_same_bytes_and_a_change_makes_a_new_etag(
    http: httpx.Client, study: tuple[str, str, str, list[bytes]]
) -> None:
    study_uid, series_uid, _, _ = study
    urls = [
        (f"/studies/{study_uid}", {"Accept": MULTIPART}),
        (f"/studies/{study_uid}/metadata", {}),
        ("/studies", {}),
        (f"/studies/{study_uid}/series/{series_uid}/rendered", {}),
    ]
    before = {}
    for url, headers in urls:
        one, two = http.get(url, headers=headers), http.get(url, headers=headers)
        assert one.headers["etag"] == two.headers["etag"], url
        assert one.content == two.content, url  # multipart boundaries follow the ETag
        before[url] = one.headers["etag"]
    _store(http, [ct_instance(study_uid, series_uid, 9, rows=16, columns=16)])
    for url, headers in urls:
        changed = http.get(url, headers={**headers, "If-None-Match": before[url]})
        assert changed.status_code == 200, url
        assert changed.headers["etag"] != before[url], url


def test_representations_differ_in_etag_but_share_the_version(
    http: httpx.Client, study: tuple[str, str, str, list[bytes]]
) -> None:
    study_uid, series_uid, sop_uid, _ = study
    instance = f"/studies/{study_uid}/series/{series_uid}/instances/{sop_uid}"
    as_stored = http.get(instance, headers={"Accept": "application/dicom"}).headers["etag"]
    transcoded = http.get(
        instance, headers={"Accept": "application/dicom; transfer-syntax=1.2.840.10008.1.2.5"}
    ).headers["etag"]
    metadata = http.get(f"{instance}/metadata").headers["etag"]
    assert len({as_stored, transcoded, metadata}) == 3
    assert len({tag.split("-")[0] for tag in (as_stored, transcoded, metadata)}) == 1


def test_delete_with_a_stale_version_is_412_and_deletes_nothing(
    http: httpx.Client, study: tuple[str, str, str, list[bytes]]
) -> None:
    study_uid, series_uid, _, _ = study
    seen = http.get(f"/studies/{study_uid}/metadata").headers["etag"]
    _store(http, [ct_instance(study_uid, series_uid, 8, rows=16, columns=16)])
    for stale in (seen, f"W/{seen}", '"unknown"'):
        refused = http.delete(f"/studies/{study_uid}", headers={"If-Match": stale})
        assert refused.status_code == 412, refused.text
        assert "changed" in refused.json()["error"]
    assert len(http.get(f"/studies/{study_uid}/instances").json()) == 4

    current = http.get(f"/studies/{study_uid}", headers={"Accept": MULTIPART}).headers["etag"]
    deleted = http.delete(f"/studies/{study_uid}", headers={"If-Match": current})
    assert deleted.status_code == 200 and deleted.json() == {"deleted_instances": 4}
    assert http.get(f"/studies/{study_uid}/metadata").status_code == 404


def test_delete_if_unmodified_since(
    http: httpx.Client, study: tuple[str, str, str, list[bytes]]
) -> None:
    study_uid, series_uid, sop_uid, _ = study
    instance = f"/studies/{study_uid}/series/{series_uid}/instances/{sop_uid}"
    modified = parsedate_to_datetime(http.get(f"{instance}/metadata").headers["last-modified"])
    earlier = format_datetime(modified.replace(year=modified.year - 1), usegmt=True)
    refused = http.delete(instance, headers={"If-Unmodified-Since": earlier})
    assert refused.status_code == 412
    assert http.get(f"{instance}/metadata").status_code == 200
    later = format_datetime(modified.replace(year=modified.year + 1), usegmt=True)
    assert http.delete(instance, headers={"If-Unmodified-Since": later}).status_code == 200
    assert http.get(f"{instance}/metadata").status_code == 404


def test_a_conditional_get_of_what_does_not_exist_is_still_404(
    http: httpx.Client, study: tuple[str, str, str, list[bytes]]
) -> None:
    study_uid, series_uid, sop_uid, _ = study
    instance = f"/studies/{study_uid}/series/{series_uid}/instances/{sop_uid}"
    frame = http.get(f"{instance}/frames/1")
    for url in (f"{instance}/frames/7", f"{instance}/frames/7/rendered"):
        missing = http.get(url, headers={"If-None-Match": "*"})
        assert missing.status_code == 404, url
    head = http.head(f"{instance}/frames/1", headers={"If-None-Match": frame.headers["etag"]})
    assert head.status_code == 304 and head.headers["etag"] == frame.headers["etag"]
    mismatch = http.get(f"{instance}/metadata", headers={"If-Match": '"other"'})
    assert mismatch.status_code == 412


def test_browsers_may_send_conditions_and_read_the_validators(tmp_path: Path) -> None:
    origin = "https://viewer.example.org"
    with (
        live_server(tmp_path / "data", cors_allowed_origins=[origin]) as (url, _),
        httpx.Client(base_url=url, timeout=30) as http,
    ):
        preflight = http.options(
            "/studies",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "DELETE",
                "Access-Control-Request-Headers": "if-match, if-none-match, if-modified-since",
            },
        )
        assert preflight.status_code == 204, preflight.text
        answer = http.get("/studies", headers={"Origin": origin})
        exposed = answer.headers["access-control-expose-headers"]
        assert "ETag" in exposed and "Last-Modified" in exposed
        assert answer.headers["etag"]
