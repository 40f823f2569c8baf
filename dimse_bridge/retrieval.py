"""C-GET and C-MOVE: which instances an identifier names, and how each one is sent.

``retrieve_request`` is the part both share: permission (``retrieve``), selection, and the
audit event, recorded before any instance leaves.

Selection (PS3.4 C.4.2.2.1, C.4.3.2.1, baseline non-relational retrieval): the identifier
names the level and, for that level, the unique key with one or more values (a UID list for
STUDY, SERIES and IMAGE; a PatientID for PATIENT). Keys of the levels above may be given and
narrow the lookup; when they are absent the index locates the study of a series or instance.
Unknown UIDs match nothing (a C-GET of nothing completes with no sub-operations).

Delivery: an instance goes out as stored (byte for byte: pydicom writes back the raw values
it did not touch) when the peer accepted a context for its SOP class in the stored transfer
syntax, or - for native objects - in another native syntax (pynetdicom converts between
Implicit and Explicit VR Little Endian). A compressed object the peer will only take native
is decompressed (``RetrieveService.converted``); if that is impossible the sub-operation
fails and the SOP Instance UID is reported in the Failed SOP Instance UID List.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterable

from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.uid import ExplicitVRLittleEndian
from pynetdicom.events import Event
from pynetdicom.presentation import PresentationContext

from cloudpacs.dicom.transcode import UNCOMPRESSED
from cloudpacs.errors import CloudPacsError
from cloudpacs.model import InstanceRecord
from cloudpacs.runtime import Services
from cloudpacs.security.audit import AuditUids, Outcome
from cloudpacs.security.permissions import Action
from cloudpacs.services.matching import has_wildcard, uid_list
from cloudpacs.services.selection import InstanceSelection
from cloudpacs.uids import is_valid_uid
from dimse_bridge.bridge import Bridge, Session
from dimse_bridge.contexts import Model, qr_model
from dimse_bridge.find import PATIENT, BadIdentifier, query_level

log = logging.getLogger(__name__)

IDENTIFIER_DOES_NOT_MATCH = 0xA900


def retrieve_request(
    event: Event, bridge: Bridge, session: Session
) -> tuple[list[InstanceRecord] | None, int]:
    """(instances to send, 0x0000) or (None, failure status) for a C-GET or C-MOVE request."""
    message_id = event.message_id
    if not bridge.authorize(session, Action.RETRIEVE):
        return None, bridge.refuse(session, Action.RETRIEVE, message_id)
    model = qr_model(str(event.request.AffectedSOPClassUID or ""))
    try:
        if model is None:
            raise BadIdentifier("not a Query/Retrieve information model the bridge serves")
        records = select_instances(bridge.services, event.identifier, model)
    except Exception as exc:
        log.info("retrieve identifier refused: %s", exc)
        status = IDENTIFIER_DOES_NOT_MATCH
        return None, bridge.fail(session, Action.RETRIEVE, message_id, status, "bad_identifier")
    bridge.record(
        session,
        Action.RETRIEVE,
        Outcome.SUCCESS,
        0x0000,
        message_id=message_id,
        uids=common_uids(records),
        instance_count=len(records),
    )
    return records, 0x0000


def common_uids(records: list[InstanceRecord]) -> AuditUids:
    """The study (series, instance) UID all ``records`` share, for the audit event."""
    studies = {r.study_uid for r in records}
    series = {r.series_uid for r in records}
    sops = {r.sop_uid for r in records}
    return AuditUids(
        study_uid=next(iter(studies)) if len(studies) == 1 else None,
        series_uid=next(iter(series)) if len(series) == 1 else None,
        sop_uid=next(iter(sops)) if len(sops) == 1 else None,
    )


def select_instances(services: Services, identifier: Dataset, model: Model) -> list[InstanceRecord]:
    """The instances a C-GET/C-MOVE identifier names (``services.selection`` selects)."""
    level = query_level(identifier, model)
    select = InstanceSelection(services.index, services.query, services.retrieve)
    if level == PATIENT:
        patient_id = str(identifier.get("PatientID", "") or "").strip()
        if not patient_id or has_wildcard(patient_id):
            raise BadIdentifier("a PATIENT level retrieve needs one PatientID, without wildcards")
        return select.of_patient(patient_id)
    study_uids = _uids(identifier, "StudyInstanceUID", required=level == "STUDY")
    if level == "STUDY":
        return select.of_studies(study_uids)
    series_uids = _uids(identifier, "SeriesInstanceUID", required=level == "SERIES")
    if level == "SERIES":
        return select.of_series(series_uids, within=study_uids)
    sop_uids = _uids(identifier, "SOPInstanceUID", required=True)
    return select.of_instances(sop_uids, studies=study_uids, series=series_uids)


def _uids(identifier: Dataset, keyword: str, *, required: bool) -> list[str]:
    value = identifier.get(keyword)
    if isinstance(value, (MultiValue, list, tuple)):  # a list of UIDs
        text = "\\".join(str(v) for v in value)
    else:
        text = str(value or "")
    uids = sorted(uid_list(text.strip(" \x00")))
    if required and not uids:
        raise BadIdentifier(f"the retrieve level needs {keyword}")
    if any(not is_valid_uid(u) for u in uids):
        raise BadIdentifier(f"{keyword} holds an invalid UID")
    return uids


def load_for_peer(
    services: Services, rec: InstanceRecord, contexts: Iterable[PresentationContext]
) -> Dataset:
    """The dataset of ``rec`` in a transfer syntax the peer accepted (see the docstring)."""
    offered = {
        str(cx.transfer_syntax[0])
        for cx in contexts
        if cx.as_scu and cx.abstract_syntax == rec.sop_class_uid and cx.transfer_syntax
    }
    data: bytes | None = None
    stored = rec.transfer_syntax_uid
    if stored not in offered and stored not in UNCOMPRESSED and offered & UNCOMPRESSED:
        try:
            data = services.retrieve.converted(rec, ExplicitVRLittleEndian)
        except CloudPacsError as exc:
            log.warning("cannot decompress %s for the peer: %s", rec.sop_uid, exc.reason)
        except Exception:  # a codec failing on damaged pixel data
            log.exception("cannot decompress %s for the peer", rec.sop_uid)
    if data is None:
        data = services.retrieve.read(rec)
    return dcmread(io.BytesIO(data))
