"""The DynamoDB single-table layout (DESIGN.md §4), shared by the adapter, tests and CDK.

One partition per study, ``pk = "STUDY#<uid>"``:

| item     | sk                               |
| -------- | -------------------------------- |
| study    | ``STUDY``                        |
| series   | ``SERIES#<series>#``             |
| instance | ``SERIES#<series>#SOP#<sop>``    |

A study-scoped read is one ``Query`` on ``pk``; a series-scoped read is one ``Query`` with
``begins_with(sk, "SERIES#<series>#")`` (``#`` never occurs in a UID, so prefixes are exact).

Global secondary indexes (all KEYS_ONLY; study items are then read with BatchGetItem):

| index        | partition key                   | sort key                     | serves |
| ------------ | ------------------------------- | ---------------------------- | ------ |
| by_patient   | ``patient_pk`` ``PID#<id>``     | ``date_sk`` ``<date>#<uid>`` | PatientID |
| by_accession | ``accession_pk`` ``ACC#<no>``   | ``date_sk``                  | Accession |
| by_name      | ``name_pk`` ``PN#<c>``          | ``name_sk`` ``<norm>#<uid>`` | name prefix |
| by_date      | ``all_pk`` ``STUDIES``          | ``date_sk``                  | date, list |
| by_uid       | ``uid_pk`` ``SERIES#``/``SOP#`` | -                            | locate UID |
| by_stored    | ``all_pk`` ``STUDIES``          | ``stored_sk`` ``<time>#<uid>`` | retention |

``<c>`` is the first character of the normalized PatientName (``dicom.names``); item
attributes are described in ``dynamo_items``. Upload records live beside the studies, one
item each (``pk = "UPLOAD#<id>"``, ``dynamo_uploads``), and expire by ``TTL_ATTRIBUTE``.
"""

from __future__ import annotations

from typing import Any

PARTITION_KEY = "pk"
SORT_KEY = "sk"
TTL_ATTRIBUTE = "expires_at"
"""Epoch seconds after which DynamoDB may drop an item: upload records (``dynamo_uploads``)
carry it; index items never do."""

GSI_KEYS: dict[str, tuple[str, str | None]] = {
    "by_patient": ("patient_pk", "date_sk"),
    "by_accession": ("accession_pk", "date_sk"),
    "by_name": ("name_pk", "name_sk"),
    "by_date": ("all_pk", "date_sk"),
    "by_uid": ("uid_pk", None),
    "by_stored": ("all_pk", "stored_sk"),
}


def create_table_kwargs(table_name: str) -> dict[str, Any]:
    """Arguments for ``create_table``: used by tests (moto) and mirrored by the CDK stack."""
    attributes = {PARTITION_KEY, SORT_KEY}
    indexes = []
    for name, (hash_key, range_key) in GSI_KEYS.items():
        schema = [{"AttributeName": hash_key, "KeyType": "HASH"}]
        attributes.add(hash_key)
        if range_key:
            schema.append({"AttributeName": range_key, "KeyType": "RANGE"})
            attributes.add(range_key)
        indexes.append(
            {"IndexName": name, "KeySchema": schema, "Projection": {"ProjectionType": "KEYS_ONLY"}}
        )
    return {
        "TableName": table_name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [
            {"AttributeName": PARTITION_KEY, "KeyType": "HASH"},
            {"AttributeName": SORT_KEY, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": a, "AttributeType": "S"} for a in sorted(attributes)
        ],
        "GlobalSecondaryIndexes": indexes,
    }
