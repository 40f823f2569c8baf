"""The Clean Options (E.3.3, E.3.4, E.3.5) against PS3.15 (each test quotes its clause)."""

from __future__ import annotations

import datetime

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from cloudpacs.deid import Profile, deidentify

from .builders import code, content_item, ct_dataset, sr_dataset
from .conftest import SECRET

BASIC = Profile()


def run(ds: Dataset, **options: bool) -> Dataset:
    return deidentify(ds, Profile(**options), SECRET)


def days(a: str, b: str) -> int:
    def d(s: str) -> datetime.date:
        return datetime.date(int(s[:4]), int(s[4:6]), int(s[6:8]))

    return (d(b) - d(a)).days


def test_clean_descriptors_removes_identifiers_from_text() -> None:
    """E.3.5: "any information that is embedded in text or string Attributes corresponding
    to the Attribute information specified to be removed by the Profile and any other
    Options specified shall also be removed"."""
    out = run(ct_dataset(), clean_descriptors=True)
    assert out.StudyDescription == "CT chest for"
    assert out.SeriesDescription == "Axial soft tissue"
    basic = run(ct_dataset())
    assert "StudyDescription" not in basic and "SeriesDescription" not in basic


def _with_overlays() -> Dataset:
    ds = ct_dataset()
    for group, kind in ((0x6000, "R"), (0x6002, "G")):
        ds.add_new((group, 0x0010), "US", 4)
        ds.add_new((group, 0x0011), "US", 4)
        ds.add_new((group, 0x0040), "CS", kind)
        ds.add_new((group, 0x0050), "SS", [1, 1])
        ds.add_new((group, 0x0100), "US", 1)
        ds.add_new((group, 0x0102), "US", 0)
        ds.add_new((group, 0x3000), "OW", b"\x0f\xf0")
        ds.add_new((group, 0x4000), "LT", "drawn by Smith^John for Doe^Jane")
    ds.add_new(0x50000010, "US", 2)
    ds.add_new(0x50003000, "OW", b"\x01\x02\x03\x04")
    return ds


def test_clean_graphics() -> None:
    """E.3.3: "any information encoded in graphics, text annotations or overlays
    corresponding to the Attribute information specified to be removed ... shall also be
    removed"; note 1: it "may be more practical to simply remove all such graphics". ROI
    overlays are kept with their text cleaned; graphics overlays and curves are removed."""
    out = run(_with_overlays(), clean_graphics=True)
    assert out[0x60003000].value == b"\x0f\xf0"
    assert "Smith" not in out[0x60004000].value and "Doe" not in out[0x60004000].value
    assert not [t for t in out.keys() if t.group in (0x6002, 0x5000)]  # noqa: SIM118


def test_basic_removes_overlays_and_curves_whole() -> None:
    """Table E.1-1: Overlay Data (60xx,3000), Overlay Comments (60xx,4000) and Curve Data
    (50xx,xxxx) are X in the Basic Profile."""
    out = run(_with_overlays())
    assert not [t for t in out.keys() if t.group >> 8 in (0x50, 0x60)]  # noqa: SIM118


def test_clean_structured_content() -> None:
    """E.3.4: "any information encoded in SR Content Items or Acquisition Context or
    Specimen Preparation Sequence Items corresponding to the Attribute information
    specified to be removed by the Profile and any other Options specified shall also be
    removed". Table E.3.4-1 names content items: Finding is X/D (C with Clean Descriptors),
    Subject Birth Date X, Person Observer Name D; other free text is cleaned."""
    out = run(sr_dataset(), clean_structured_content=True)
    items = out.ContentSequence
    assert [i.ValueType for i in items] == ["TEXT", "PNAME", "NUM"]
    assert items[0].TextValue == "Called at home, contrast ok"
    assert str(items[1].PersonName) == "DEIDENTIFIED"


def test_structured_content_with_clean_descriptors_keeps_cleaned_findings() -> None:
    """Table E.3.4-1: Finding (121071, DCM) is C under the Clean Descriptors Option."""
    out = run(sr_dataset(), clean_structured_content=True, clean_descriptors=True)
    finding = out.ContentSequence[0]
    assert finding.ConceptNameCodeSequence[0].CodeValue == "121071"
    assert "Nodule 8 mm" in finding.TextValue
    assert not any(s in finding.TextValue for s in ("Smith", "Doe", "Jane", "MRN12345"))


def test_basic_replaces_free_text_in_structured_content() -> None:
    """Table E.1-1: Content Sequence (0040,A730) is D in the Basic Profile and C only with
    the Clean Structured Content Option: without it, free text is replaced by a dummy and
    the items Table E.3.4-1 codes X or X/D are removed."""
    items = run(sr_dataset()).ContentSequence
    assert [i.ValueType for i in items] == ["TEXT", "PNAME", "NUM"]
    assert items[0].TextValue == "DEIDENTIFIED"


def test_acquisition_context_is_emptied_or_cleaned() -> None:
    """Table E.1-1: Acquisition Context Sequence (0040,0555) is X/Z, and C with the Clean
    Structured Content Option."""
    src = ct_dataset()
    src.AcquisitionContextSequence = Sequence(
        [content_item("TEXT", code("113999", "99X", "Note"), TextValue="by Smith^John, ok")]
    )
    assert len(run(src).AcquisitionContextSequence) == 0
    cleaned = run(src, clean_structured_content=True).AcquisitionContextSequence
    assert cleaned[0].TextValue == "by, ok"
