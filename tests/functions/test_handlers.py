"""Each handler answers the events API Gateway sends (DESIGN.md §5): status, headers, base64
flags and decoded bodies, checked on the raw Lambda response rather than through a client."""

from __future__ import annotations

import base64
import gzip
import importlib
import json
import sys
from typing import Any

import pytest
from pydicom.uid import generate_uid

from cloudpacs.observability import logger
from cloudpacs.settings import SettingsError, settings_from_environment
from tests.support.aws_world import BUCKET, ENVIRONMENT, AwsWorld, environment
from tests.support.lambda_api import LambdaApi
from tests.support.lambda_events import LambdaContext, claims, rest_event
from tests.support.multipart_body import stow_body
from tests.support.multipart_reader import read_parts
from tests.support.synthetic import ct_instance

STUDY_PATH = "/dicom-web/studies/{study}"


def _call(handlers: dict[str, Any], function: str, event: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = handlers[function](event, LambdaContext(function_name=function))
    return result


def _header(result: dict[str, Any], name: str) -> str:
    for key, values in (result.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower():
            return str(values[0])
    for key, value in (result.get("headers") or {}).items():
        if key.lower() == name.lower():
            return str(value)
    raise KeyError(name)


def _stored_study(handlers: dict[str, Any]) -> tuple[str, str, list[bytes]]:
    study, series = generate_uid(), generate_uid()
    objects = [ct_instance(study, series, n, rows=16, columns=16) for n in (1, 2)]
    body, headers = stow_body(objects)
    event = rest_event(
        "POST",
        "/dicom-web/studies",
        resource="/dicom-web/studies",
        headers=[("Content-Type", headers["Content-Type"]), ("Accept", "application/dicom+json")],
        body=body,
    )
    result = _call(handlers, "stow", event)
    assert result["statusCode"] == 200, result
    return study, series, objects


def test_stow_takes_a_base64_multipart_body(handlers: dict[str, Any]) -> None:
    study, _, _ = _stored_study(handlers)
    # STOW's answer is DICOM JSON: text for Mangum, so not base64.
    body, headers = stow_body([ct_instance(study, generate_uid(), 1, rows=8, columns=8)])
    event = rest_event(
        "POST",
        f"/dicom-web/studies/{study}",
        resource=STUDY_PATH,
        path_parameters={"study": study},
        headers=[("Content-Type", headers["Content-Type"])],
        body=body,
    )
    assert event["isBase64Encoded"] is True
    result = _call(handlers, "stow", event)
    assert result["statusCode"] == 200
    assert result["isBase64Encoded"] is False
    assert _header(result, "Content-Type") == "application/dicom+json"
    dataset = json.loads(result["body"])
    assert dataset["00081190"]["Value"] == [
        f"https://{event['headers']['Host']}/dev/dicom-web/studies/{study}"
    ]


def test_qido_reads_repeated_query_keys(handlers: dict[str, Any]) -> None:
    study, _, _ = _stored_study(handlers)
    event = rest_event(
        "GET",
        "/dicom-web/studies",
        resource="/dicom-web/studies",
        query=[
            ("StudyInstanceUID", study),
            ("includefield", "StudyDescription"),
            ("includefield", "00080061"),
        ],
        headers=[("Accept", "application/dicom+json"), ("Accept", "application/json")],
    )
    assert event["queryStringParameters"]["includefield"] == "00080061"
    result = _call(handlers, "qido", event)
    assert result["statusCode"] == 200 and result["isBase64Encoded"] is False
    [found] = json.loads(result["body"])
    assert found["00081030"]["Value"] == ["CT CHEST"] and found["00080061"]["Value"] == ["CT"]
    assert _header(result, "X-Request-Id") == event["requestContext"]["requestId"]
    # Log lines of the invocation carry API Gateway's request id as their correlation id.
    assert logger.get_correlation_id() == event["requestContext"]["requestId"]


def test_wado_answers_binary_bodies_base64_encoded(handlers: dict[str, Any]) -> None:
    study, series, objects = _stored_study(handlers)
    event = rest_event(
        "GET",
        f"/dicom-web/studies/{study}/series/{series}",
        resource="/dicom-web/studies/{study}/series/{series}",
        path_parameters={"study": study, "series": series},
        headers=[("Accept", 'multipart/related; type="application/dicom"; transfer-syntax=*')],
    )
    result = _call(handlers, "wado", event)
    assert result["statusCode"] == 200 and result["isBase64Encoded"] is True
    content_type = _header(result, "Content-Type")
    parts = read_parts(content_type, base64.b64decode(result["body"]))
    assert sorted(p for _, p in parts) == sorted(objects)
    metadata = dict(
        event, path=event["path"] + "/metadata", resource=event["resource"] + "/metadata"
    )
    metadata["multiValueHeaders"] = {"Accept": ["application/dicom+json"]}
    meta = _call(handlers, "wado", metadata)
    assert meta["statusCode"] == 200 and meta["isBase64Encoded"] is False
    assert len(json.loads(meta["body"])) == 2


def test_an_object_deleted_after_the_index_read_is_404(
    world: AwsWorld, handlers: dict[str, Any]
) -> None:
    """The same as on the local server (tests/api/test_object_gone.py), on S3 and DynamoDB."""
    study, series, _ = _stored_study(handlers)
    listed = world.s3.list_objects_v2(Bucket=BUCKET, Prefix=f"studies/{study}/")["Contents"]
    key = next(o["Key"] for o in listed if o["Key"].endswith(".dcm"))
    world.s3.delete_object(Bucket=BUCKET, Key=key)
    sop = key.rsplit("/", 1)[1].removesuffix(".dcm")
    path = f"/dicom-web/studies/{study}/series/{series}/instances/{sop}"
    event = rest_event(
        "GET",
        path,
        resource=STUDY_PATH + "/series/{series}/instances/{instance}",
        path_parameters={"study": study, "series": series, "instance": sop},
        headers=[("Accept", 'multipart/related; type="application/dicom"')],
    )
    result = _call(handlers, "wado", event)
    assert result["statusCode"] == 404, result
    assert "deleted while being read" in json.loads(result["body"])["error"]


def test_roles_come_from_the_authorizer_claims(handlers: dict[str, Any]) -> None:
    study, _, _ = _stored_study(handlers)
    api = LambdaApi(handlers, claims=claims("tech.jane", groups="technologist,viewer"))
    assert api.invoke("DELETE", f"/dev/dicom-web/studies/{study}").status == 403
    viewer = LambdaApi(handlers, claims=claims("view.joe", groups="viewer"))
    body, headers = stow_body([b"x"])
    refused = viewer.invoke(
        "POST", "/dev/dicom-web/studies", headers=list(headers.items()), body=body
    )
    assert refused.status == 403
    assert viewer.invoke("POST", "/dev/dicom-web/uploads", body=b"{}").status == 403
    admin = LambdaApi(handlers, claims=claims("pacs.admin", groups="admin"))
    assert admin.invoke("DELETE", f"/dev/dicom-web/studies/{study}").status == 200


def test_upload_status_is_for_its_owner(handlers: dict[str, Any]) -> None:
    jane = LambdaApi(handlers, claims=claims("tech.jane"))
    created = jane.invoke("POST", "/dev/dicom-web/uploads", body=b'{"size": 1000}')
    assert created.status == 201
    upload_id = json.loads(created.body)["uploadId"]
    assert jane.invoke("GET", f"/dev/dicom-web/uploads/{upload_id}").status == 202
    other = LambdaApi(handlers, claims=claims("tech.john"))
    assert other.invoke("GET", f"/dev/dicom-web/uploads/{upload_id}").status == 404
    admin = LambdaApi(handlers, claims=claims("pacs.admin", groups="admin"))
    assert admin.invoke("GET", f"/dev/dicom-web/uploads/{upload_id}").status == 202


def test_routes_outside_the_stack_table_never_reach_a_function(handlers: dict[str, Any]) -> None:
    api = LambdaApi(handlers)
    # The local inbox's signed endpoints exist only on the embedded server.
    missing = api.invoke("PUT", f"/dev/dicom-web/uploads/{'0' * 32}/content", body=b"x")
    assert missing.status == 403 and api.invocations == []


def test_metrics_are_emitted_as_emf(
    handlers: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    _stored_study(handlers)
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    names = {
        m["Name"]: line
        for line in lines
        for d in line["_aws"]["CloudWatchMetrics"]
        for m in d["Metrics"]
    }
    assert names["InstancesStored"]["InstancesStored"] == [1.0, 1.0]
    assert sum(names["BytesStored"]["BytesStored"]) > 0
    assert names["Latency"]["route"].startswith("POST ")
    assert all(
        d["Namespace"] == "cloudpacs" for line in lines for d in line["_aws"]["CloudWatchMetrics"]
    )


def test_cold_start_names_the_missing_settings() -> None:
    values = {k: v for k, v in ENVIRONMENT.items()}
    values["CLOUDPACS_TABLE_NAME"] = ""
    values["CLOUDPACS_INBOX_BUCKET_NAME"] = ""
    with environment(values):
        settings_from_environment.cache_clear()
        sys.modules.pop("functions.stow.handler", None)
        with pytest.raises(SettingsError, match="CLOUDPACS_TABLE_NAME"):
            importlib.import_module("functions.stow.handler")
        settings_from_environment.cache_clear()
        values["CLOUDPACS_TABLE_NAME"] = "t"
    with environment({**values, "CLOUDPACS_TABLE_NAME": "t"}):
        sys.modules.pop("functions.stow.handler", None)
        with pytest.raises(SettingsError, match="CLOUDPACS_INBOX_BUCKET_NAME"):
            importlib.import_module("functions.stow.handler")
    sys.modules.pop("functions.stow.handler", None)


def test_large_dicom_json_is_gzip_compressed_for_clients_that_accept_it(
    handlers: dict[str, Any],
) -> None:
    study, series = generate_uid(), generate_uid()
    objects = [ct_instance(study, series, n, rows=8, columns=8) for n in range(1, 61)]
    body, headers = stow_body(objects)
    stored = LambdaApi(handlers).invoke(
        "POST", "/dev/dicom-web/studies", headers=list(headers.items()), body=body
    )
    assert stored.status == 200
    path = f"/dicom-web/studies/{study}/series/{series}/metadata"
    resource = "/dicom-web/studies/{study}/series/{series}/metadata"
    params = {"study": study, "series": series}
    for encoding in ("gzip, deflate", None):
        event = rest_event(
            "GET",
            path,
            resource=resource,
            path_parameters=params,
            headers=[("Accept-Encoding", encoding)] if encoding else [],
        )
        if encoding is None:
            event["headers"].pop("Accept-Encoding", None)
            event["multiValueHeaders"].pop("Accept-Encoding", None)
        result = _call(handlers, "wado", event)
        assert result["statusCode"] == 200
        if encoding:
            assert _header(result, "Content-Encoding") == "gzip"
            assert result["isBase64Encoded"] is True
            text = gzip.decompress(base64.b64decode(result["body"]))
        else:
            assert result["isBase64Encoded"] is False
            text = result["body"].encode()
        assert len(json.loads(text)) == 60
    assert len(text) > 64 * 1024


def test_wado_serves_rendered_thumbnails_and_transcoding(
    world: Any, handlers: dict[str, Any]
) -> None:
    from tests.support.aws_world import ENVIRONMENT as env

    study, series, _ = _stored_study(handlers)
    api = LambdaApi(handlers)
    thumbnail = api.invoke(
        "GET",
        f"/dev/dicom-web/studies/{study}/series/{series}/thumbnail",
        query=[("viewport", "8,8")],
    )
    assert thumbnail.status == 200 and thumbnail.body[:2] == b"\xff\xd8"
    assert [function for function, _, _ in api.invocations] == ["wado"]
    cached = world.s3.list_objects_v2(
        Bucket=env["CLOUDPACS_BUCKET_NAME"], Prefix=f"studies/{study}/series/{series}/thumbnails/"
    )
    assert cached["KeyCount"] == 1  # cached in S3 beside the series
    listing = api.invoke("GET", f"/dev/dicom-web/studies/{study}/series/{series}/instances")
    sop = json.loads(listing.body)[0]["00080018"]["Value"][0]
    instance = f"/dev/dicom-web/studies/{study}/series/{series}/instances/{sop}"
    png = api.invoke("GET", instance + "/rendered", headers=[("Accept", "image/png")])
    assert png.status == 200 and png.body[:4] == b"\x89PNG"
    accept = 'multipart/related; type="application/dicom"; transfer-syntax=1.2.840.10008.1.2.5'
    rle = api.invoke("GET", instance, headers=[("Accept", accept)])
    assert rle.status == 200
    [(media, _)] = read_parts(dict(rle.headers)["content-type"], rle.body)
    assert "1.2.840.10008.1.2.5" in media
