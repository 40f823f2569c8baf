"""TLS for DICOM associations (PS3.15 Annex B.1, the TLS secure transport profile).

TLS 1.2 or later only, with the platform's default cipher suites. The server presents
``tls_cert``/``tls_key``; with ``tls_ca`` it asks peers for a client certificate signed by
that CA, and with ``tls_require_client_cert`` it refuses peers without one. C-MOVE
destinations marked ``tls`` are reached with the same CA (server verification, host name
checked) and, when configured, the bridge's certificate as client certificate.
"""

from __future__ import annotations

import ssl

from dimse_bridge.settings import DimseSettings


def server_context(settings: DimseSettings) -> ssl.SSLContext | None:
    """The context wrapping accepted connections, or None when TLS is off."""
    if settings.tls_cert is None or settings.tls_key is None:
        return None
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(settings.tls_cert, settings.tls_key)
    if settings.tls_ca is not None:
        ctx.load_verify_locations(cafile=settings.tls_ca)
        ctx.verify_mode = (
            ssl.CERT_REQUIRED if settings.tls_require_client_cert else ssl.CERT_OPTIONAL
        )
    return ctx


def client_context(settings: DimseSettings) -> ssl.SSLContext | None:
    """The context for C-MOVE sub-associations to TLS destinations, or None if none is."""
    if not any(dest.tls for dest in settings.move_destinations.values()):
        return None
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=settings.tls_ca)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    if settings.tls_cert is not None and settings.tls_key is not None:
        ctx.load_cert_chain(settings.tls_cert, settings.tls_key)
    return ctx
