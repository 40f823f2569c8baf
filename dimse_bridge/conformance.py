"""What the DIMSE bridge negotiates, for the conformance statement (PS3.2 §4.2): its SOP
classes and transfer syntaxes (``contexts``), association limits and defaults (``settings``)."""

from __future__ import annotations

from pydicom.uid import UID

from cloudpacs.conformance.dimse_facts import DimseFacts
from dimse_bridge import contexts
from dimse_bridge.settings import LOCAL_AE_ROLES, DimseSettings


def _named(uid: str) -> tuple[str, str]:
    return uid, UID(uid).name


def dimse_facts() -> DimseFacts:
    """The defaults of an unconfigured bridge (``cloudpacs serve``)."""
    defaults = DimseSettings.model_construct()  # the defaults, whatever the environment says
    return DimseFacts(
        ae_title=defaults.ae_title,
        port=defaults.port,
        verification=_named(contexts.VERIFICATION),
        query_retrieve=[_named(uid) for uid in contexts.QR_MODELS],
        storage=sorted((_named(uid) for uid in contexts.STORAGE_SOP_CLASSES), key=lambda u: u[1]),
        qr_syntaxes=[_named(uid) for uid in contexts.QR_TRANSFER_SYNTAXES],
        storage_syntaxes=[_named(uid) for uid in contexts.STORAGE_TRANSFER_SYNTAXES],
        max_associations=defaults.max_associations,
        max_pdu=defaults.max_pdu,
        timeouts=[
            ("ACSE", defaults.acse_timeout),
            ("DIMSE", defaults.dimse_timeout),
            ("network (idle)", defaults.network_timeout),
            ("C-MOVE sub-association connect", defaults.connection_timeout),
        ],
        local_ae_roles=LOCAL_AE_ROLES,
    )
