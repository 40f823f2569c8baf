"""The Basic Profile, the Retain Options and action-code resolution against PS3.15 (each test
quotes its clause)."""

from __future__ import annotations

import datetime

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from cloudpacs.deid import Profile, deidentify
from cloudpacs.deid.actions import resolve
from cloudpacs.deid.pseudonym import DATE_SHIFT_MAX_DAYS, DATE_SHIFT_MIN_DAYS
from cloudpacs.deid.table import Rule, load

from .builders import ct_dataset
from .conftest import SECRET

BASIC = Profile()


def run(ds: Dataset, **options: bool) -> Dataset:
    return deidentify(ds, Profile(**options), SECRET)


def days(a: str, b: str) -> int:
    def d(s: str) -> datetime.date:
        return datetime.date(int(s[:4]), int(s[4:6]), int(s[6:8]))

    return (d(b) - d(a)).days


def test_basic_profile_removes_or_replaces_identity() -> None:
    """E.2: the Basic Profile "removes all information related to: the identity and
    demographic characteristics of the patient ... the identity of any personnel ... the
    identity of the organizations ... UIDs, dates and times ... private attributes"; and
    (0028,0303) "shall be added ... with a value of "REMOVED" if none of the Retain
    Longitudinal Temporal Information Options is applied"."""
    src = ct_dataset()
    out = deidentify(src, BASIC, SECRET)
    assert str(out.PatientName).startswith("PSEUDONYM^")
    assert out.PatientID.startswith("PSN") and out.PatientID != src.PatientID
    assert out.PatientBirthDate == "" and out.PatientSex == ""  # Z
    for gone in ("PatientAge", "PatientWeight", "PatientSize", "IssuerOfPatientID"):
        assert gone not in out  # X
    assert out.StudyDate == "" and "SeriesDate" not in out  # Z; X/D -> X
    assert out.InstitutionName == "" and "InstitutionAddress" not in out  # X/Z/D -> Z; X
    assert out.ReferringPhysicianName == "" and out.AccessionNumber == ""
    assert "StudyDescription" not in out and "SeriesDescription" not in out
    assert out.StationName == "" and out.DeviceSerialNumber == ""  # X/Z/D -> Z
    assert not any(tag.is_private for tag in out.keys())  # noqa: SIM118
    assert out.SOPInstanceUID != src.SOPInstanceUID
    assert out.LongitudinalTemporalInformationModified == "REMOVED"
    assert out.StudyTime == ""  # Z


def test_deidentify_does_not_change_its_argument() -> None:
    src = ct_dataset()
    before = src.to_json_dict()
    deidentify(src, BASIC, SECRET)
    assert src.to_json_dict() == before


def test_retain_uids_keeps_uids() -> None:
    """E.3.9: "When this Option is specified in addition to an Application Level
    Confidentiality Profile, UIDs shall be retained, as described in Table E.1-1"."""
    src = ct_dataset()
    out = run(src, retain_uids=True)
    for keyword in ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID"):
        assert out[keyword].value == src[keyword].value
    assert out.FrameOfReferenceUID == src.FrameOfReferenceUID
    assert out.file_meta.MediaStorageSOPInstanceUID == src.SOPInstanceUID


def test_retain_device_identity() -> None:
    """E.3.8: "information about the identity of the device in the Attributes shall be
    retained, as described in Table E.1-1"."""
    src = ct_dataset()
    out = run(src, retain_device_identity=True)
    assert out.DeviceSerialNumber == "SN-998877"
    assert out.StationName == "CTSTATION7"
    assert out.InstitutionName == ""  # not a device attribute


def test_retain_institution_identity() -> None:
    """Table E.1-1, "Rtn. Inst. Id. Opt." column: K for Institution Name (0008,0080) and
    Institution Address (0008,0081), which the Basic Profile removes."""
    out = run(ct_dataset(), retain_institution_identity=True)
    assert out.InstitutionName == "St Elsewhere General"
    assert out.InstitutionAddress == "1 Hospital Road, Springfield"


