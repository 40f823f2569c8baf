"""Aggregates after a removal: recomputed from what remains in the study partition.

After the instance items are deleted, one ``Query`` of the partition (keys and the few
attributes aggregates need) gives what remains; ``settle_ops`` turns it into writes:

- a series that lost instances gets its new ``instance_count`` and a new ``revision``,
  or is deleted when nothing remains in it;
- the study gets counts, modalities and SOP classes of what remains, or is deleted when no
  series remains.

Every write is conditional on the ``revision`` (series) or ``rev`` (study) read by that
Query. Each add bumps both, so an add that lands between the Query and the writes cancels
them and the caller recomputes: aggregates are never overwritten with stale values.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING

from cloudpacs.adapters.aws.dynamo_items import (
    STUDY_SK,
    Expr,
    ReadItem,
    key,
    kind_of,
    series_sk,
    series_uid_of,
    study_pk,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef, TransactWriteItemTypeDef

SETTLE_ATTRIBUTES = ("pk", "sk", "sop_class", "modality", "instance_count", "revision", "rev")
"""What ``settle_ops`` reads from each item (a projection: attrs are not needed)."""

MAX_TRANSACTION_ITEMS = 100


def settle_ops(
    table: str, study: str, items: list[ReadItem], touched: set[str]
) -> list[TransactWriteItemTypeDef]:
    """The conditional writes that make series and study items agree with ``items``.

    ``touched`` names the series that lost instances: they get a new revision even when
    their count happens to match. The study write, if any, comes last.
    """
    series_items = {series_uid_of(i): i for i in items if kind_of(i) == "series"}
    study_item = next((i for i in items if kind_of(i) == "study"), None)
    counts: Counter[str] = Counter()
    sop_classes: set[str] = set()
    for item in items:
        if kind_of(item) == "instance" and series_uid_of(item) in series_items:
            counts[series_uid_of(item)] += 1
            sop_classes.add(str(item["sop_class"]["S"]))

    ops: list[TransactWriteItemTypeDef] = []
    for uid, item in sorted(series_items.items()):
        stored = int(item.get("instance_count", {}).get("N", "0"))
        if counts[uid] == 0 or uid in touched or counts[uid] != stored:
            ops.append(_series_op(table, study, uid, item, counts[uid]))
    remaining = [uid for uid in series_items if counts[uid] > 0]
    if study_item is not None and (ops or not remaining):
        modalities = {str(series_items[uid].get("modality", {}).get("S", "")) for uid in remaining}
        ops.append(
            _study_op(
                table,
                study,
                study_item,
                series=len(remaining),
                instances=sum(counts.values()),
                modalities=modalities - {""},
                sop_classes=sop_classes - {""},
            )
        )
    return ops


def _unchanged(e: Expr, item: ReadItem, counter: str) -> str:
    """Condition: the item still carries the revision counter this recomputation read."""
    if counter not in item:
        return f"attribute_exists(pk) AND attribute_not_exists({e.n(counter)})"
    return f"{e.n(counter)} = {e.v('seen', {'N': str(item[counter]['N'])})}"


def _series_op(
    table: str, study: str, uid: str, item: ReadItem, count: int
) -> TransactWriteItemTypeDef:
    e = Expr()
    condition = _unchanged(e, item, "revision")
    if count == 0:
        return {
            "Delete": {
                "TableName": table,
                "Key": key(study_pk(study), series_sk(uid)),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": e.names,
                "ExpressionAttributeValues": e.values,
            }
        }
    update = (
        f"SET {e.n('instance_count')} = {e.v('count', {'N': str(count)})}"
        f" ADD {e.n('revision')} {e.v('one', {'N': '1'})}"
    )
    return {
        "Update": {
            "TableName": table,
            "Key": key(study_pk(study), series_sk(uid)),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": e.names,
            "ExpressionAttributeValues": e.values,
        }
    }


def _study_op(
    table: str,
    study: str,
    item: ReadItem,
    *,
    series: int,
    instances: int,
    modalities: set[str],
    sop_classes: set[str],
) -> TransactWriteItemTypeDef:
    e = Expr()
    condition = _unchanged(e, item, "rev")
    if series == 0:
        return {
            "Delete": {
                "TableName": table,
                "Key": key(study_pk(study), STUDY_SK),
                "ConditionExpression": condition,
                "ExpressionAttributeNames": e.names,
                "ExpressionAttributeValues": e.values,
            }
        }
    sets = [
        f"{e.n('series_count')} = {e.v('series', {'N': str(series)})}",
        f"{e.n('instance_count')} = {e.v('instances', {'N': str(instances)})}",
    ]
    removes = []
    for name, values in (("modalities", modalities), ("sop_classes", sop_classes)):
        if values:
            value: AttributeValueTypeDef = {"SS": sorted(values)}
            sets.append(f"{e.n(name)} = {e.v(name, value)}")
        else:
            removes.append(e.n(name))
    update = "SET " + ", ".join(sets) + f" ADD {e.n('rev')} {e.v('one', {'N': '1'})}"
    if removes:
        update += " REMOVE " + ", ".join(removes)
    return {
        "Update": {
            "TableName": table,
            "Key": key(study_pk(study), STUDY_SK),
            "UpdateExpression": update,
            "ConditionExpression": condition,
            "ExpressionAttributeNames": e.names,
            "ExpressionAttributeValues": e.values,
        }
    }


def transaction_chunks(
    ops: list[TransactWriteItemTypeDef],
) -> list[list[TransactWriteItemTypeDef]]:
    """Split into transactions of at most 100 items; the study write stays in the last one.

    A study with more than 99 series is settled in several transactions: series first, so
    the study item never disappears while a series item still exists.
    """
    size = MAX_TRANSACTION_ITEMS
    return [ops[i : i + size] for i in range(0, len(ops), size)]
