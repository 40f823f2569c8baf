"""What only the AWS adapters can get wrong: GSI selectivity, item size, Query pages,
races between requests, and the S3 key prefix. All on moto, with the adapters' own clients."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from cloudpacs.adapters.aws.dynamo_index import DynamoIndex
from cloudpacs.adapters.aws.s3_store import S3BlobStore
from cloudpacs.dicom.names import normalize_name
from cloudpacs.model import AddOutcome, StudyKeys

from .conftest import BUCKET, TABLE, Adapters, ScanForbidden
from .records import BASIC_TEXT_SR, CT_IMAGE, encapsulated_frames, entry
from .records import uid as u

STUDY = u(50)
SERIES = u(50, 1)


def dynamo(adapters: Adapters) -> DynamoIndex:
    assert isinstance(adapters.index, DynamoIndex)
    return adapters.index


def raw_item(adapters: Adapters, sk: str, study: str = STUDY) -> dict[str, Any]:
    response = dynamo(adapters).client.get_item(
        TableName=TABLE, Key={"pk": {"S": f"STUDY#{study}"}, "sk": {"S": sk}}
    )
    item: dict[str, Any] = response["Item"]
    return item


def test_scans_are_refused(aws_adapters: Adapters) -> None:
    with pytest.raises(ScanForbidden):
        dynamo(aws_adapters).client.scan(TableName=TABLE)


def test_each_search_reads_only_its_index_entries(aws_adapters: Adapters) -> None:
    people = {
        u(51, 1): ("PAT-1", "Doe^Jane", "20240115", "ACC-1"),
        u(51, 2): ("PAT-2", "Dobson^Al", "20240301", "ACC-2"),
        u(51, 3): ("PAT-3", "Roe^Rick", "20250101", "ACC-3"),
    }
    for n, (study, (pid, name, date, acc)) in enumerate(people.items()):
        e = entry(study, u(52, n), u(52, n, 1), patient_id=pid, name=name, date=date, accession=acc)
        aws_adapters.index.add_instance(e, replace=False)

    def found(keys: StudyKeys) -> set[str]:
        return {s.study_uid for s in aws_adapters.index.find_studies(keys)}

    assert found(StudyKeys(patient_id="PAT-2")) == {u(51, 2)}
    assert found(StudyKeys(accession_number="ACC-3")) == {u(51, 3)}
    assert found(StudyKeys(study_date=("20240201", "20241231"))) == {u(51, 2)}
    assert found(StudyKeys(study_date=("20240301", "99991231"))) == {u(51, 2), u(51, 3)}
    assert found(StudyKeys(patient_name_prefix=normalize_name("do"))) == {u(51, 1), u(51, 2)}
    assert found(StudyKeys(patient_name_prefix=normalize_name("doe^"))) == {u(51, 1)}
    assert found(StudyKeys(study_date=("20250101", "20240101"))) == set()


def test_frame_tables_keep_items_under_the_size_limit(aws_adapters: Adapters) -> None:
    packed = entry(STUDY, SERIES, u(50, 1, 1), frames=encapsulated_frames(50_000))
    huge = entry(STUDY, SERIES, u(50, 1, 2), frames=encapsulated_frames(60_000, 3))
    for e in (packed, huge):
        assert aws_adapters.index.add_instance(e, replace=False).outcome is AddOutcome.CREATED

    item = raw_item(aws_adapters, f"SERIES#{SERIES}#SOP#{u(50, 1, 1)}")
    assert "frames_z" in item and len(item["frames_z"]["B"]) < 300 * 1024
    assert aws_adapters.index.get_instance(STUDY, SERIES, u(50, 1, 1)) == packed.instance

    dropped = aws_adapters.index.get_instance(STUDY, SERIES, u(50, 1, 2))
    assert dropped is not None
    assert dropped.frames is None, "too large to index: retrieval reads the object instead"
    assert dropped == huge.instance.__class__(**{**huge.instance.__dict__, "frames": None})


def test_partitions_larger_than_one_query_page_are_read_whole(aws_adapters: Adapters) -> None:
    bulky = {f"0009{n:04X}": {"vr": "LT", "Value": ["x" * 1000]} for n in range(5)}
    for n in range(220):
        e = entry(STUDY, SERIES, u(50, 1, n))
        e.instance.attrs.update(bulky)
        aws_adapters.index.add_instance(e, replace=False)
    assert aws_adapters.calls is not None
    aws_adapters.calls.reset()
    partition = aws_adapters.index.study_partition(STUDY)
    assert partition is not None
    assert len(partition.instances) == 220
    assert aws_adapters.calls.counts["Query"] >= 2, "more than 1 MB: several pages"


def race_before(adapters: Adapters, operation: str, nth: int, action: Any) -> None:
    """Run ``action`` just before the ``nth`` call of ``operation`` by the index's client."""
    seen = 0

    def hook(**_: Any) -> None:
        nonlocal seen
        seen += 1
        if seen == nth:
            action()

    dynamo(adapters).client.meta.events.register(f"before-call.dynamodb.{operation}", hook)


