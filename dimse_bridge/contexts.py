"""Presentation contexts (PS3.8 §7.1.1.13): what the bridge accepts, and what it proposes.

As SCP the bridge accepts Verification, the Patient Root and Study Root Query/Retrieve
models (FIND, MOVE, GET), and every storage SOP class pynetdicom knows, each with every
transfer syntax pydicom knows: objects are stored as received, so a compressed syntax costs
nothing to accept. The 128-context limit of PS3.8 applies to what a requestor *proposes*, not
to what an acceptor supports. Storage contexts accept the SCP/SCU role selection a C-GET SCU
proposes (PS3.4 C.4.3: the C-GET sub-operations run on the same association with roles
reversed).

As the requestor of a C-MOVE sub-association the bridge proposes, per SOP class, one
context for each stored non-native transfer syntax and one native context (Explicit and
Implicit VR Little Endian), at most 128 in all. ``delivery`` then picks, per instance and
per accepted context, whether it goes as stored or decompressed.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import Enum

from pydicom.uid import AllTransferSyntaxes, ExplicitVRLittleEndian, ImplicitVRLittleEndian
from pynetdicom import AllStoragePresentationContexts, build_context
from pynetdicom.presentation import PresentationContext

from cloudpacs.model import InstanceRecord

VERIFICATION = "1.2.840.10008.1.1"
PATIENT_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.1.1"
PATIENT_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.1.2"
PATIENT_ROOT_GET = "1.2.840.10008.5.1.4.1.2.1.3"
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
STUDY_ROOT_MOVE = "1.2.840.10008.5.1.4.1.2.2.2"
STUDY_ROOT_GET = "1.2.840.10008.5.1.4.1.2.2.3"
MAX_REQUESTED_CONTEXTS = 128
NATIVE = (ExplicitVRLittleEndian, ImplicitVRLittleEndian)
_NATIVE_FAMILY = (*NATIVE, "1.2.840.10008.1.2.1.99", "1.2.840.10008.1.2.2")
STORAGE_TRANSFER_SYNTAXES = [
    *(str(uid) for uid in AllTransferSyntaxes if uid not in _NATIVE_FAMILY),
    *(str(uid) for uid in _NATIVE_FAMILY),
]
"""Encapsulated syntaxes first: the acceptor takes the first of its own syntaxes that a
context offers, so an SCU offering its compressed original and a native fallback keeps its
original (stored as received, no lossy-to-native round trip at the modality)."""
QR_TRANSFER_SYNTAXES = [
    str(ExplicitVRLittleEndian),
    str(ImplicitVRLittleEndian),
    "1.2.840.10008.1.2.1.99",  # Deflated Explicit VR Little Endian
]
STORAGE_SOP_CLASSES = tuple(str(cx.abstract_syntax) for cx in AllStoragePresentationContexts)


class Model(Enum):
    """Query/Retrieve information models (PS3.4 C.6.1, C.6.2)."""

    PATIENT_ROOT = "patient_root"
    STUDY_ROOT = "study_root"


QR_MODELS: dict[str, Model] = {
    PATIENT_ROOT_FIND: Model.PATIENT_ROOT,
    PATIENT_ROOT_MOVE: Model.PATIENT_ROOT,
    PATIENT_ROOT_GET: Model.PATIENT_ROOT,
    STUDY_ROOT_FIND: Model.STUDY_ROOT,
    STUDY_ROOT_MOVE: Model.STUDY_ROOT,
    STUDY_ROOT_GET: Model.STUDY_ROOT,
}


def qr_model(sop_class: str) -> Model | None:
    """The information model of a Query/Retrieve SOP Class the bridge serves, or None."""
    return QR_MODELS.get(sop_class)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


def supported_contexts() -> list[PresentationContext]:
    """Every context the bridge accepts as association acceptor."""
    contexts = [build_context(VERIFICATION, QR_TRANSFER_SYNTAXES)]
    contexts += [build_context(uid, QR_TRANSFER_SYNTAXES) for uid in QR_MODELS]
    for uid in STORAGE_SOP_CLASSES:
        cx = build_context(uid, STORAGE_TRANSFER_SYNTAXES)
        cx.scu_role = True
        cx.scp_role = True
        contexts.append(cx)
    return contexts


def move_contexts(records: Iterable[InstanceRecord]) -> list[PresentationContext]:
    """Contexts to propose to a C-MOVE destination for ``records`` (at most 128)."""
    wanted: dict[str, list[str]] = {}
    for rec in records:
        wanted.setdefault(rec.sop_class_uid, []).append(rec.transfer_syntax_uid)
    contexts: list[PresentationContext] = []
    for sop_class, syntaxes in wanted.items():
        for syntax in _unique(s for s in syntaxes if s not in NATIVE):
            contexts.append(build_context(sop_class, [syntax]))
        contexts.append(build_context(sop_class, list(NATIVE)))
    return contexts[:MAX_REQUESTED_CONTEXTS]
