"""QIDO-RS parameters and the UIDs of every resource path under fuzzing (PS3.18 §8.3, §10.4,
§10.6; DESIGN.md §4: UIDs are validated before they reach a key or a path): never a 5xx,
always a JSON reason, and a fuzzed DELETE removes nothing it was not asked to."""

from __future__ import annotations

import io
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pydicom
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cloudpacs.runtime import Services
from tests.reliability.archive import check_answer, check_consistent, stored_keys
from tests.reliability.strategies import QIDO_PARAMS, SEGMENTS
from tests.support.server import live_server
from tests.support.synthetic import ct_study

SEARCHES = ["/studies", "/series", "/instances", "/studies/{0}/series", "/studies/{0}/instances"]
RESOURCES = [
    "/studies/{0}",
    "/studies/{0}/metadata",
    "/studies/{0}/series/{1}",
    "/studies/{0}/series/{1}/metadata",
    "/studies/{0}/series/{1}/instances",
    "/studies/{0}/series/{1}/instances/{2}",
    "/studies/{0}/series/{1}/instances/{2}/metadata",
    "/studies/{0}/series/{1}/instances/{2}/frames/{3}",
    "/studies/{0}/series/{1}/instances/{2}/bulkdata/{3}",
]


@pytest.fixture(scope="module")
def archive(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[httpx.Client, Services, list[str]]]:
    with live_server(tmp_path_factory.mktemp("fuzz-qido") / "data") as (url, services):
        study, objects = ct_study(2, series=1, rows=4, columns=4)
        for data in objects:
            assert services.ingest.store(data).ok
        first = pydicom.dcmread(io.BytesIO(objects[0]))
        uids = [study, str(first.SeriesInstanceUID), str(first.SOPInstanceUID)]
        with httpx.Client(base_url=url, timeout=30) as http:
            yield http, services, uids
        check_consistent(services.index, services.blobs)


@given(st.sampled_from(SEARCHES), QIDO_PARAMS, st.sampled_from(["", "application/dicom+json"]))
def test_fuzzed_qido_parameters(
    archive: tuple[httpx.Client, Services, list[str]],
    path: str,
    params: list[tuple[str, str]],
    accept: str,
) -> None:
    http, _, uids = archive
    headers = {"Accept": accept} if accept else {}
    response = http.get(path.format(uids[0]), params=params, headers=headers)
    answer = check_answer(response)
    if response.status_code == 200:
        assert isinstance(answer, list)


@given(
    st.sampled_from(RESOURCES),
    st.lists(st.one_of(SEGMENTS, st.just("real")), min_size=4, max_size=4),
    st.sampled_from(["GET", "GET", "HEAD", "DELETE"]),
)
def test_fuzzed_path_uids(
    archive: tuple[httpx.Client, Services, list[str]],
    template: str,
    segments: list[str],
    method: str,
) -> None:
    """Real UIDs mixed with malformed ones at every level of every resource path."""
    http, services, uids = archive
    real = [*uids, "1"]
    filled = [real[i] if s == "real" else quote(s, safe="") for i, s in enumerate(segments)]
    path = template.format(*filled)
    real_target = all(s == "real" for s in segments[: template.count("{")])
    if method == "DELETE" and real_target and not template.endswith(("/metadata", "}/instances")):
        return  # deleting the seeded study is not what this property is about
    before = stored_keys(services.blobs)
    response = http.request(method, path)
    if method != "HEAD":
        check_answer(response)
    else:
        assert response.status_code < 500
    if response.status_code >= 400:
        assert stored_keys(services.blobs) == before