def test_losing_the_race_to_create_a_series_still_counts_it_once(
    aws_adapters: Adapters,
) -> None:
    rival = aws_adapters.open_index()
    theirs = entry(STUDY, SERIES, u(50, 1, 2))
    # our first guess (series exists) fails; before our second (create it), a rival creates it
    race_before(
        aws_adapters, "TransactWriteItems", 2, lambda: rival.add_instance(theirs, replace=False)
    )
    result = aws_adapters.index.add_instance(entry(STUDY, SERIES, u(50, 1, 1)), replace=False)
    assert result.outcome is AddOutcome.CREATED
    study = aws_adapters.index.get_study(STUDY)
    assert study is not None
    assert (study.series_count, study.instance_count) == (1, 2)
    found = aws_adapters.index.series_partition(STUDY, SERIES)
    assert found is not None and found[0].instance_count == 2


def test_an_add_during_a_removal_is_not_lost(aws_adapters: Adapters) -> None:
    for n in (1, 2):
        aws_adapters.index.add_instance(entry(STUDY, SERIES, u(50, 1, n)), replace=False)
    rival = aws_adapters.open_index()
    late = entry(STUDY, SERIES, u(50, 1, 3), sop_class=BASIC_TEXT_SR)
    # between the recomputation's Query and its write, another instance arrives
    race_before(
        aws_adapters, "TransactWriteItems", 1, lambda: rival.add_instance(late, replace=False)
    )
    aws_adapters.index.remove_instances(STUDY, SERIES, u(50, 1, 1))
    study = aws_adapters.index.get_study(STUDY)
    assert study is not None
    assert (study.series_count, study.instance_count) == (1, 2)
    assert study.sop_classes == tuple(sorted((CT_IMAGE, BASIC_TEXT_SR)))
    found = aws_adapters.index.series_partition(STUDY, SERIES)
    assert found is not None and found[0].instance_count == 2


def test_key_prefix_is_applied_and_hidden(aws_adapters: Adapters) -> None:
    plain = aws_adapters.blobs
    assert isinstance(plain, S3BlobStore)
    scoped = S3BlobStore(BUCKET, client=plain.client, prefix="tenant-a/")
    scoped.put(
        "studies/1/x.dcm", b"abc", sha256=hashlib.sha256(b"abc").hexdigest(), overwrite=False
    )
    assert plain.get("tenant-a/studies/1/x.dcm") == b"abc"
    assert list(scoped.list_keys("studies/")) == ["studies/1/x.dcm"]
    assert list(plain.list_keys("studies/")) == []
    info = scoped.head("studies/1/x.dcm")
    assert info is not None and info.sha256 == hashlib.sha256(b"abc").hexdigest()
