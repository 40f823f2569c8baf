"""Roles per operation (the permission matrix, DESIGN.md §7) on every DIMSE service.

Protects: a role without the operation's permission is refused per operation - 0x0124
Refused: Not Authorized (PS3.7 Annex C) for C-STORE, C-FIND and C-GET, 0xA801 for C-MOVE
(the only status pynetdicom lets a C-MOVE handler give before the destination) - and the
refusal is audited as ``denied``; a known AE may always C-ECHO.
"""

from __future__ import annotations

from pydicom.uid import CTImageStorage, generate_uid
from pynetdicom import AE, build_role

from dimse_bridge.contexts import STUDY_ROOT_FIND, STUDY_ROOT_GET, STUDY_ROOT_MOVE
from tests.dimse.factory import ct_instance, part10
from tests.dimse.harness import BRIDGE_AE, Bridge, query

RESEARCHER = "RESEARCH_1"


def test_researcher_ae_gets_nothing_from_the_identified_archive(bridge: Bridge) -> None:
    ds = ct_instance(generate_uid(), generate_uid(), 1)
    assert bridge.services.ingest.store(part10(ds)).ok
    ae = AE(ae_title=RESEARCHER)
    for context in (
        "1.2.840.10008.1.1",
        CTImageStorage,
        STUDY_ROOT_FIND,
        STUDY_ROOT_GET,
        STUDY_ROOT_MOVE,
    ):
        ae.add_requested_context(context)
    role = build_role(CTImageStorage, scu_role=True, scp_role=True)
    assoc = ae.associate("127.0.0.1", bridge.port, ae_title=BRIDGE_AE, ext_neg=[role])
    assert assoc.is_established
    identifier = query(QueryRetrieveLevel="STUDY", StudyInstanceUID=ds.StudyInstanceUID)
    echo = assoc.send_c_echo().Status
    store = assoc.send_c_store(ct_instance(generate_uid(), generate_uid(), 1)).Status
    find = [s.Status for s, _ in assoc.send_c_find(identifier, STUDY_ROOT_FIND)]
    get = [s.Status for s, _ in assoc.send_c_get(identifier, STUDY_ROOT_GET)]
    move = [s.Status for s, _ in assoc.send_c_move(identifier, "MOVE_DEST", STUDY_ROOT_MOVE)]
    assoc.release()
    assert (echo, store, find, get, move) == (0x0000, 0x0124, [0x0124], [0x0124], [0xA801])
    operations = [(e["action"], e["outcome"], e["reason"]) for e in bridge.audit()][1:]
    assert operations == [
        ("echo", "success", None),
        ("store", "denied", "forbidden"),
        ("search", "denied", "forbidden"),
        ("retrieve", "denied", "forbidden"),
        ("retrieve", "denied", "forbidden"),
    ]
