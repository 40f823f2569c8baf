"""Domain errors. Each carries the HTTP status PS3.18 names for it; entry points map them."""

from __future__ import annotations


class CloudPacsError(Exception):
    """Base class: a request the service refuses, with a reason a client can read."""

    status = 500

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class BadRequest(CloudPacsError):
    status = 400


class Unauthorized(CloudPacsError):
    status = 401


class Forbidden(CloudPacsError):
    status = 403


class NotFound(CloudPacsError):
    status = 404


class NotAcceptable(CloudPacsError):
    status = 406


class Conflict(CloudPacsError):
    status = 409


class PreconditionFailed(CloudPacsError):
    """``If-Match`` or ``If-Unmodified-Since`` names a version that is no longer current."""

    status = 412


class PreconditionRequired(CloudPacsError):
    """A change that must name the version it applies to (RFC 6585 §3)."""

    status = 428


class PayloadTooLarge(CloudPacsError):
    status = 413


class UnsupportedMediaType(CloudPacsError):
    status = 415


class InvalidDicom(CloudPacsError):
    """A part that is not a valid DICOM Part-10 object (STOW reports it per instance)."""

    status = 409
