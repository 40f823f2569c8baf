"""Large uploads (DESIGN.md §5): the upload record and the two ports the upload service uses.

- ``Inbox``: where clients put the bytes, through URLs the server signs (the S3 inbox bucket
  with presigned PUT / multipart URLs; locally a folder behind signed ``PUT`` endpoints).
- ``UploadLedger``: the status of each upload (an item in the index table in AWS; a JSON
  file per upload locally). docs/uploads.md describes the flow and the states.
"""

from __future__ import annotations

import base64
import enum
import re
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

INBOX_PREFIX = "uploads/"
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")


class UploadState(enum.StrEnum):
    PENDING = "pending"
    """Created; the client has not finished uploading (or the event is not handled yet)."""
    PROCESSING = "processing"
    DONE = "done"
    """Ingest ran: ``http_status`` and ``response`` are the STOW-RS status and dataset."""
    FAILED = "failed"
    """The upload could not be read as DICOM at all, or ingest failed on every attempt."""

    @property
    def final(self) -> bool:
        return self in (UploadState.DONE, UploadState.FAILED)


def is_upload_id(value: str) -> bool:
    return _UPLOAD_ID.fullmatch(value) is not None


def inbox_key(upload_id: str) -> str:
    return INBOX_PREFIX + upload_id


def upload_id_of(key: str) -> str | None:
    """The upload id of an inbox key, or None for a key the API never handed out."""
    if not key.startswith(INBOX_PREFIX):
        return None
    candidate = key[len(INBOX_PREFIX) :]
    return candidate if is_upload_id(candidate) else None


@dataclass(frozen=True)
class UploadRecord:
    upload_id: str
    state: UploadState
    created_at: str
    expires_at: int
    """Epoch seconds after which the record may be dropped (DynamoDB TTL)."""
    content_type: str = "application/dicom"
    size: int | None = None
    owner: str | None = None
    owner_roles: tuple[str, ...] = ()
    """The creator's roles when the upload was declared (for the audit event of its ingest)."""
    study: str | None = None
    """Target study (like ``POST /studies/{study}``): instances of other studies fail."""
    multipart_id: str | None = None
    http_status: int | None = None
    response: bytes | None = None
    """DICOM JSON of the STOW-RS response (bulk data base unbound), or an error JSON."""
    reasons: tuple[str, ...] = ()
    attempts: int = 0
    finished_at: str | None = None
    stored_count: int = 0
    stored_study: str | None = None
    """The Study Instance UID of what was stored, when it was one study."""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["state"] = self.state.value
        data["reasons"] = list(self.reasons)
        data["owner_roles"] = list(self.owner_roles)
        data["response"] = base64.b64encode(self.response).decode() if self.response else None
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UploadRecord:
        values = dict(data)
        values["state"] = UploadState(values["state"])
        values["reasons"] = tuple(values.get("reasons") or ())
        values["owner_roles"] = tuple(values.get("owner_roles") or ())
        response = values.get("response")
        values["response"] = base64.b64decode(response) if response else None
        return cls(**values)


@dataclass(frozen=True)
class UploadPart:
    part_number: int
    url: str


@dataclass(frozen=True)
class UploadTarget:
    """Where and how the client sends the bytes: one ``PUT`` to ``url``, or a multipart
    upload (``PUT`` each part, then ``POST`` the part list to ``complete_url``)."""

    url: str | None = None
    part_size: int | None = None
    parts: tuple[UploadPart, ...] = ()
    complete_url: str | None = None
    multipart_id: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def multipart(self) -> bool:
        return bool(self.parts)


class Inbox(Protocol):
    def targets(
        self, key: str, size: int | None, *, part_bytes: int, expires_in: int
    ) -> UploadTarget:
        """Signed URL(s) through which a client writes the object ``key``."""

    def read(self, key: str) -> bytes:
        """The uploaded object. Raises ``BlobNotFound``."""

    def delete(self, key: str) -> None:
        """Remove the object; absent is not an error."""


class UploadLedger(Protocol):
    def create(self, record: UploadRecord) -> None:
        """Record a new upload (its id is new)."""

    def get(self, upload_id: str) -> UploadRecord | None:
        """The record as last written (a strongly consistent read)."""

    def save(self, record: UploadRecord) -> bool:
        """Overwrite the record unless the stored one is already final; False if it was."""
