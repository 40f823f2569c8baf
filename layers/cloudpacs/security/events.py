"""Change events: one per stored or deleted instance, for other systems to react to.

Ingest publishes ``InstanceStored`` after the object is stored and indexed; delete publishes
``InstanceDeleted`` after the index entry is removed; a correction publishes
``InstancesUpdated`` for each instance it rewrote. Events go to an ``EventSink``: an
in-process hook locally, an EventBridge bus in AWS (source ``cloudpacs``, detail-type the event
type). Events carry UIDs, SOP class, modality and size, never patient attributes. Delivery is
at least once: a consumer must be idempotent (``event_id`` helps it to be). The schema is
documented in ``docs/events.md``.
"""

from __future__ import annotations

import enum
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from cloudpacs.model import InstanceRecord
from cloudpacs.security.audit import parse_time, utc_now
from cloudpacs.uids import is_valid_uid

EVENT_SOURCE = "cloudpacs"
SCHEMA_VERSION = 1
_MODALITY = re.compile(r"[A-Z0-9_]{1,16}")


class InstanceEventType(enum.StrEnum):
    STORED = "InstanceStored"
    DELETED = "InstanceDeleted"
    UPDATED = "InstancesUpdated"
    """Attributes of a stored instance were corrected (``services.corrections``)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class InstanceEvent:
    type: InstanceEventType
    study_uid: str
    series_uid: str
    sop_uid: str
    sop_class_uid: str | None = None
    modality: str | None = None
    size: int | None = None
    """Bytes of the stored object."""
    time: str = field(default_factory=utc_now)
    event_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    version: int = SCHEMA_VERSION

    def __post_init__(self) -> None:
        object.__setattr__(self, "type", InstanceEventType(self.type))
        parse_time(self.time)
        for name in ("study_uid", "series_uid", "sop_uid"):
            if not is_valid_uid(getattr(self, name)):
                raise ValueError(f"invalid event field {name}: not a UID")
        if self.sop_class_uid is not None and not is_valid_uid(self.sop_class_uid):
            raise ValueError("invalid event field sop_class_uid: not a UID")
        if self.modality is not None and not _MODALITY.fullmatch(self.modality):
            raise ValueError("invalid event field modality: not a code string")
        if self.size is not None and self.size < 0:
            raise ValueError("invalid event field size: negative")

    @classmethod
    def for_record(
        cls, type: InstanceEventType, record: InstanceRecord, *, modality: str | None = None
    ) -> InstanceEvent:
        """The event for an index record (what ``add_instance`` wrote or ``remove_instances``
        returned); the modality is a series attribute, so the caller passes it."""
        return cls(
            type=type,
            study_uid=record.study_uid,
            series_uid=record.series_uid,
            sop_uid=record.sop_uid,
            sop_class_uid=record.sop_class_uid or None,
            modality=modality or record.modality or None,
            size=record.size,
        )

    def detail(self) -> dict[str, Any]:
        """The event body (EventBridge ``Detail``); ``type`` travels as the detail-type too."""
        return {
            "version": self.version,
            "eventId": self.event_id,
            "type": self.type.value,
            "time": self.time,
            "studyInstanceUID": self.study_uid,
            "seriesInstanceUID": self.series_uid,
            "sopInstanceUID": self.sop_uid,
            "sopClassUID": self.sop_class_uid,
            "modality": self.modality,
            "size": self.size,
        }

    @classmethod
    def from_detail(cls, detail: dict[str, Any]) -> InstanceEvent:
        return cls(
            type=InstanceEventType(detail["type"]),
            study_uid=detail["studyInstanceUID"],
            series_uid=detail["seriesInstanceUID"],
            sop_uid=detail["sopInstanceUID"],
            sop_class_uid=detail.get("sopClassUID"),
            modality=detail.get("modality"),
            size=detail.get("size"),
            time=detail["time"],
            event_id=detail["eventId"],
            version=int(detail.get("version", SCHEMA_VERSION)),
        )


class EventSink(Protocol):
    def publish(self, events: Sequence[InstanceEvent]) -> None:
        """Deliver every one of ``events``; raise if any could not be handed over.

        The local hook keeps publish order; EventBridge does not promise order.
        """


class NullEventSink:
    """Publishes nothing: for deployments without consumers."""

    def publish(self, events: Sequence[InstanceEvent]) -> None:
        return None
