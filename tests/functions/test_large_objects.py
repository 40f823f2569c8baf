"""Objects larger than API Gateway and Lambda can carry (DESIGN.md §5): a 20 MB multi-frame
instance goes in through the upload path and comes out whole through WADO-RS with
dicomweb-client, on the Lambda handlers (moto) and on the live local server."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pydicom
import pytest
import requests
from dicomweb_client.api import DICOMwebClient
from pydicom.uid import generate_uid

from cloudpacs.services.uploads_model import inbox_key
from tests.support.aws_world import AwsWorld, deliver_inbox
from tests.support.lambda_api import BASE_URL, LambdaApi, LambdaTransport, requests_session
from tests.support.lambda_events import HOST, LambdaContext, claims, s3_created_body, sqs_event
from tests.support.redirect_session import RedirectSafeSession
from tests.support.server import live_server
from tests.support.synthetic import ct_instance
from tests.support.upload_flow import start_upload

FRAMES = 40  # 512 x 512 x 16 bit: 20 MiB of pixel data


@pytest.fixture(scope="module")
def big() -> tuple[str, str, str, bytes]:
    study, series = generate_uid(), generate_uid()
    data = ct_instance(study, series, 1, frames=FRAMES)
    sop = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True).SOPInstanceUID
    assert len(data) > 20 * 10**6
    return study, series, str(sop), data


@pytest.fixture
def client(api: LambdaApi) -> Iterator[httpx.Client]:
    api.claims = claims("pacs.admin", groups="admin")
    with httpx.Client(transport=LambdaTransport(api), base_url=BASE_URL, timeout=120) as http:
        yield http


def _uploaded(world: AwsWorld, handlers: dict[str, Any], client: httpx.Client, data: bytes) -> str:
    upload_id = start_upload(client, data)
    assert world.inbox_keys() == [inbox_key(upload_id)]
    assert client.get(f"/uploads/{upload_id}").status_code == 202
    answers = deliver_inbox(world, handlers["ingest"])
    assert all(a == {"batchItemFailures": []} for a in answers)
    return upload_id


def test_20_mb_multiframe_in_through_uploads_and_out_through_wado(
    world: AwsWorld,
    handlers: dict[str, Any],
    api: LambdaApi,
    client: httpx.Client,
    big: tuple[str, str, str, bytes],
) -> None:
    study, series, sop, data = big
    created = client.post("/uploads", json={"size": len(data)}).json()
    assert created["method"] == "multipart" and len(created["parts"]) == 3  # 8 MiB parts here
    upload_id = _uploaded(world, handlers, client, data)
    done = client.get(f"/uploads/{upload_id}")
    assert done.status_code == 200
    assert done.json()["00081199"]["Value"][0]["00081155"]["Value"] == [sop]
    assert world.inbox_keys() == []  # removed after ingest
    assert world.queue_depth(world.queue_url) == 0 and world.queue_depth(world.dlq_url) == 0

    # Out: too large for a Lambda response, so WADO answers 303 to a presigned S3 URL.
    session = RedirectSafeSession()
    session.mount(f"https://{HOST}/", requests_session(api).get_adapter(f"https://{HOST}/"))
    session.headers["Authorization"] = "Bearer token-for-the-api"
    hops: list[tuple[int, str, str | None]] = []
    session.hooks["response"].append(
        lambda r, *a, **k: hops.append(
            (r.status_code, r.url.split("/")[2], r.request.headers.get("Authorization"))
        )
    )
    dicomweb = DICOMwebClient(url=BASE_URL, session=session)
    instance = dicomweb.retrieve_instance(study, series, sop)
    assert instance.PixelData == pydicom.dcmread(io.BytesIO(data)).PixelData
    assert hops[0][:2] == (303, HOST)
    assert hops[-1][0] == 200 and "s3" in hops[-1][1]
    assert hops[-1][2] is None  # requests drops Authorization on a cross-host redirect
    [streamed] = list(
        DICOMwebClient(url=BASE_URL, session=requests_session(api)).iter_series(study, series)
    )
    assert streamed.SOPInstanceUID == sop and len(streamed.PixelData) == len(instance.PixelData)
    frame = dicomweb.retrieve_instance_frames(study, series, sop, [FRAMES])
    assert frame[0] == instance.PixelData[-512 * 512 * 2 :]


def test_dicomweb_clients_default_session_keeps_its_host_header_on_redirect(
    world: AwsWorld,
    handlers: dict[str, Any],
    api: LambdaApi,
    client: httpx.Client,
    big: tuple[str, str, str, bytes],
) -> None:
    """Why RedirectSafeSession exists (decision 0001): with a plain session, dicomweb-client's
    explicit ``Host`` header follows the redirect and S3 refuses the signature."""
    study, series, sop, data = big
    _uploaded(world, handlers, client, data)
    plain = DICOMwebClient(url=BASE_URL, session=requests_session(api))
    with pytest.raises(requests.HTTPError) as refused:
        plain.retrieve_instance(study, series, sop)
    assert refused.value.response.status_code == 403
    assert "SignatureDoesNotMatch" in refused.value.response.text


def test_single_part_redirect_is_the_stored_object(
    world: AwsWorld,
    handlers: dict[str, Any],
    client: httpx.Client,
    big: tuple[str, str, str, bytes],
) -> None:
    study, series, sop, data = big
    _uploaded(world, handlers, client, data)
    path = f"/studies/{study}/series/{series}/instances/{sop}"
    redirect = client.get(path, headers={"Accept": "application/dicom"})
    assert redirect.status_code == 303
    assert (
        "/studies/" in redirect.headers["Location"]
        and "X-Amz-Signature" in redirect.headers["Location"]
    )
    fetched = requests.get(redirect.headers["Location"], timeout=60)
    assert fetched.headers["Content-Type"].startswith("application/dicom; transfer-syntax=")
    assert fetched.content == data
    # The assembled multipart body is made once and reused while the series is unchanged.
    first = client.get(
        f"/studies/{study}", headers={"Accept": 'multipart/related; type="application/dicom"'}
    )
    again = client.get(
        f"/studies/{study}", headers={"Accept": 'multipart/related; type="application/dicom"'}
    )
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"].split("?")[0] == again.headers["Location"].split("?")[0]
    # Deleting the study removes the assembled bodies with it.
    assert client.delete(f"/studies/{study}").status_code == 200
    listing = world.s3.list_objects_v2(Bucket=world_bucket(), Prefix="responses/")
    assert listing.get("KeyCount", 0) == 0


def world_bucket() -> str:
    from tests.support.aws_world import BUCKET

    return BUCKET


def test_poison_messages_end_in_the_dead_letter_queue(
    world: AwsWorld, handlers: dict[str, Any]
) -> None:
    world.sqs.send_message(QueueUrl=world.queue_url, MessageBody="this is not an S3 event")
    world.sqs.send_message(
        QueueUrl=world.queue_url,
        MessageBody=json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"}),
    )
    answers = deliver_inbox(world, handlers["ingest"], rounds=10)
    assert [len(a["batchItemFailures"]) for a in answers][:3] == [1, 1, 1]
    assert world.queue_depth(world.queue_url) == 0
    assert world.queue_depth(world.dlq_url) == 1
    [dead] = world.sqs.receive_message(QueueUrl=world.dlq_url)["Messages"]
    assert dead["Body"] == "this is not an S3 event"


def test_a_failing_ingest_is_retried_then_recorded_as_failed(
    world: AwsWorld, handlers: dict[str, Any], client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = ct_instance(generate_uid(), generate_uid(), 1, rows=8, columns=8)
    upload_id = start_upload(client, data)
    from cloudpacs.services.uploads import UploadService

    original = UploadService._ingest

    def unavailable(self: UploadService, record: Any, body: bytes) -> Any:
        raise ConnectionError("the index is unreachable")

    monkeypatch.setattr(UploadService, "_ingest", unavailable)
    answers = deliver_inbox(world, handlers["ingest"])
    assert [len(a["batchItemFailures"]) for a in answers] == [1, 1, 1]
    failed = client.get(f"/uploads/{upload_id}")
    assert failed.status_code == 500
    assert "ingest failed 3 time(s): the index is unreachable" in failed.json()["error"]
    assert world.queue_depth(world.dlq_url) == 1
    monkeypatch.setattr(UploadService, "_ingest", original)


def test_an_event_for_an_unknown_or_finished_upload_is_acknowledged(
    world: AwsWorld, handlers: dict[str, Any], client: httpx.Client
) -> None:
    data = ct_instance(generate_uid(), generate_uid(), 1, rows=8, columns=8)
    upload_id = _uploaded(world, handlers, client, data)
    from tests.support.aws_world import INBOX

    repeat = sqs_event(
        [
            s3_created_body(INBOX, inbox_key(upload_id), len(data)),
            s3_created_body(INBOX, "elsewhere/x", 1),
        ]
    )
    assert handlers["ingest"](repeat, LambdaContext("ingest")) == {"batchItemFailures": []}
    assert client.get(f"/uploads/{upload_id}").status_code == 200


def test_the_live_local_server_takes_and_gives_the_same_20_mb(
    tmp_path: Path, big: tuple[str, str, str, bytes]
) -> None:
    study, series, sop, data = big
    with live_server(tmp_path / "data", upload_part_bytes=8 << 20) as (url, services):
        with httpx.Client(base_url=url, timeout=120) as http:
            upload_id = start_upload(http, data)
            assert services.inbox_worker is not None and services.inbox_worker.wait_idle(120)
            done = http.get(f"/uploads/{upload_id}")
            assert done.status_code == 200, done.text
        assert not any((tmp_path / "data" / "inbox" / "uploads").iterdir())
        dicomweb = DICOMwebClient(url=url)
        instance = dicomweb.retrieve_instance(study, series, sop)
        assert instance.PixelData == pydicom.dcmread(io.BytesIO(data)).PixelData


def test_the_ingest_of_an_upload_is_audited_in_the_name_of_its_owner(
    world: AwsWorld, handlers: dict[str, Any], api: LambdaApi
) -> None:
    import boto3

    from tests.support.aws_world import AUDIT_GROUP

    api.claims = claims("tech.jane", groups="technologist,viewer")
    study = generate_uid()
    data = ct_instance(study, generate_uid(), 1, rows=8, columns=8)
    with httpx.Client(transport=LambdaTransport(api), base_url=BASE_URL) as http:
        upload_id = start_upload(http, data)
    deliver_inbox(world, handlers["ingest"])
    logs = boto3.client("logs")
    events = [
        json.loads(e["message"]) for e in logs.filter_log_events(logGroupName=AUDIT_GROUP)["events"]
    ]
    [stored] = [e for e in events if e["request_id"] == upload_id]
    assert stored["action"] == "store" and stored["outcome"] == "success"
    assert stored["entry_point"] == "inbox"
    assert stored["actor"] == "tech.jane" and stored["roles"] == ["technologist", "viewer"]
    assert stored["study_uid"] == study and stored["instance_count"] == 1
    assert any(e["action"] == "upload" and e["actor"] == "tech.jane" for e in events)


def test_an_upload_over_the_limit_is_refused_unread(
    world: AwsWorld, handlers: dict[str, Any], client: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cloudpacs.adapters.aws.s3_inbox import S3Inbox
    from tests.support.aws_world import INBOX

    created = client.post("/uploads", json={"size": 100}).json()
    upload_id = created["uploadId"]
    world.s3.put_object(Bucket=INBOX, Key=inbox_key(upload_id), Body=b"x" * 100)
    world.sqs.purge_queue(QueueUrl=world.queue_url)
    reads: list[str] = []
    monkeypatch.setattr(S3Inbox, "read", lambda self, key: reads.append(key) or b"")
    event = sqs_event([s3_created_body(INBOX, inbox_key(upload_id), 3 * 1024**3)])
    assert handlers["ingest"](event, LambdaContext("ingest")) == {"batchItemFailures": []}
    refused = client.get(f"/uploads/{upload_id}")
    assert refused.status_code == 413 and "exceeds the limit" in refused.json()["error"]
    assert reads == [] and world.inbox_keys() == []
