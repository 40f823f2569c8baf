"""The STOW-RS response: status and Store Instances Response Module (PS3.18 §10.5.3, Annex I)."""

from __future__ import annotations

from typing import Any

import pytest

from cloudpacs.dicom.json_model import BULK_BASE
from cloudpacs.services.ingest import (
    CANNOT_UNDERSTAND,
    DATASET_DOES_NOT_MATCH,
    DUPLICATE_SOP_INSTANCE,
    ELEMENTS_DISCARDED,
    PROCESSING_FAILURE,
    StoreOutcome,
    StoreStatus,
)
from cloudpacs.services.stow_response import stow_response

from .dicom_json import tag

CT = "1.2.840.10008.5.1.4.1.1.2"
STUDY, OTHER_STUDY, SERIES = "1.2.3", "1.2.4", "1.2.3.1"
RETRIEVE_URL = tag("RetrieveURL")
REFERENCED = tag("ReferencedSOPSequence")
FAILED = tag("FailedSOPSequence")
OTHER_FAILURES = tag("OtherFailuresSequence")
FAILURE_REASON = tag("FailureReason")
WARNING_REASON = tag("WarningReason")
CLASS_UID = tag("ReferencedSOPClassUID")
INSTANCE_UID = tag("ReferencedSOPInstanceUID")


def ok(sop: str, status: StoreStatus = StoreStatus.STORED, study: str = STUDY) -> StoreOutcome:
    return StoreOutcome(status, CT, sop, study, SERIES)


def failed(sop: str | None, reason: int, message: str = "why") -> StoreOutcome:
    uids = (CT, sop, STUDY, SERIES) if sop else (None, None, None, None)
    return StoreOutcome(StoreStatus.FAILED, *uids, failure_reason=reason, message=message)


def ignored(sop: str) -> StoreOutcome:
    return StoreOutcome(
        StoreStatus.IGNORED,
        CT,
        sop,
        STUDY,
        SERIES,
        warning_reason=ELEMENTS_DISCARDED,
        message="kept the stored object",
    )


def values(body: dict[str, Any], tag_hex: str) -> list[Any]:
    return list(body[tag_hex].get("Value", []))


@pytest.mark.parametrize(
    "outcomes",
    [
        [ok("1.1"), ok("1.2")],
        [ok("1.1", StoreStatus.ALREADY_STORED)],
        [ok("1.1", StoreStatus.REPLACED), ok("1.2")],
    ],
    ids=["stored", "already-stored", "replaced"],
)
def test_200_when_every_instance_is_stored(outcomes: list[StoreOutcome]) -> None:
    """PS3.18 Table 10.5.3-1: "200 (OK) The origin server successfully stored all Instances."
    Annex I: each stored instance is an item of Referenced SOP Sequence (0008,1199) with its
    SOP Instance Reference and Retrieve URL; Retrieve URL (0008,1190) names the study."""
    status, body = stow_response(outcomes)
    assert status == 200
    assert values(body, RETRIEVE_URL) == [f"{BULK_BASE}/studies/{STUDY}"]
    items = values(body, REFERENCED)
    assert [i[INSTANCE_UID]["Value"] for i in items] == [[o.sop_uid] for o in outcomes]
    for item, o in zip(items, outcomes, strict=True):
        assert item[CLASS_UID] == {"vr": "UI", "Value": [CT]}
        assert item[RETRIEVE_URL] == {
            "vr": "UR",
            "Value": [f"{BULK_BASE}/studies/{STUDY}/series/{SERIES}/instances/{o.sop_uid}"],
        }
        assert WARNING_REASON not in item
    assert FAILED not in body and OTHER_FAILURES not in body


def test_202_when_some_instances_fail() -> None:
    """PS3.18 Table 10.5.3-1: "202 (Accepted) The origin server stored some of the Instances
    but warnings or failures exist for others." Annex I: Failed SOP Sequence (0008,1198)
    items hold the SOP Instance Reference and Failure Reason (0008,1197)."""
    status, body = stow_response([ok("1.1"), failed("1.2", DUPLICATE_SOP_INSTANCE, "dup")])
    assert status == 202
    assert len(values(body, REFERENCED)) == 1
    (item,) = values(body, FAILED)
    assert item[CLASS_UID]["Value"] == [CT]
    assert item[INSTANCE_UID]["Value"] == ["1.2"]
    assert item[FAILURE_REASON] == {"vr": "US", "Value": [DUPLICATE_SOP_INSTANCE]}
    assert item["00090010"] == {"vr": "LO", "Value": ["cloudpacs"]}
    assert item["00091001"] == {"vr": "LT", "Value": ["dup"]}


