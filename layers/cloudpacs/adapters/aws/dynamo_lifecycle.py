"""Legal holds and retention selection on the DynamoDB index (``docs/lifecycle.md``).

- The hold is three attributes of the study item (``hold_reason``, ``hold_since``,
  ``hold_by``): set and removed by one conditional ``UpdateItem`` each (the study must
  exist), read by one consistent ``GetItem``. The hold goes with the study item when the
  study's last instance is removed, as the SQLite row's does.
- Retention candidates come from one ``Query`` of the ``by_stored`` GSI (``stored_sk``
  below ``<cutoff>``, oldest first), then one ``BatchGetItem`` per 100 studies, which reads
  the hold and re-checks ``last_stored`` on the table itself (the GSI lags behind writes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cloudpacs.adapters.aws.dynamo_items import (
    ALL_STUDIES,
    STUDY_SK,
    Expr,
    Item,
    ReadItem,
    key,
    study_pk,
    study_uid_of,
)
from cloudpacs.adapters.aws.table_schema import GSI_KEYS
from cloudpacs.model import LegalHold, StoredStudy

HOLD_ATTRIBUTES = ("hold_reason", "hold_since", "hold_by")
BATCH = 100


def hold_of(item: ReadItem) -> LegalHold | None:
    if "hold_since" not in item:
        return None
    return LegalHold(
        reason=str(item.get("hold_reason", {}).get("S", "")),
        since=str(item["hold_since"]["S"]),
        by=str(item.get("hold_by", {}).get("S", "")),
    )


def get_hold(client: Any, table: str, study: str) -> LegalHold | None:
    e = Expr()
    item = client.get_item(
        TableName=table,
        Key=key(study_pk(study), STUDY_SK),
        ConsistentRead=True,
        ProjectionExpression=", ".join(e.n(name) for name in HOLD_ATTRIBUTES),
        ExpressionAttributeNames=e.names,
    ).get("Item")
    return hold_of(item) if item else None


def set_hold(client: Any, table: str, study: str, hold: LegalHold) -> bool:
    e = Expr()
    values = {"hold_reason": hold.reason, "hold_since": hold.since, "hold_by": hold.by}
    sets = ", ".join(f"{e.n(name)} = {e.v(name, {'S': value})}" for name, value in values.items())
    try:
        client.update_item(
            TableName=table,
            Key=key(study_pk(study), STUDY_SK),
            UpdateExpression="SET " + sets,
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=e.names,
            ExpressionAttributeValues=e.values,
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def release_hold(client: Any, table: str, study: str) -> LegalHold | None:
    e = Expr()
    try:
        old = client.update_item(
            TableName=table,
            Key=key(study_pk(study), STUDY_SK),
            UpdateExpression="REMOVE " + ", ".join(e.n(name) for name in HOLD_ATTRIBUTES),
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames=e.names,
            ReturnValues="ALL_OLD",
        ).get("Attributes")
    except client.exceptions.ConditionalCheckFailedException:
        return None
    return hold_of(old) if old else None


def candidate_query(cutoff: str) -> dict[str, Any]:
    """Parameters of the ``by_stored`` Query: studies last stored before ``cutoff``."""
    hash_key, range_key = GSI_KEYS["by_stored"]
    e = Expr()
    condition = (
        f"{e.n(hash_key)} = {e.v('h', {'S': ALL_STUDIES})}"
        f" AND {e.n(str(range_key))} < {e.v('cutoff', {'S': cutoff})}"
    )
    return {
        "IndexName": "by_stored",
        "KeyConditionExpression": condition,
        "ExpressionAttributeNames": e.names,
        "ExpressionAttributeValues": e.values,
    }


def stored_before(
    hits: Iterable[ReadItem],
    batch_get: Callable[[list[Item]], Iterator[ReadItem]],
    cutoff: str,
) -> Iterator[StoredStudy]:
    """The studies behind GSI ``hits``, read from the table, still last stored before
    ``cutoff``; oldest first."""
    pending: list[Item] = []
    for hit in hits:
        pending.append(key(str(hit["pk"]["S"]), STUDY_SK))
        if len(pending) == BATCH:
            yield from _confirmed(batch_get(pending), cutoff)
            pending = []
    if pending:
        yield from _confirmed(batch_get(pending), cutoff)


def _confirmed(items: Iterable[ReadItem], cutoff: str) -> list[StoredStudy]:
    found = [
        StoredStudy(study_uid_of(item), str(item["last_stored"]["S"]), hold_of(item))
        for item in items
        if "last_stored" in item and str(item["last_stored"]["S"]) < cutoff
    ]
    return sorted(found, key=lambda s: (s.last_stored_at, s.study_uid))
