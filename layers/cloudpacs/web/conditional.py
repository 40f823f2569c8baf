"""Validators and conditional requests (RFC 9110 §8.8, §13) for WADO-RS and QIDO-RS.

Every stored resource answers with a strong ``ETag`` of the form ``"<version>-<variant>"``:
``version`` is a digest of the SOP Instance UIDs and content digests of the instances the
resource is made of (it changes when any of them is stored again, updated or removed, or
when one is added), ``variant`` a digest of what else shapes the bytes (the negotiated media
type and transfer syntax, rendering parameters, the base URL bound into metadata). Since
multipart boundaries are derived from the ETag, the same ETag means the same bytes. Search
results and thumbnails, which are not one stored resource, carry the digest of their body.

``If-Match`` on a ``DELETE`` or an update compares only the version part, so an ETag taken
from any representation of the resource (its metadata, its instances) names the version the
client saw. ``Last-Modified`` is the latest time an instance in scope was stored; ETags are
the exact validator (a change within the same second, or a removal, may leave it as it was).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request
from fastapi.responses import Response

from cloudpacs.errors import PreconditionFailed, PreconditionRequired
from cloudpacs.model import InstanceRecord

REVALIDATE = "private, no-cache"
"""Instances, metadata and searches: kept by the client's own cache only (they hold patient
data), and checked with the server before each use, since a correction or a delete changes
them."""
PIXELS = "private, max-age=3600"
"""Frames, bulk data, rendered images and thumbnails: pixel data does not change when
attributes are corrected, and viewers read the same frames again and again."""


def _digest(text: str, length: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def content_version(records: Iterable[InstanceRecord]) -> str:
    """What the instances in scope are: changes when any is added, replaced or removed."""
    lines = sorted(f"{r.sop_uid}:{r.sha256}" for r in records)
    return _digest("\n".join(lines), 32)


def last_modified(records: Iterable[InstanceRecord]) -> datetime | None:
    """The latest ``stored_at`` in scope, to the second (HTTP dates have no fractions)."""
    latest = max((r.stored_at for r in records if r.stored_at), default="")
    if not latest:
        return None
    try:
        moment = datetime.fromisoformat(latest)
    except ValueError:
        return None
    return moment.astimezone(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Validators:
    version: str
    variant: str | None
    modified: datetime | None
    cache_control: str

    @property
    def etag(self) -> str:
        return f'"{self.version}-{self.variant}"' if self.variant else f'"{self.version}"'

    @property
    def boundary(self) -> str:
        """A multipart boundary fixed by the ETag, so the same ETag means the same bytes."""
        return f"cloudpacs-{_digest(self.etag, 32)}"

    def headers(self) -> dict[str, str]:
        headers = {"ETag": self.etag, "Cache-Control": self.cache_control}
        if self.modified is not None:
            headers["Last-Modified"] = format_datetime(self.modified, usegmt=True)
        return headers

    def applied(self, response: Response) -> Response:
        """``response`` with these validators and ``Vary: Accept`` (it was negotiated)."""
        response.headers.update(self.headers())
        response.headers.append("Vary", "Accept")
        return response


def of_records(
    records: Iterable[InstanceRecord], variant: Iterable[object], cache_control: str
) -> Validators:
    """Validators of a resource made of ``records``, in the representation ``variant`` names."""
    records = list(records)
    shape = "\n".join(str(part) for part in variant)
    return Validators(
        content_version(records), _digest(shape, 12), last_modified(records), cache_control
    )


def of_body(body: bytes, cache_control: str) -> Validators:
    """Validators of a computed answer (search results, thumbnails): its bytes' digest."""
    return Validators(hashlib.sha256(body).hexdigest()[:32], None, None, cache_control)


# -- evaluation (RFC 9110 §13.2.2) -----------------------------------------------------
def _tags(header: str) -> list[str]:
    return [t.strip() for t in header.split(",") if t.strip()]


def _date(header: str | None) -> datetime | None:
    """An HTTP-date, or None when absent or invalid (an invalid date is ignored, §13.1.3)."""
    if not header:
        return None
    try:
        moment = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _version_of(tag: str) -> str | None:
    """The version part of a strong ETag this server issued; None for weak or foreign ones."""
    if tag.startswith("W/") or len(tag) < 2 or not (tag[0] == tag[-1] == '"'):
        return None
    return tag[1:-1].split("-", 1)[0]


def _matches_current(header: str, version: str) -> bool:
    return any(t == "*" or _version_of(t) == version for t in _tags(header))


def has_preconditions(request: Request) -> bool:
    """Whether a change names the version it applies to (a read is needed to check it)."""
    return any(h in request.headers for h in ("if-match", "if-unmodified-since"))


def check_current(
    request: Request, version: str, modified: datetime | None, *, required: bool = False
) -> None:
    """For a change (``DELETE``, update): 412 unless ``If-Match`` names the current version
    or the resource is unmodified since ``If-Unmodified-Since``; 428 when ``required`` and
    the request has neither."""
    if_match = request.headers.get("if-match")
    if if_match is not None:
        if not _matches_current(if_match, version):
            raise PreconditionFailed(
                "If-Match does not name the current version of this resource: it changed "
                "since it was read; read it again"
            )
        return
    since = _date(request.headers.get("if-unmodified-since"))
    if since is not None:
        if modified is None or modified > since:
            raise PreconditionFailed("the resource was modified after If-Unmodified-Since")
        return
    if required:
        raise PreconditionRequired(
            "this change needs If-Match with the resource's current ETag "
            "(or If-Unmodified-Since), so that it applies to the version that was read"
        )


def not_modified(request: Request, validators: Validators) -> Response | None:
    """A ``GET``/``HEAD`` answered by the client's cached copy: the 304 to send, else None.

    ``If-Match`` and ``If-Unmodified-Since`` are checked first (412 when they fail).
    """
    if request.headers.get("if-match") is not None:
        if not any(t == "*" or t == validators.etag for t in _tags(request.headers["if-match"])):
            raise PreconditionFailed("If-Match does not name the current representation")
    else:
        since = _date(request.headers.get("if-unmodified-since"))
        if since is not None and (validators.modified is None or validators.modified > since):
            raise PreconditionFailed("the resource was modified after If-Unmodified-Since")
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        current = validators.etag.removeprefix("W/")
        if any(t == "*" or t.removeprefix("W/") == current for t in _tags(if_none_match)):
            return validators.applied(Response(status_code=304))
        return None
    since = _date(request.headers.get("if-modified-since"))
    if since is not None and validators.modified is not None and validators.modified <= since:
        return validators.applied(Response(status_code=304))
    return None