def test_202_when_an_instance_is_stored_with_a_warning() -> None:
    """PS3.18 Annex I.2.1: Warning Reason (0008,1196) B006 "Elements Discarded" on the
    Referenced SOP Sequence item; any warning makes the response 202."""
    status, body = stow_response([ok("1.1"), ignored("1.2")])
    assert status == 202
    plain, warned = values(body, REFERENCED)
    assert WARNING_REASON not in plain
    assert warned[WARNING_REASON] == {"vr": "US", "Value": [0xB006]}
    assert warned["00091001"]["Value"] == ["kept the stored object"]


@pytest.mark.parametrize(
    "outcomes",
    [
        [failed("1.1", DUPLICATE_SOP_INSTANCE)],
        [failed("1.1", DATASET_DOES_NOT_MATCH), failed("1.2", DATASET_DOES_NOT_MATCH)],
        [failed(None, CANNOT_UNDERSTAND)],
        [failed("1.1", DUPLICATE_SOP_INSTANCE), failed(None, CANNOT_UNDERSTAND)],
    ],
    ids=["duplicate", "study-mismatch", "not-dicom", "mixed-conflicts"],
)
def test_409_when_nothing_is_stored_because_of_the_request(outcomes: list[StoreOutcome]) -> None:
    """PS3.18 Table 10.5.3-1: "409 (Conflict) The request was formed correctly but the origin
    server was unable to store any Instances due to a conflict in the request (e.g.,
    unsupported SOP Class or Study Instance UID mismatch).\""""
    status, body = stow_response(outcomes)
    assert status == 409
    assert REFERENCED not in body


def test_500_when_nothing_is_stored_because_of_the_server() -> None:
    """PS3.18 §8.5: a failure of the origin server itself is a 5xx; it is not the request's
    fault, so not a 409 (even when other parts also conflicted)."""
    assert stow_response([failed("1.1", PROCESSING_FAILURE)])[0] == 500
    mixed = [failed("1.1", PROCESSING_FAILURE), failed("1.2", DUPLICATE_SOP_INSTANCE)]
    assert stow_response(mixed)[0] == 500


def test_unreadable_parts_are_other_failures() -> None:
    """A part that is not a DICOM object names no SOP Instance: Other Failures Sequence
    (0008,119A) holds its Failure Reason C000 "Cannot understand" (PS3.18 Annex I.2.2)."""
    status, body = stow_response([ok("1.1"), failed(None, CANNOT_UNDERSTAND, "no DICM")])
    assert status == 202
    (item,) = values(body, OTHER_FAILURES)
    assert item[FAILURE_REASON] == {"vr": "US", "Value": [0xC000]}
    assert item["00091001"]["Value"] == ["no DICM"]
    assert FAILED not in body


def test_retrieve_url_is_present_but_empty_without_a_single_study() -> None:
    """PS3.18 Table I.1-1: Retrieve URL (0008,1190) is Type 2, "The URL where the Study is
    available": present always, empty when the stored instances are not of one study."""
    _, two_studies = stow_response([ok("1.1"), ok("1.2", study=OTHER_STUDY)])
    assert two_studies[RETRIEVE_URL] == {"vr": "UR"}
    _, nothing = stow_response([failed("1.1", DUPLICATE_SOP_INSTANCE)])
    assert nothing[RETRIEVE_URL] == {"vr": "UR"}
    _, one = stow_response([ok("1.1"), failed("1.2", DUPLICATE_SOP_INSTANCE)])
    assert values(one, RETRIEVE_URL) == [f"{BULK_BASE}/studies/{STUDY}"]


def test_long_reasons_are_cut_to_fit_a_long_text() -> None:
    """PS3.5 Table 6.2-1: LT holds at most 10240 characters; reasons are kept short."""
    _, body = stow_response([failed("1.1", DUPLICATE_SOP_INSTANCE, "x" * 5000)])
    (item,) = values(body, FAILED)
    assert len(item["00091001"]["Value"][0]) == 1000
