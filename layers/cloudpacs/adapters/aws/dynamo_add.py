"""The one TransactWriteItems that indexes an instance (DESIGN.md §6: conditional writes).

Each transaction writes three items of the study partition, all or nothing:

1. the instance item, conditional on its absence (or, when replacing, on its presence);
2. the series item: ``ADD instance_count, revision`` when the series exists, or a
   conditional ``Put`` creating it when it does not;
3. the study item: an upsert that ``ADD``s the counters and the modality / SOP class sets
   and fills attributes and GSI keys with ``if_not_exists`` (the first instance of a study
   defines its attributes, as in the SQLite index), and sets the time of this store
   (``last_stored``, ``stored_sk``: the retention index). A replacement overwrites the study and
   series attributes: replacing an object is how a corrected object takes effect.

The writer guesses which of three ``AddMode``s applies; when a condition proves the guess
wrong, the cancellation reasons say which item disagreed and the writer retries with the
right mode. The conditions make every count exact under concurrent writers: an instance is
counted only by the transaction that created its item, a series only by the one that created
the series item.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from cloudpacs.adapters.aws.dynamo_items import (
    STUDY_SK,
    Expr,
    dumps,
    instance_item,
    key,
    series_sk,
    stored_keys,
    study_index_keys,
    study_pk,
)
from cloudpacs.model import IndexEntry

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

ONE: AttributeValueTypeDef = {"N": "1"}


class AddMode(enum.Enum):
    EXISTING_SERIES = "new instance in an existing series"
    NEW_SERIES = "new instance, first of its series"
    REPLACE = "overwrite an existing instance"


def add_transaction(table: str, entry: IndexEntry, mode: AddMode) -> list[TransactWriteItemTypeDef]:
    """The items of the transaction for ``mode``: instance, series, study, in that order."""
    return [
        _instance_put(table, entry, mode),
        _series_write(table, entry, mode),
        _study_update(table, entry, mode),
    ]


def _instance_put(table: str, entry: IndexEntry, mode: AddMode) -> TransactWriteItemTypeDef:
    present = "attribute_exists(pk)" if mode is AddMode.REPLACE else "attribute_not_exists(pk)"
    return {
        "Put": {
            "TableName": table,
            "Item": instance_item(entry.instance),
            "ConditionExpression": present,
            # On failure the cancellation reason carries the existing item: no extra read.
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }
    }


def _series_write(table: str, entry: IndexEntry, mode: AddMode) -> TransactWriteItemTypeDef:
    rec = entry.instance
    pk, sk = study_pk(rec.study_uid), series_sk(rec.series_uid)
    if mode is AddMode.NEW_SERIES:
        item = {
            **key(pk, sk),
            "uid_pk": {"S": f"SERIES#{rec.series_uid}"},
            "attrs": {"S": dumps(entry.series_attrs)},
            "modality": {"S": entry.modality},
            "instance_count": ONE,
            "revision": ONE,
        }
        return {
            "Put": {
                "TableName": table,
                "Item": item,
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
    e = Expr()
    counters = [f"{e.n('revision')} {e.v('one', ONE)}"]
    if mode is AddMode.EXISTING_SERIES:
        counters.append(f"{e.n('instance_count')} :one")
    sets = ""
    if mode is AddMode.REPLACE:
        attrs = e.v("attrs", {"S": dumps(entry.series_attrs)})
        modality = e.v("modality", {"S": entry.modality})
        sets = f"SET {e.n('attrs')} = {attrs}, {e.n('modality')} = {modality} "
    return {
        "Update": {
            "TableName": table,
            "Key": key(pk, sk),
            "UpdateExpression": sets + "ADD " + ", ".join(counters),
            "ConditionExpression": "attribute_exists(pk)",
            "ExpressionAttributeNames": e.names,
            "ExpressionAttributeValues": e.values,
        }
    }


def _study_update(table: str, entry: IndexEntry, mode: AddMode) -> TransactWriteItemTypeDef:
    rec = entry.instance
    e = Expr()
    defaults = {
        "attrs": dumps(entry.study_attrs),
        **study_index_keys(rec.study_uid, entry.study_attrs),
    }
    if mode is AddMode.REPLACE:
        sets = [f"{e.n(name)} = {e.v(name, {'S': value})}" for name, value in defaults.items()]
    else:
        sets = [
            f"{e.n(name)} = if_not_exists({e.n(name)}, {e.v(name, {'S': value})})"
            for name, value in defaults.items()
        ]
    for name, value in stored_keys(rec.study_uid, rec.stored_at).items():
        sets.append(f"{e.n(name)} = {e.v(name, {'S': value})}")
    adds = [f"{e.n('rev')} {e.v('one', ONE)}"]
    if mode is not AddMode.REPLACE:
        adds.append(f"{e.n('instance_count')} :one")
    if mode is AddMode.NEW_SERIES:
        adds.append(f"{e.n('series_count')} :one")
    if entry.modality:
        adds.append(f"{e.n('modalities')} {e.v('modality', {'SS': [entry.modality]})}")
    if rec.sop_class_uid:
        adds.append(f"{e.n('sop_classes')} {e.v('sop_class', {'SS': [rec.sop_class_uid]})}")
    return {
        "Update": {
            "TableName": table,
            "Key": key(study_pk(rec.study_uid), STUDY_SK),
            "UpdateExpression": "SET " + ", ".join(sets) + " ADD " + ", ".join(adds),
            "ExpressionAttributeNames": e.names,
            "ExpressionAttributeValues": e.values,
        }
    }
