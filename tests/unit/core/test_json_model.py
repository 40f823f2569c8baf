"""DICOM JSON (PS3.18 Annex F) for index records and metadata (``dicom.json_model``)."""

from __future__ import annotations

import json

from pydicom.dataset import Dataset

from cloudpacs.dicom.json_model import BULK_BASE, bind_base, dumps, instance_metadata, select

from .dicom_json import tag
from .instances import sample


def test_select_keeps_the_named_attributes_that_are_present() -> None:
    """PS3.18 F.2.2: members are keyed by the 8 upper-case hex digits of the tag."""
    ds = sample()
    ds.PatientName = "Doe^Jane"
    ds.InstanceNumber = "7"
    out = select(ds, ["PatientName", "InstanceNumber", "PerformedProcedureStepStartDate"])
    assert out == {
        "00100010": {"vr": "PN", "Value": [{"Alphabetic": "Doe^Jane"}]},
        "00200013": {"vr": "IS", "Value": [7]},
    }


def test_select_drops_values_that_cannot_be_dicom_json() -> None:
    """An IS value that is not a number cannot be a JSON number (PS3.18 F.2.3.1): pydicom's
    badVR.dcm has Number of Frames "1A"; it is left out rather than failing the object."""
    ds = sample("badVR.dcm")
    assert ds["NumberOfFrames"].value == "1A"
    out = select(ds, ["NumberOfFrames", "Rows"])
    assert out == {"00280010": {"vr": "US", "Value": [10]}}


def test_metadata_refers_to_large_binary_values_by_uri() -> None:
    """PS3.18 F.2.6: a BulkDataURI names where a large value can be retrieved; values in
    sequence items get the item's tag path. Small binary values stay inline (F.2.7)."""
    ds = sample()
    icon = Dataset()
    icon.Rows, icon.Columns = 40, 40
    icon.BitsAllocated, icon.SamplesPerPixel = 8, 1
    icon.PixelData = bytes(1600)
    ds.IconImageSequence = [icon]
    ds.add_new(0x00091010, "OB", bytes(16))  # small private binary value
    path = "studies/1.2/series/1.2.3/instances/1.2.3.4"
    meta = instance_metadata(ds, path)
    assert meta[tag("PixelData")]["BulkDataURI"] == f"{BULK_BASE}/{path}/bulkdata/7FE00010"
    item = meta[tag("IconImageSequence")]["Value"][0]
    assert item["7FE00010"]["BulkDataURI"] == f"{BULK_BASE}/{path}/bulkdata/00880200/0/7FE00010"
    assert meta["00091010"]["InlineBinary"] == "AAAAAAAAAAAAAAAAAAAAAA=="
    assert meta[tag("PatientName")]["Value"] == [{"Alphabetic": "CompressedSamples^CT1"}]


def test_bind_base_replaces_only_the_placeholder_at_the_start_of_a_string() -> None:
    body = dumps({"a": {"vr": "UR", "Value": [f"{BULK_BASE}/studies/1"]}, "b": BULK_BASE[:-1]})
    bound = json.loads(bind_base(body, "https://pacs.example.org/dicom-web"))
    assert bound["a"]["Value"] == ["https://pacs.example.org/dicom-web/studies/1"]
    assert bound["b"] == BULK_BASE[:-1]


def test_dumps_is_compact_utf8() -> None:
    assert dumps({"n": ["Müller"]}) == '{"n":["Müller"]}'.encode()
