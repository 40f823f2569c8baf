"""The IOD check (PS3.3 Annex A, Type 1/2 of PS3.5 §7.4) and its table."""

from __future__ import annotations

import io
import json

import pydicom
from pydicom.data import get_testdata_file

from cloudpacs.validation import generate
from cloudpacs.validation.iod_check import check_dataset, iod_check, requirements
from tests.support.iod_samples import complete, strip
from tests.support.synthetic import ct_instance


def _ct() -> pydicom.Dataset:
    return pydicom.dcmread(io.BytesIO(ct_instance("1.2.3", "1.2.3.4", 1, rows=8, columns=8)))


def test_the_committed_table_is_what_the_standard_s_tables_give() -> None:
    committed = generate.OUTPUT.read_text(encoding="utf-8")
    assert committed == generate.render(generate.build(generate._standard_dir())), (
        "run 'python -m cloudpacs.validation.generate'"
    )


def test_the_table_knows_the_ct_image_iod() -> None:
    table = requirements()
    assert table["sopClasses"]["1.2.840.10008.5.1.4.1.1.2"] == "ct-image"
    ct = table["iods"]["ct-image"]
    assert "0020000D" in ct["type1"] and "00200032" in ct["type1"]  # Study UID, position
    assert "00100010" in ct["type2"] and "00100020" in ct["type2"]  # PatientName, PatientID
    assert "00080070" in ct["type2"]  # Manufacturer (General Equipment)
    assert len(table["sopClasses"]) > 100


def test_a_complete_object_has_no_finding_and_a_stripped_one_says_what_it_lacks() -> None:
    full = complete(_ct())
    result = check_dataset(full)
    assert result is not None and result[0] == "ct-image" and not result[1]
    lacking = strip(full, "PatientName", "ImagePositionPatient")
    lacking.Modality = ""
    result = check_dataset(lacking)
    assert result is not None
    iod, finding = result
    assert set(finding.missing) == {"PatientName", "ImagePositionPatient"}
    assert finding.empty == ("Modality",)
    message = finding.message(iod)
    assert message.startswith("not a complete ct-image (PS3.3): missing ")
    assert "PatientName" in message and "empty Type 1 Modality" in message


def test_modes() -> None:
    data = io.BytesIO()
    strip(complete(_ct()), "PatientID").save_as(data, enforce_file_format=True)
    assert iod_check("off") is None
    warn = iod_check("warn")
    reject = iod_check("reject")
    assert warn is not None and reject is not None
    warned = warn(data.getvalue())
    refused = reject(data.getvalue())
    assert warned is not None and (warned.refuse, warned.reason) == (False, 0xB007)
    assert refused is not None and (refused.refuse, refused.reason) == (True, 0xA900)
    assert "PatientID" in refused.message


def test_an_object_of_a_class_outside_the_table_is_not_checked() -> None:
    ds = _ct()
    ds.SOPClassUID = "1.2.3.4.5.6"  # private
    assert check_dataset(ds) is None


def test_a_real_file_is_checked() -> None:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    result = check_dataset(ds)
    assert result is not None and result[0] == "ct-image"
    json.dumps(result[1].missing)  # keywords, ready for a STOW reason
