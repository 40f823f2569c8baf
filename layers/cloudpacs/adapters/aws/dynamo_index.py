"""Index on DynamoDB: the single-table layout of ``table_schema`` (DESIGN.md §4, §6).

Request budget, the reason for the layout:

- ``add_instance``: one ``TransactWriteItems`` when the series exists (the steady state),
  two for the first instance of a series or when ``replace`` finds no instance (the first
  guess is cancelled by its condition, the second is right); ``replace`` of an existing
  instance does one consistent ``GetItem`` first so that ``REPLACED`` carries the old record.
  Only contention (another writer changing the same items) costs more attempts. botocore
  fills ``ClientRequestToken``, so its own retry of a transaction that did commit is answered
  as a success, never mistaken for a duplicate.
- study / series / instance reads: one ``GetItem`` or one ``Query`` (more only when a
  result exceeds a 1 MB page), always ``ConsistentRead``.
- ``find_studies``: one GSI ``Query`` (see ``dynamo_find``) and one ``BatchGetItem`` per 100
  studies, because the GSIs project keys only. Never a ``Scan``.
- ``locate_*``: one ``Query`` of the ``by_uid`` GSI. GSIs are eventually consistent: an
  instance indexed a moment ago may not be located yet, so callers that must not miss it
  (ingest) read the base table by key instead.
- ``get_hold`` / ``set_hold`` / ``release_hold``: one ``GetItem`` / ``UpdateItem`` each;
  ``studies_stored_before``: one GSI ``Query`` and one ``BatchGetItem`` per 100 studies
  (``dynamo_lifecycle``).
- ``remove_instances``: one read of the targets, ``BatchWriteItem`` deletes, then one
  ``Query`` and one conditional transaction to settle the aggregates (``dynamo_remove``).
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import boto3

from cloudpacs.adapters.aws import dynamo_lifecycle as lifecycle
from cloudpacs.adapters.aws.dynamo_add import AddMode, add_transaction
from cloudpacs.adapters.aws.dynamo_find import NoMatch, plan_study_query
from cloudpacs.adapters.aws.dynamo_items import (
    STUDY_SK,
    Expr,
    Item,
    ReadItem,
    instance_record,
    instance_sk,
    key,
    kind_of,
    series_record,
    series_sk,
    series_uid_of,
    study_pk,
    study_record,
    study_uid_of,
)
from cloudpacs.adapters.aws.dynamo_remove import SETTLE_ATTRIBUTES, settle_ops, transaction_chunks
from cloudpacs.model import (
    AddOutcome,
    AddResult,
    IndexEntry,
    InstanceRecord,
    LegalHold,
    SeriesRecord,
    StoredStudy,
    StudyKeys,
    StudyPartition,
    StudyRecord,
)
from cloudpacs.uids import is_valid_uid

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.client import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import TransactWriteItemTypeDef

MAX_ATTEMPTS = 8
BATCH_GET_SIZE = 100
BATCH_WRITE_SIZE = 25
CONDITION_FAILED = "ConditionalCheckFailed"
RETRYABLE = {"None", "TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}


class IndexContention(RuntimeError):
    """A write kept colliding with concurrent writes to the same items; try again later."""


def _backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, min(0.02 * 2**attempt, 1.0)))


def _chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


class DynamoIndex:
    def __init__(self, table_name: str, client: Any | None = None) -> None:
        self.table = table_name
        self.client: DynamoDBClient = client if client is not None else boto3.client("dynamodb")

    # -- low-level requests --------------------------------------------------------------
    def _get(self, pk: str, sk: str) -> ReadItem | None:
        response = self.client.get_item(TableName=self.table, Key=key(pk, sk), ConsistentRead=True)
        return response.get("Item")

    def _query(self, **params: Any) -> Iterator[ReadItem]:
        """Every item of a Query, following ``LastEvaluatedKey`` across pages."""
        while True:
            page = self.client.query(TableName=self.table, **params)
            yield from page.get("Items", [])
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            params["ExclusiveStartKey"] = last

    def _partition(self, study: str, series: str | None = None) -> Iterator[ReadItem]:
        e = Expr()
        condition = f"{e.n('pk')} = {e.v('pk', {'S': study_pk(study)})}"
        if series is not None:
            condition += f" AND begins_with({e.n('sk')}, {e.v('sk', {'S': series_sk(series)})})"
        return self._query(
            KeyConditionExpression=condition,
            ExpressionAttributeNames=e.names,
            ExpressionAttributeValues=e.values,
            ConsistentRead=True,
        )

    def _batch_get(self, keys: list[Item]) -> Iterator[ReadItem]:
        """Items for ``keys`` (distinct), 100 per request, retrying ``UnprocessedKeys``."""
        for chunk in _chunks(keys, BATCH_GET_SIZE):
            request: Any = {self.table: {"Keys": chunk, "ConsistentRead": True}}
            for attempt in range(MAX_ATTEMPTS * 2):
                response = self.client.batch_get_item(RequestItems=request)
                yield from response.get("Responses", {}).get(self.table, [])
                request = response.get("UnprocessedKeys")
                if not request:
                    break
                _backoff(attempt)
            else:
                raise IndexContention("BatchGetItem kept returning unprocessed keys")

    def _batch_delete(self, keys: list[Item]) -> None:
        for chunk in _chunks(keys, BATCH_WRITE_SIZE):
            request: Any = {self.table: [{"DeleteRequest": {"Key": k}} for k in chunk]}
            for attempt in range(MAX_ATTEMPTS * 2):
                request = self.client.batch_write_item(RequestItems=request).get("UnprocessedItems")
                if not request:
                    break
                _backoff(attempt)
            else:
                raise IndexContention("BatchWriteItem kept returning unprocessed items")

    def _transact(self, ops: list[TransactWriteItemTypeDef]) -> list[Mapping[str, Any]] | None:
        """None when written; the cancellation reasons when a condition or a conflict
        cancelled it (other failures raise)."""
        try:
            self.client.transact_write_items(TransactItems=ops)
        except self.client.exceptions.TransactionCanceledException as exc:
            reasons: list[Mapping[str, Any]] = list(exc.response.get("CancellationReasons", []))
            codes = {str(r.get("Code", "None")) for r in reasons}
            if not codes <= RETRYABLE | {CONDITION_FAILED}:
                raise
            return reasons
        return None

    # -- writes --------------------------------------------------------------------------
    def add_instance(self, entry: IndexEntry, *, replace: bool) -> AddResult:
        rec = entry.instance
        existing: InstanceRecord | None = None
        mode = AddMode.EXISTING_SERIES
        if replace:
            existing = self.get_instance(rec.study_uid, rec.series_uid, rec.sop_uid)
            mode = AddMode.REPLACE if existing is not None else mode
        for attempt in range(MAX_ATTEMPTS):
            reasons = self._transact(add_transaction(self.table, entry, mode))
            if reasons is None:
                if mode is AddMode.REPLACE:
                    return AddResult(AddOutcome.REPLACED, existing)
                return AddResult(AddOutcome.CREATED)
            instance_failed = reasons[0].get("Code") == CONDITION_FAILED
            series_failed = reasons[1].get("Code") == CONDITION_FAILED
            if instance_failed and mode is not AddMode.REPLACE:
                old = reasons[0].get("Item")
                found = (
                    instance_record(old)
                    if old
                    else self.get_instance(rec.study_uid, rec.series_uid, rec.sop_uid)
                )
                if found is not None and not replace:
                    return AddResult(AddOutcome.EXISTS, found)
                if found is not None:
                    existing, mode = found, AddMode.REPLACE
            elif instance_failed:  # the instance to replace was removed meanwhile
                mode = AddMode.NEW_SERIES if series_failed else AddMode.EXISTING_SERIES
            elif series_failed:  # the guess about the series was wrong (or became wrong)
                new = mode is AddMode.EXISTING_SERIES
                mode = AddMode.NEW_SERIES if new else AddMode.EXISTING_SERIES
            else:
                _backoff(attempt)
        raise IndexContention(f"could not index {rec.sop_uid} after {MAX_ATTEMPTS} attempts")

    def remove_instances(
        self, study_uid: str, series_uid: str | None = None, sop_uid: str | None = None
    ) -> list[InstanceRecord]:
        targets = list(self._removal_targets(study_uid, series_uid, sop_uid))
        if not targets:
            return []
        victims = [i for i in targets if kind_of(i) == "instance"]
        self._batch_delete([key(str(i["pk"]["S"]), str(i["sk"]["S"])) for i in victims])
        touched = {series_uid_of(i) for i in targets if kind_of(i) != "study"}
        self._settle(study_uid, touched)
        return [instance_record(i) for i in victims]

    def _removal_targets(
        self, study: str, series: str | None, sop: str | None
    ) -> Iterable[ReadItem]:
        if sop is None:
            return self._partition(study, series)
        if series is not None:
            item = self._get(study_pk(study), instance_sk(series, sop))
            return [item] if item is not None else []
        wanted = f"#SOP#{sop}"
        return [i for i in self._partition(study) if str(i["sk"]["S"]).endswith(wanted)]

    def _settle(self, study: str, touched: set[str]) -> None:
        """Recompute aggregates from what remains; retried when a concurrent add interferes."""
        e = Expr()
        projection = ", ".join(e.n(name) for name in SETTLE_ATTRIBUTES)
        condition = f"{e.n('pk')} = {e.v('pk', {'S': study_pk(study)})}"
        for attempt in range(MAX_ATTEMPTS):
            items = list(
                self._query(
                    KeyConditionExpression=condition,
                    ProjectionExpression=projection,
                    ExpressionAttributeNames=e.names,
                    ExpressionAttributeValues=e.values,
                    ConsistentRead=True,
                )
            )
            ops = settle_ops(self.table, study, items, touched)
            if all(self._transact(chunk) is None for chunk in transaction_chunks(ops)):
                return
            _backoff(attempt)
        raise IndexContention(f"could not settle study {study} after {MAX_ATTEMPTS} attempts")

    # -- reads ---------------------------------------------------------------------------
    def get_instance(self, study_uid: str, series_uid: str, sop_uid: str) -> InstanceRecord | None:
        item = self._get(study_pk(study_uid), instance_sk(series_uid, sop_uid))
        return instance_record(item) if item is not None else None

    def get_study(self, study_uid: str) -> StudyRecord | None:
        item = self._get(study_pk(study_uid), STUDY_SK)
        return study_record(item) if item is not None else None

    def get_studies(self, study_uids: list[str]) -> list[StudyRecord]:
        """Records in the order asked; absent (or malformed) UIDs are skipped."""
        uids = [u for u in dict.fromkeys(study_uids) if is_valid_uid(u)]
        found = {
            r.study_uid: r
            for r in map(study_record, self._batch_get([key(study_pk(u), STUDY_SK) for u in uids]))
        }
        return [found[u] for u in uids if u in found]

    def study_partition(self, study_uid: str) -> StudyPartition | None:
        study: StudyRecord | None = None
        series: list[SeriesRecord] = []
        instances: list[InstanceRecord] = []
        for item in self._partition(study_uid):
            kind = kind_of(item)
            if kind == "study":
                study = study_record(item)
            elif kind == "series":
                series.append(series_record(item))
            else:
                instances.append(instance_record(item))
        if study is None:
            return None
        return StudyPartition(study=study, series=tuple(series), instances=tuple(instances))

    def series_partition(
        self, study_uid: str, series_uid: str
    ) -> tuple[SeriesRecord, tuple[InstanceRecord, ...]] | None:
        series: SeriesRecord | None = None
        instances: list[InstanceRecord] = []
        for item in self._partition(study_uid, series_uid):
            if kind_of(item) == "series":
                series = series_record(item)
            else:
                instances.append(instance_record(item))
        return (series, tuple(instances)) if series is not None else None

    def find_studies(self, keys: StudyKeys) -> Iterator[StudyRecord]:
        if keys.study_uids is not None:
            yield from self.get_studies(list(keys.study_uids))
            return
        try:
            plan = plan_study_query(keys)
        except NoMatch:
            return
        hits = self._query(
            IndexName=plan.index,
            KeyConditionExpression=plan.condition,
            ExpressionAttributeNames=plan.names,
            ExpressionAttributeValues=plan.values,
        )
        pending: list[Item] = []
        for hit in hits:
            pending.append(key(str(hit["pk"]["S"]), STUDY_SK))
            if len(pending) == BATCH_GET_SIZE:
                yield from map(study_record, self._batch_get(pending))
                pending = []
        if pending:
            yield from map(study_record, self._batch_get(pending))

    # -- lifecycle (docs/lifecycle.md, dynamo_lifecycle) --------------------------------
    def get_hold(self, study_uid: str) -> LegalHold | None:
        return lifecycle.get_hold(self.client, self.table, study_uid)

    def set_hold(self, study_uid: str, hold: LegalHold) -> bool:
        return lifecycle.set_hold(self.client, self.table, study_uid, hold)

    def release_hold(self, study_uid: str) -> LegalHold | None:
        return lifecycle.release_hold(self.client, self.table, study_uid)

    def studies_stored_before(self, cutoff: str) -> Iterator[StoredStudy]:
        hits = self._query(**lifecycle.candidate_query(cutoff))
        return lifecycle.stored_before(hits, self._batch_get, cutoff)

    def _locate(self, uid_key: str) -> ReadItem | None:
        e = Expr()
        hits = self.client.query(
            TableName=self.table,
            IndexName="by_uid",
            KeyConditionExpression=f"{e.n('uid_pk')} = {e.v('uid', {'S': uid_key})}",
            ExpressionAttributeNames=e.names,
            ExpressionAttributeValues=e.values,
            Limit=1,
        ).get("Items", [])
        return hits[0] if hits else None

    def locate_series(self, series_uid: str) -> str | None:
        hit = self._locate(f"SERIES#{series_uid}")
        return study_uid_of(hit) if hit is not None else None

    def locate_instance(self, sop_uid: str) -> tuple[str, str] | None:
        hit = self._locate(f"SOP#{sop_uid}")
        return (study_uid_of(hit), series_uid_of(hit)) if hit is not None else None
