"""Rendered, thumbnail and transcoded WADO-RS resources over real HTTP (PS3.18 §9.5, §8.7):
dicomweb-client and httpx against a live server holding pydicom's files."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pydicom
import pytest
from dicomweb_client.api import DICOMwebClient
from PIL import Image
from pydicom.data import get_testdata_file

from cloudpacs.dicom.parse import parse_instance
from cloudpacs.model import InstanceRecord
from tests.support.multipart_reader import read_parts
from tests.support.server import live_server

FILES = {
    "ct": "CT_small.dcm",  # 16-bit, Explicit VR LE
    "j2k": "MR_small_jp2klossless.dcm",  # JPEG 2000 lossless
    "multi": "emri_small_RLE.dcm",  # 10 frames, RLE
    "rgb": "SC_rgb_rle.dcm",  # 8-bit RGB, RLE
    "sr": "test-SR.dcm",  # no pixel data
}


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict]]:
    with live_server(tmp_path_factory.mktemp("rendered") / "data") as (url, services):
        records: dict[str, InstanceRecord] = {}
        for key, name in FILES.items():
            data = Path(get_testdata_file(name)).read_bytes()
            assert services.ingest.store(data).ok
            records[key] = parse_instance(data).record
        yield url, records


@pytest.fixture(scope="module")
def http(archive: tuple[str, dict]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=archive[0], timeout=60) as client:
        yield client


def _path(rec: InstanceRecord, tail: str = "") -> str:
    return f"/studies/{rec.study_uid}/series/{rec.series_uid}/instances/{rec.sop_uid}{tail}"


def _ids(rec: InstanceRecord) -> tuple[str, str, str]:
    return rec.study_uid, rec.series_uid, rec.sop_uid


def test_rendered_instance_defaults_to_jpeg_and_offers_png(archive: tuple[str, dict]) -> None:
    url, records = archive
    client = DICOMwebClient(url=url)
    jpeg = client.retrieve_instance_rendered(*_ids(records["ct"]))
    assert jpeg[:2] == b"\xff\xd8"
    png = client.retrieve_instance_rendered(
        *_ids(records["ct"]), media_types=("image/png",), params={"viewport": "64,64"}
    )
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (64, 64)


def test_quality_and_annotation_change_the_image(
    http: httpx.Client, archive: tuple[str, dict]
) -> None:
    path = _path(archive[1]["ct"], "/rendered")
    low, high = (http.get(path, params={"quality": q}).content for q in ("5", "100"))
    assert len(low) < len(high)
    plain = np.asarray(
        Image.open(io.BytesIO(http.get(path, params={"accept": "image/png"}).content))
    )
    marked = http.get(path, params={"accept": "image/png", "annotation": "patient,technique"})
    annotated = np.asarray(Image.open(io.BytesIO(marked.content)).convert("L"))
    assert (annotated[:30] != plain[:30]).any()  # text burned in at the top
    assert (annotated[-30:] == plain[-30:]).all()  # and nowhere else


def test_compressed_source_renders_the_same_pixels_as_the_original(
    http: httpx.Client, archive: tuple[str, dict]
) -> None:
    rec = archive[1]["j2k"]
    png = http.get(_path(rec, "/rendered"), headers={"Accept": "image/png"})
    assert png.status_code == 200
    shown = np.asarray(Image.open(io.BytesIO(png.content)))
    original = pydicom.dcmread(get_testdata_file("MR_small.dcm"))
    from cloudpacs.dicom import render

    assert (shown == render.display_values(original, original.pixel_array)).all()


def test_several_frames_as_gif_or_multipart(http: httpx.Client, archive: tuple[str, dict]) -> None:
    rec = archive[1]["multi"]
    gif = http.get(_path(rec, "/rendered"), headers={"Accept": "image/gif"})
    assert gif.status_code == 200 and gif.headers["content-type"] == "image/gif"
    assert Image.open(io.BytesIO(gif.content)).n_frames == 10
    parts = http.get(
        _path(rec, "/frames/2,4/rendered"),
        headers={"Accept": 'multipart/related; type="image/png"'},
    )
    assert parts.status_code == 200
    bodies = read_parts(parts.headers["content-type"], parts.content)
    assert [media.split(";")[0] for media, _ in bodies] == ["image/png", "image/png"]
    # only a single-frame type accepted: the first frame
    first = http.get(_path(rec, "/rendered"), headers={"Accept": "image/png"})
    assert first.status_code == 200 and first.headers["content-type"] == "image/png"
    frame_1 = http.get(_path(rec, "/frames/1/rendered"), headers={"Accept": "image/png"})
    assert first.content == frame_1.content
    single = http.get(_path(rec, "/frames/3/rendered"), params={"window": "600,1200,sigmoid"})
    assert single.status_code == 200 and single.headers["content-type"] == "image/jpeg"


def test_series_and_study_rendered_are_multipart(
    http: httpx.Client, archive: tuple[str, dict]
) -> None:
    rec = archive[1]["rgb"]
    resp = http.get(f"/studies/{rec.study_uid}/series/{rec.series_uid}/rendered")
    assert resp.status_code == 200
    bodies = read_parts(resp.headers["content-type"], resp.content)
    assert len(bodies) == 1 and bodies[0][1][:2] == b"\xff\xd8"
    image = Image.open(io.BytesIO(bodies[0][1]))
    assert image.mode == "RGB"


def test_thumbnails_at_every_level(http: httpx.Client, archive: tuple[str, dict]) -> None:
    rec = archive[1]["multi"]
    paths = [
        f"/studies/{rec.study_uid}/thumbnail",
        f"/studies/{rec.study_uid}/series/{rec.series_uid}/thumbnail",
        _path(rec, "/thumbnail"),
        _path(rec, "/frames/5/thumbnail"),
    ]
    for path in paths:
        resp = http.get(path, params={"viewport": "256,256"})
        assert resp.status_code == 200, (path, resp.text)
        assert Image.open(io.BytesIO(resp.content)).size == (256, 256)
    png = http.get(paths[1], headers={"Accept": "image/png"})
    assert png.headers["content-type"] == "image/png"


@pytest.mark.parametrize(
    ("tail", "params", "status"),
    [
        ("/frames/11/rendered", {}, 404),
        ("/frames/0/rendered", {}, 400),
        ("/frames/11/thumbnail", {}, 404),
        ("/rendered", {"viewport": "0,256"}, 400),
        ("/rendered", {"viewport": "10,10,100,100,50,50"}, 400),
        ("/rendered", {"window": "40,0"}, 400),
        ("/rendered", {"window": "40,400,cubic"}, 400),
        ("/rendered", {"quality": "0"}, 400),
        ("/thumbnail", {"viewport": "64,64,0,0,10,10"}, 400),
    ],
)
def test_bad_rendering_requests(
    http: httpx.Client, archive: tuple[str, dict], tail: str, params: dict, status: int
) -> None:
    resp = http.get(_path(archive[1]["multi"], tail), params=params)
    assert resp.status_code == status
    assert resp.json()["error"]


def test_rendered_of_a_non_image_object_is_406_with_a_reason(
    http: httpx.Client, archive: tuple[str, dict]
) -> None:
    rec = archive[1]["sr"]
    for tail in ("/rendered", "/thumbnail"):
        resp = http.get(_path(rec, tail))
        assert resp.status_code == 406
        assert "no Pixel Data" in resp.json()["error"]


@pytest.mark.parametrize(
    "syntax",
    [
        "1.2.840.10008.1.2.4.90",
        "1.2.840.10008.1.2.4.80",
        "1.2.840.10008.1.2.5",
        "1.2.840.10008.1.2.1",
    ],
)
def test_instance_transcoded_on_accept(archive: tuple[str, dict], syntax: str) -> None:
    url, records = archive
    client = DICOMwebClient(url=url)
    ds = client.retrieve_instance(*_ids(records["ct"]), media_types=((DICOM, syntax),))
    assert ds.file_meta.TransferSyntaxUID == syntax
    original = pydicom.dcmread(get_testdata_file(FILES["ct"]))
    assert (ds.pixel_array == original.pixel_array).all()


def test_deflated_on_accept(http: httpx.Client, archive: tuple[str, dict]) -> None:
    # dicomweb-client does not offer Deflated Explicit VR Little Endian: asked for directly
    syntax = "1.2.840.10008.1.2.1.99"
    accept = f'multipart/related; type="{DICOM}"; transfer-syntax={syntax}'
    resp = http.get(_path(archive[1]["ct"]), headers={"Accept": accept})
    assert resp.status_code == 200
    [(media, body)] = read_parts(resp.headers["content-type"], resp.content)
    assert media.startswith(DICOM) and syntax in media
    ds = pydicom.dcmread(io.BytesIO(body))
    assert ds.file_meta.TransferSyntaxUID == syntax
    original = pydicom.dcmread(get_testdata_file(FILES["ct"]))
    assert (ds.pixel_array == original.pixel_array).all()


DICOM = "application/dicom"


def test_frames_transcoded_and_what_cannot_be_is_406(
    http: httpx.Client, archive: tuple[str, dict]
) -> None:
    url, records = archive
    client = DICOMwebClient(url=url)
    frames = client.retrieve_instance_frames(
        *_ids(records["rgb"]), frame_numbers=[1], media_types=(("image/jpeg",),)
    )
    decoded = np.asarray(Image.open(io.BytesIO(frames[0])))
    original = pydicom.dcmread(get_testdata_file(FILES["rgb"])).pixel_array
    assert np.abs(decoded.astype(float) - original).mean() < 4
    accept = f'multipart/related; type="{DICOM}"; transfer-syntax=1.2.840.10008.1.2.4.50'
    refused = http.get(_path(records["ct"]), headers={"Accept": accept})
    assert refused.status_code == 406
    assert "1.2.840.10008.1.2.4.90" in refused.json()["error"]  # what can be produced
    study = http.get(f"/studies/{records['sr'].study_uid}", headers={"Accept": accept})
    assert study.status_code == 406