def test_retain_patient_characteristics() -> None:
    """E.3.7: "information about age, sex, height and weight and other characteristics
    present in the Attributes shall be retained, as described in Table E.1-1"."""
    out = run(ct_dataset(), retain_patient_characteristics=True)
    assert (out.PatientSex, out.PatientAge) == ("F", "054Y")
    assert (str(out.PatientWeight), str(out.PatientSize)) == ("70.5", "1.65")
    assert out.PatientBirthDate == ""  # a characteristic is not the birth date


def test_hipaa_preset_aggregates_ages_over_89() -> None:
    """45 CFR 164.514(b)(2)(i)(C): "all ages over 89 ... aggregated into a single category
    of age 90 or older"."""
    hipaa = Profile.preset("hipaa_safe_harbor")
    assert deidentify(ct_dataset(PatientAge="093Y"), hipaa, SECRET).PatientAge == "090Y"
    assert deidentify(ct_dataset(PatientAge="089Y"), hipaa, SECRET).PatientAge == "089Y"


def test_retain_full_dates() -> None:
    """E.3.6: "any dates and times present in the Attributes shall be retained ... The
    Attribute Longitudinal Temporal Information Modified (0028,0303) shall be added to the
    Dataset with a value of "UNMODIFIED"."."""
    src = ct_dataset()
    out = run(src, retain_longitudinal_full_dates=True)
    assert (out.StudyDate, out.SeriesDate, out.StudyTime) == ("20040119", "20040119", "101010")
    assert out.AcquisitionDateTime == src.AcquisitionDateTime
    assert out.LongitudinalTemporalInformationModified == "UNMODIFIED"


def test_retain_modified_dates() -> None:
    """E.3.6: "any dates and times present in the Attributes listed in Table E.1-1 shall be
    modified ... [preserving] the gross longitudinal temporal relationships ... [and] the
    fine temporal relationships between images and real-world events ... The Attribute
    Longitudinal Temporal Information Modified (0028,0303) shall be added to the Dataset
    with a value of "MODIFIED"."."""
    src = ct_dataset(SeriesDate="20040121")
    out = run(src, retain_longitudinal_modified_dates=True)
    shift = days(src.StudyDate, out.StudyDate)
    assert -DATE_SHIFT_MAX_DAYS <= shift <= -DATE_SHIFT_MIN_DAYS
    assert days(out.StudyDate, out.SeriesDate) == 2  # interval kept
    assert out.AcquisitionDateTime[8:] == src.AcquisitionDateTime[8:]  # time of day kept
    assert days(src.AcquisitionDateTime, out.AcquisitionDateTime) == shift
    assert out.StudyTime == "101010"
    assert out.PatientBirthDate == ""  # not a longitudinal date: still Z
    assert out.LongitudinalTemporalInformationModified == "MODIFIED"


def test_date_options_are_exclusive() -> None:
    with pytest.raises(ValueError):
        Profile(retain_longitudinal_full_dates=True, retain_longitudinal_modified_dates=True)


def _with_privates() -> Dataset:
    ds = ct_dataset()
    acme = ds.private_block(0x0033, "ACME 1.0", create=True)
    acme.add_new(0x10, "LO", "Doe^Jane")
    declared = ds.private_block(0x0035, "ACME SAFE", create=True)
    declared.add_new(0x01, "DS", "2.5")
    mixed = ds.private_block(0x0037, "ACME MIXED", create=True)
    mixed.add_new(0x01, "DS", "7.5")
    mixed.add_new(0x02, "LO", "Smith^John")
    items = []
    for group, creator, status in ((0x0035, "ACME SAFE", "SAFE"), (0x0037, "ACME MIXED", "MIXED")):
        item = Dataset()
        item.PrivateGroupReference = group
        item.PrivateCreatorReference = creator
        item.BlockIdentifyingInformationStatus = status
        if status == "MIXED":
            item.NonidentifyingPrivateElements = [0x01]
        items.append(item)
    ds.PrivateDataElementCharacteristicsSequence = Sequence(items)
    return ds


