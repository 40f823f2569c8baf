"""A C-ECHO SCU (PS3.7 §9.1.5, Verification SOP Class PS3.4 Annex A): is a DICOM node
reachable, and does it admit our calling AE title? Used by the release checks' smoke test."""

from __future__ import annotations

from pynetdicom import AE
from pynetdicom.sop_class import Verification  # type: ignore[attr-defined]

SUCCESS = 0x0000


def echo(
    host: str, port: int, *, calling_ae: str, called_ae: str = "CLOUDPACS", timeout: float = 10
) -> str | None:
    """None when the node answers C-ECHO with Success, else why not."""
    ae = AE(ae_title=calling_ae)
    ae.add_requested_context(Verification)
    ae.acse_timeout = ae.dimse_timeout = ae.network_timeout = timeout
    ae.connection_timeout = timeout
    assoc = ae.associate(host, port, ae_title=called_ae)
    if not assoc.is_established:
        return f"no association with {called_ae} at {host}:{port} (refused, rejected or aborted)"
    try:
        status = assoc.send_c_echo()
    finally:
        assoc.release()
    if not status or "Status" not in status:
        return f"C-ECHO to {called_ae} at {host}:{port}: no response"
    if status.Status != SUCCESS:
        return f"C-ECHO to {called_ae} at {host}:{port}: status 0x{status.Status:04X}"
    return None
