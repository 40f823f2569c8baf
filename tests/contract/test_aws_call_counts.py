"""AWS request budget of the DynamoDB index (DESIGN.md §4): calls counted with botocore
event hooks on the adapter's own client. These count requests; they do not time anything.

- ``add_instance``: at most 2 write requests, 1 in the steady state (instance into an
  existing series);
- ``study_partition`` / ``series_partition``: exactly 1 Query;
- no Scan, anywhere (``conftest.AwsCalls`` refuses one in every AWS test; the last test
  here runs every Index operation and checks the tally).
"""

from __future__ import annotations

from collections import Counter

import pytest

from cloudpacs.dicom.names import normalize_name
from cloudpacs.model import AddOutcome, StudyKeys

from .conftest import Adapters, AwsCalls
from .records import entry
from .records import uid as u

STUDY = u(40)
SERIES = u(40, 1)


@pytest.fixture
def aws(aws_adapters: Adapters) -> Adapters:
    aws_adapters.index.add_instance(entry(STUDY, SERIES, u(40, 1, 1)), replace=False)
    assert aws_adapters.calls is not None
    aws_adapters.calls.reset()
    return aws_adapters


def tally(adapters: Adapters) -> AwsCalls:
    assert adapters.calls is not None
    return adapters.calls


def measured(adapters: Adapters) -> Counter[str]:
    counts = Counter(tally(adapters).counts)
    tally(adapters).reset()
    return counts


def test_steady_state_add_is_one_write(aws: Adapters) -> None:
    for n in range(2, 6):
        result = aws.index.add_instance(entry(STUDY, SERIES, u(40, 1, n)), replace=False)
        assert result.outcome is AddOutcome.CREATED
        assert tally(aws).writes() == 1
        assert measured(aws) == Counter({"TransactWriteItems": 1})


@pytest.mark.parametrize("where", ["new series", "new study"])
def test_first_of_series_is_at_most_two_writes(aws: Adapters, where: str) -> None:
    study = STUDY if where == "new series" else u(41)
    result = aws.index.add_instance(entry(study, u(41, 1), u(41, 1, 1)), replace=False)
    assert result.outcome is AddOutcome.CREATED
    assert tally(aws).writes() <= 2
    assert measured(aws) == Counter({"TransactWriteItems": 2})


def test_duplicate_is_one_cancelled_write_and_no_read(aws: Adapters) -> None:
    result = aws.index.add_instance(entry(STUDY, SERIES, u(40, 1, 1), version=2), replace=False)
    assert result.outcome is AddOutcome.EXISTS
    assert measured(aws) == Counter({"TransactWriteItems": 1})


def test_replace_is_one_read_and_one_write(aws: Adapters) -> None:
    result = aws.index.add_instance(entry(STUDY, SERIES, u(40, 1, 1), version=2), replace=True)
    assert result.outcome is AddOutcome.REPLACED
    assert measured(aws) == Counter({"GetItem": 1, "TransactWriteItems": 1})


def test_replace_of_an_absent_instance_is_at_most_two_writes(aws: Adapters) -> None:
    aws.index.add_instance(entry(STUDY, u(40, 2), u(40, 2, 1)), replace=True)
    assert tally(aws).writes() <= 2


def test_partitions_are_one_query_each(aws: Adapters) -> None:
    assert aws.index.study_partition(STUDY) is not None
    assert measured(aws) == Counter({"Query": 1})
    assert aws.index.series_partition(STUDY, SERIES) is not None
    assert measured(aws) == Counter({"Query": 1})


def test_study_searches_are_one_gsi_query_and_one_batch_read(aws: Adapters) -> None:
    for keys in (
        StudyKeys(patient_id="PAT-1"),
        StudyKeys(accession_number="ACC-1"),
        StudyKeys(study_date=("20240101", "20240131")),
        StudyKeys(patient_name_prefix=normalize_name("Doe")),
        StudyKeys(),
    ):
        assert [s.study_uid for s in aws.index.find_studies(keys)] == [STUDY]
        assert measured(aws) == Counter({"Query": 1, "BatchGetItem": 1})
    assert [s.study_uid for s in aws.index.find_studies(StudyKeys(study_uids=(STUDY,)))]
    assert measured(aws) == Counter({"BatchGetItem": 1})


def test_locating_is_one_query(aws: Adapters) -> None:
    assert aws.index.locate_series(SERIES) == STUDY
    assert measured(aws) == Counter({"Query": 1})
    assert aws.index.locate_instance(u(40, 1, 1)) == (STUDY, SERIES)
    assert measured(aws) == Counter({"Query": 1})


def test_removing_an_instance(aws: Adapters) -> None:
    aws.index.add_instance(entry(STUDY, SERIES, u(40, 1, 2)), replace=False)
    tally(aws).reset()
    aws.index.remove_instances(STUDY, SERIES, u(40, 1, 2))
    assert measured(aws) == Counter(
        {"GetItem": 1, "BatchWriteItem": 1, "Query": 1, "TransactWriteItems": 1}
    )


def test_no_operation_scans(aws: Adapters) -> None:
    index = aws.index
    index.add_instance(entry(STUDY, SERIES, u(40, 1, 2)), replace=False)
    index.add_instance(entry(STUDY, SERIES, u(40, 1, 2), version=2), replace=True)
    index.add_instance(entry(STUDY, u(40, 2), u(40, 2, 1)), replace=False)
    index.get_instance(STUDY, SERIES, u(40, 1, 1))
    index.get_study(STUDY)
    index.get_studies([STUDY, u(49)])
    index.study_partition(STUDY)
    index.series_partition(STUDY, SERIES)
    for keys in (
        StudyKeys(study_uids=(STUDY,)),
        StudyKeys(patient_id="PAT-1"),
        StudyKeys(accession_number="ACC-1"),
        StudyKeys(study_date=("", "20240131")),
        StudyKeys(patient_name_prefix="doe"),
        StudyKeys(),
    ):
        list(index.find_studies(keys))
    index.locate_series(SERIES)
    index.locate_instance(u(40, 1, 1))
    index.remove_instances(STUDY, SERIES, u(40, 1, 2))
    index.remove_instances(STUDY, u(40, 2))
    index.remove_instances(STUDY)
    counts = measured(aws)
    assert counts["Scan"] == 0
    assert counts["Query"] > 0 and counts["TransactWriteItems"] > 0
