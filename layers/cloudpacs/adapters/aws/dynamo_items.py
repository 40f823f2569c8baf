"""Records <-> DynamoDB items for the single-table layout of ``table_schema``.

Item shapes (``pk = "STUDY#<study>"`` everywhere):

- study ``sk = "STUDY"``: ``attrs`` (compact DICOM JSON), ``series_count``, ``instance_count``,
  ``modalities`` and ``sop_classes`` (string sets, absent when empty), ``rev`` (bumped by
  every write, so a recomputation can detect a concurrent one), and the GSI keys
  ``all_pk``/``date_sk``/``patient_pk``/``accession_pk``/``name_pk``/``name_sk`` from
  ``study_keys.index_fields`` (the values the SQLite index keeps in its columns);
  ``last_stored`` and ``stored_sk`` (``<stored_at>#<uid>``, the ``by_stored`` index) from the
  latest store; ``hold_reason``, ``hold_since``, ``hold_by`` while on legal hold.
- series ``sk = "SERIES#<series>#"``: ``attrs``, ``modality``, ``instance_count``,
  ``revision``, ``uid_pk = "SERIES#<series>"``.
- instance ``sk = "SERIES#<series>#SOP#<sop>"``: the ``InstanceRecord`` fields and
  ``uid_pk = "SOP#<sop>"``.

GSI key attributes are only written when they have a value (DynamoDB rejects empty key
strings), which keeps the indexes sparse. Frame tables are stored by ``frame_packing``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from cloudpacs.adapters.aws.frame_packing import frames_from_item, frames_to_item
from cloudpacs.model import InstanceRecord, JsonDataset, SeriesRecord, StudyRecord
from cloudpacs.study_keys import index_fields

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

    Item = dict[str, AttributeValueTypeDef]
else:
    Item = dict

ReadItem = Mapping[str, Any]
"""An item as the client returns it (attribute name -> {"S": ...} etc.)."""

STUDY_SK = "STUDY"
ALL_STUDIES = "STUDIES"
NAME_SK_MAX = 256
"""Normalized names are cut to this many characters in ``name_sk`` (sort keys are <= 1 KB)."""


def study_pk(study: str) -> str:
    return f"STUDY#{study}"


def series_sk(series: str) -> str:
    """Also the prefix of every instance item of the series: ``#`` never occurs in a UID."""
    return f"SERIES#{series}#"


def instance_sk(series: str, sop: str) -> str:
    return f"SERIES#{series}#SOP#{sop}"


def key(pk: str, sk: str) -> Item:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def study_uid_of(item: ReadItem) -> str:
    return str(item["pk"]["S"]).removeprefix("STUDY#")


def kind_of(item: ReadItem) -> str:
    """``"study"``, ``"series"`` or ``"instance"``, from the sort key."""
    sk = str(item["sk"]["S"])
    if sk == STUDY_SK:
        return "study"
    return "instance" if "#SOP#" in sk else "series"


def series_uid_of(item: ReadItem) -> str:
    return str(item["sk"]["S"]).removeprefix("SERIES#").split("#", 1)[0]


def _int(item: ReadItem, name: str) -> int:
    return int(item[name]["N"]) if name in item else 0


def _strings(item: ReadItem, name: str) -> tuple[str, ...]:
    return tuple(sorted(item[name]["SS"])) if name in item else ()


def study_index_keys(study: str, attrs: JsonDataset) -> dict[str, str]:
    """The GSI key attributes of a study item (``table_schema.GSI_KEYS``), non-empty only."""
    fields = index_fields(attrs)
    date = (fields.study_date or "").replace("#", "")
    keys = {"all_pk": ALL_STUDIES, "date_sk": f"{date}#{study}"}
    if fields.patient_id:
        keys["patient_pk"] = f"PID#{fields.patient_id}"
    if fields.accession_number:
        keys["accession_pk"] = f"ACC#{fields.accession_number}"
    if fields.name_norm:
        keys["name_pk"] = f"PN#{fields.name_norm[0]}"
        keys["name_sk"] = f"{fields.name_norm[:NAME_SK_MAX]}#{study}"
    return keys


def stored_keys(study: str, stored_at: str) -> dict[str, str]:
    """``last_stored`` and the ``by_stored`` sort key of a store at ``stored_at`` (none for
    a record without a time)."""
    if not stored_at:
        return {}
    return {"last_stored": stored_at, "stored_sk": f"{stored_at}#{study}"}


def instance_item(rec: InstanceRecord) -> Item:
    item: Item = {
        **key(study_pk(rec.study_uid), instance_sk(rec.series_uid, rec.sop_uid)),
        "uid_pk": {"S": f"SOP#{rec.sop_uid}"},
        "sop_class": {"S": rec.sop_class_uid},
        "ts": {"S": rec.transfer_syntax_uid},
        "sha256": {"S": rec.sha256},
        "size": {"N": str(rec.size)},
        "attrs": {"S": dumps(rec.attrs)},
        "header_length": {"N": str(rec.header_length)},
        "stored_at": {"S": rec.stored_at},
    }
    if rec.frames is not None:
        item.update(frames_to_item(rec.frames, rec.sop_uid))
    return item


def instance_record(item: ReadItem) -> InstanceRecord:
    sk = str(item["sk"]["S"])
    series, sop = sk.removeprefix("SERIES#").split("#SOP#", 1)
    return InstanceRecord(
        study_uid=study_uid_of(item),
        series_uid=series,
        sop_uid=sop,
        sop_class_uid=str(item["sop_class"]["S"]),
        transfer_syntax_uid=str(item["ts"]["S"]),
        sha256=str(item["sha256"]["S"]),
        size=_int(item, "size"),
        attrs=json.loads(item["attrs"]["S"]),
        header_length=_int(item, "header_length"),
        frames=frames_from_item(item),
        stored_at=str(item.get("stored_at", {}).get("S", "")),
    )


def series_record(item: ReadItem) -> SeriesRecord:
    return SeriesRecord(
        study_uid=study_uid_of(item),
        series_uid=series_uid_of(item),
        attrs=json.loads(item["attrs"]["S"]) if "attrs" in item else {},
        instance_count=_int(item, "instance_count"),
        revision=_int(item, "revision"),
    )


def study_record(item: ReadItem) -> StudyRecord:
    return StudyRecord(
        study_uid=study_uid_of(item),
        attrs=json.loads(item["attrs"]["S"]) if "attrs" in item else {},
        series_count=_int(item, "series_count"),
        instance_count=_int(item, "instance_count"),
        modalities=_strings(item, "modalities"),
        sop_classes=_strings(item, "sop_classes"),
    )


class Expr:
    """Collects the ``#name`` and ``:value`` placeholders of one DynamoDB expression set.

    Every attribute name goes through a placeholder, so reserved words (``size``, ...) are
    never a concern.
    """

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, AttributeValueTypeDef] = {}

    def n(self, name: str) -> str:
        self.names[f"#{name}"] = name
        return f"#{name}"

    def v(self, label: str, value: AttributeValueTypeDef) -> str:
        self.values[f":{label}"] = value
        return f":{label}"