def test_retain_safe_private() -> None:
    """E.3.10: "Private Attributes that are known by the de-identifier to be safe from
    identity leakage shall be retained, together with the Private Creator IDs that are
    required to fully define the retained Private Attributes; all other Private Attributes
    shall be removed". Known safe: Table E.3.10-1, or a block with Block Identifying
    Information Status (0008,0303) "SAFE", or listed in Nonidentifying Private Elements."""
    src = _with_privates()
    out = run(src, retain_safe_private=True)
    kept = {int(t) for t in out.keys() if t.is_private}  # noqa: SIM118
    assert {0x00191023, 0x00191024, 0x00191027, 0x00190010} <= kept  # Table E.3.10-1
    assert 0x00251007 in kept and 0x00250010 in kept
    assert 0x00191002 not in kept  # GEMS_ACQU_01 element not in the table
    assert 0x00090010 not in kept and 0x00331010 not in kept  # GEMS_IDEN_01, ACME 1.0
    assert {0x00350010, 0x00351001} <= kept  # declared SAFE block
    assert {0x00370010, 0x00371001} <= kept and 0x00371002 not in kept  # MIXED
    assert out[0x00191023].value == src[0x00191023].value
    assert not any(t.is_private for t in run(src).keys())  # noqa: SIM118


def test_references_keep_structure_with_new_uids() -> None:
    """X/Z/U* (Referenced Image Sequence): "X unless Z or replacement of contained instance
    UIDs (U) is required": references are kept, each contained instance UID replaced; the
    SOP Class (a DICOM-defined UID) is not an instance UID and stays."""
    src = ct_dataset()
    ref = Dataset()
    ref.ReferencedSOPClassUID = src.SOPClassUID
    ref.ReferencedSOPInstanceUID = "1.2.3.4.5.6.7"
    src.ReferencedImageSequence = Sequence([ref])
    out = run(src)
    item = out.ReferencedImageSequence[0]
    assert item.ReferencedSOPClassUID == src.SOPClassUID
    assert item.ReferencedSOPInstanceUID.startswith("2.25.")
    target = run(ct_dataset(SOPInstanceUID="1.2.3.4.5.6.7"))
    assert item.ReferencedSOPInstanceUID == target.SOPInstanceUID


@pytest.mark.parametrize(
    ("basic", "expected"),
    [("Z/D", "Z"), ("X/Z", "Z"), ("X/Z/D", "Z"), ("X/D", "X"), ("X/Z/U*", "U"), ("K", "K")],
)
def test_compound_codes_resolve_one_way(basic: str, expected: str) -> None:
    assert resolve(Rule("t", basic, {}), BASIC) == expected


def test_the_more_protective_option_wins() -> None:
    """E.1.1: "A requirement for an Option, when implemented, overrides any requirement for
    the underlying Profile"; between two Options, clean (C) is chosen over keep (K)."""
    rule = load().rule_for(0x0014407E)  # Calibration Date
    assert rule is not None
    both = Profile(retain_device_identity=True, retain_longitudinal_modified_dates=True)
    assert resolve(rule, both) == "C"
    assert resolve(rule, Profile(retain_device_identity=True)) == "K"


def test_an_earlier_encrypted_attributes_sequence_is_removed() -> None:
    """E.1.1 item 4 puts encrypted original values in Encrypted Attributes Sequence
    (0400,0500); one left by an earlier step would let its key holder re-identify."""
    src = ct_dataset()
    item = Dataset()
    item.EncryptedContentTransferSyntaxUID = "1.2.840.10008.1.2.1"
    item.EncryptedContent = b"\x01\x02\x03\x04"
    src.EncryptedAttributesSequence = Sequence([item])
    assert "EncryptedAttributesSequence" not in run(src)
