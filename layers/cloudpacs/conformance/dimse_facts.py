"""What the conformance statement says of the DIMSE bridge; built by
``dimse_bridge.conformance`` (the bridge's tables need pynetdicom, which the core does not
import)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DimseFacts:
    ae_title: str
    port: int
    verification: tuple[str, str]
    query_retrieve: list[tuple[str, str]]
    storage: list[tuple[str, str]]
    qr_syntaxes: list[tuple[str, str]]
    storage_syntaxes: list[tuple[str, str]]
    max_associations: int
    max_pdu: int
    timeouts: list[tuple[str, float]]
    local_ae_roles: dict[str, str | list[str]]
