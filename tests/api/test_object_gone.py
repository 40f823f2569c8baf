"""A read that finds the index entry but not the object (a DELETE ran in between) is a 404
over HTTP, for every kind of retrieve, never a 500."""

from __future__ import annotations

import httpx
import pytest

from cloudpacs.keys import instance_key
from cloudpacs.runtime import Services
from tests.support.synthetic import ct_instance

STUDY, SERIES = "1.2.826.0.1.78.1", "1.2.826.0.1.78.1.1"


@pytest.mark.parametrize(
    ("suffix", "accept"),
    [
        ("", 'multipart/related; type="application/dicom"'),
        ("/frames/1", 'multipart/related; type="application/octet-stream"'),
        ("/rendered", "image/jpeg"),
        ("/thumbnail", "image/jpeg"),
        ("/bulkdata/7FE00010", 'multipart/related; type="application/octet-stream"'),
    ],
)
def test_retrieve_of_an_object_deleted_meanwhile_is_404(
    server: tuple[str, Services], http: httpx.Client, suffix: str, accept: str
) -> None:
    _, services = server
    stored = services.ingest.store(ct_instance(STUDY, SERIES, 1, rows=8, columns=8))
    assert stored.ok and stored.record is not None
    sop = stored.record.sop_uid
    services.blobs.delete(instance_key(STUDY, SERIES, sop))
    url = f"/studies/{STUDY}/series/{SERIES}/instances/{sop}{suffix}"
    response = http.get(url, headers={"Accept": accept})
    assert response.status_code == 404, response.text
    assert "deleted while being read" in response.json()["error"]
