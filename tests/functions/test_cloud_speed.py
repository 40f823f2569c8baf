"""Frames and metadata at cloud speed (DESIGN.md §5), counted in AWS requests under moto.

botocore's ``before-call`` fires once per request, so these are exact request counts (not
timings): a frame is one ranged S3 GET; warm series metadata is one index Query and one S3
GET; the cold first load costs one GET of the (absent) cache, one ranged GET per instance
header and one PUT of the cache. The cache stays right when ingests race with its rebuild.
"""

from __future__ import annotations

import io
import json
import threading
from collections import Counter
from typing import Any

import httpx
import pydicom
from pydicom.uid import generate_uid

from cloudpacs.runtime import build_services
from tests.support.aws_world import AwsWorld
from tests.support.lambda_api import BASE_URL, LambdaApi, LambdaTransport
from tests.support.multipart_body import stow_body
from tests.support.synthetic import ct_instance

N = 12
S3_READS = ("s3:GetObject", "s3:HeadObject")


def _series(client: httpx.Client, count: int = N) -> tuple[str, str, list[str]]:
    study, series = generate_uid(), generate_uid()
    objects = [
        ct_instance(study, series, n + 1, rows=32, columns=32, frames=3) for n in range(count)
    ]
    body, headers = stow_body(objects)
    assert client.post("/studies", content=body, headers=headers).status_code == 200
    sops = [
        str(pydicom.dcmread(io.BytesIO(o), stop_before_pixels=True).SOPInstanceUID) for o in objects
    ]
    return study, series, sops


def _counts(world: AwsWorld) -> Counter[str]:
    return Counter(world.log.names())


def test_a_frame_is_one_ranged_get(world: AwsWorld, api: LambdaApi) -> None:
    client = httpx.Client(transport=LambdaTransport(api), base_url=BASE_URL)
    study, series, sops = _series(client, 2)
    world.log.take()
    frame = client.get(
        f"/studies/{study}/series/{series}/instances/{sops[0]}/frames/2",
        headers={"Accept": 'multipart/related; type="application/octet-stream"; transfer-syntax=*'},
    )
    assert frame.status_code == 200
    calls = world.log.take()
    s3 = [(name, params) for name, params in calls if name.startswith("s3:")]
    assert [name for name, _ in s3] == ["s3:GetObject"]
    assert s3[0][1]["headers"]["Range"] == f"bytes={_frame_offset(study, series, sops[0], 2)}"
    others = Counter(name for name, _ in calls if not name.startswith("logs:"))
    assert others == {"dynamodb:GetItem": 1, "s3:GetObject": 1}


def _frame_offset(study: str, series: str, sop: str, number: int) -> str:
    from cloudpacs.settings import settings_from_environment

    services = build_services(settings_from_environment())
    rec = services.index.get_instance(study, series, sop)
    assert rec is not None and rec.frames is not None
    [(offset, length)] = rec.frames.ranges(number)
    return f"{offset}-{offset + length - 1}"


def test_series_metadata_warm_is_at_most_two_s3_reads(world: AwsWorld, api: LambdaApi) -> None:
    client = httpx.Client(transport=LambdaTransport(api), base_url=BASE_URL)
    study, series, _ = _series(client)
    world.log.take()
    path = f"/studies/{study}/series/{series}/metadata"
    first = client.get(path)
    assert first.status_code == 200 and len(first.json()) == N
    cold = {k: v for k, v in _counts(world).items() if not k.startswith("logs:")}
    assert cold == {
        "dynamodb:Query": 1,
        "s3:GetObject": 1 + N,  # the absent cache, then one ranged GET per instance header
        "s3:PutObject": 1,  # the cache, next to the series' objects
    }
    for _ in range(3):
        warm = client.get(path)
        assert warm.json() == first.json()
        counts = _counts(world)
        assert sum(counts[name] for name in S3_READS) <= 2
        assert {k: v for k, v in counts.items() if not k.startswith("logs:")} == {
            "dynamodb:Query": 1,
            "s3:GetObject": 1,
        }


def test_the_cache_is_right_when_ingests_race_its_rebuild(world: AwsWorld) -> None:
    """Two ingests into one series while the metadata cache is being built: each bumps the
    series revision in the same atomic index write that adds the instance, so a cache built
    from an older view carries an older revision and is rebuilt on the next read."""
    from cloudpacs.settings import settings_from_environment

    services = build_services(settings_from_environment())
    study, series = generate_uid(), generate_uid()
    first = ct_instance(study, series, 1, rows=8, columns=8)
    assert services.ingest.store(first).ok
    racing = [ct_instance(study, series, n, rows=8, columns=8) for n in (2, 3)]
    index = services.retrieve.index
    original = index.series_partition
    raced = threading.Event()

    def partition_then_race(study_uid: str, series_uid: str) -> Any:
        view = original(study_uid, series_uid)
        if not raced.is_set():
            raced.set()
            threads = [threading.Thread(target=services.ingest.store, args=(o,)) for o in racing]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        return view

    index.series_partition = partition_then_race  # type: ignore[method-assign]
    stale = services.retrieve.metadata(study, series)
    index.series_partition = original  # type: ignore[method-assign]
    assert len(pydicom_json(stale)) == 1  # built from the view before the race
    fresh = services.retrieve.metadata(study, series)
    assert len(pydicom_json(fresh)) == 3
    assert services.retrieve.metadata(study, series) == fresh  # and now served warm


def test_a_view_newer_than_its_revision_is_rebuilt_too(world: AwsWorld) -> None:
    """The other interleaving: the series item (sorted first in the partition) is read before
    an ingest commits, the instance items after, so the view holds an instance its revision
    does not count. The cache it writes is tagged with the older revision: rebuilt next time."""
    from cloudpacs.settings import settings_from_environment

    services = build_services(settings_from_environment())
    study, series = generate_uid(), generate_uid()
    objects = [ct_instance(study, series, n, rows=8, columns=8) for n in (1, 2)]
    assert services.ingest.store(objects[0]).ok
    before = services.index.series_partition(study, series)
    assert before is not None
    assert services.ingest.store(objects[1]).ok
    after = services.index.series_partition(study, series)
    assert after is not None and after[0].revision > before[0].revision
    mixed = services.retrieve._series_metadata(before[0], after[1])
    assert len(pydicom_json(mixed)) == 2
    world.log.take()
    again = services.retrieve.metadata(study, series)
    assert pydicom_json(again) == pydicom_json(mixed)
    assert world.log.names().count("s3:PutObject") == 1  # rebuilt under the new revision


def pydicom_json(body: bytes) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = json.loads(body)
    return items
