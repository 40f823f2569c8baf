"""What the paths for large objects need from the stacks (DESIGN.md §5): assembled
WADO responses expire and are reachable by wado only, upload records expire, and the ingest
function knows how many deliveries SQS makes before the dead-letter queue."""

from __future__ import annotations

import pytest

from stacks.work_queue import MAX_RECEIVE_COUNT
from tests.infra.support import STAGES, Synthesized, resources


@pytest.mark.parametrize("stage", STAGES)
def test_assembled_responses_expire(synthesized: Synthesized, stage: str) -> None:
    template = synthesized.template_json(stage, "Storage")
    rules = [
        rule
        for bucket in resources(template, "AWS::S3::Bucket").values()
        if "-dicom-" in str(bucket["Properties"].get("BucketName"))
        for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    ]
    [responses] = [rule for rule in rules if rule.get("Prefix") == "responses/"]
    assert responses["Status"] == "Enabled"
    assert responses["ExpirationInDays"] == 1
    assert responses["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}


@pytest.mark.parametrize("stage", STAGES)
def test_upload_records_expire(synthesized: Synthesized, stage: str) -> None:
    template = synthesized.template_json(stage, "Storage")
    [table] = [
        table
        for table in resources(template, "AWS::DynamoDB::Table").values()
        if str(table["Properties"].get("TableName", "")).endswith("-index")
    ]
    assert table["Properties"]["TimeToLiveSpecification"] == {
        "AttributeName": "expires_at",
        "Enabled": True,
    }


@pytest.mark.parametrize("stage", STAGES)
def test_functions_get_the_large_object_settings(synthesized: Synthesized, stage: str) -> None:
    template = synthesized.template_json(stage, "Api")
    env = {
        fn["Properties"]["FunctionName"].rsplit("-", 1)[1]: fn["Properties"]["Environment"][
            "Variables"
        ]
        for fn in resources(template, "AWS::Lambda::Function").values()
        if str(fn["Properties"].get("FunctionName", "")).startswith("cloudpacs-")
    }
    assert env["ingest"]["CLOUDPACS_INGEST_MAX_RECEIVES"] == str(MAX_RECEIVE_COUNT)
    for name in ("qido", "wado", "stow", "ingest"):
        assert env[name]["CLOUDPACS_BACKEND"] == "aws"
        assert env[name]["CLOUDPACS_INBOX_BUCKET_NAME"]
        assert env[name]["POWERTOOLS_METRICS_NAMESPACE"] == "cloudpacs"


@pytest.mark.parametrize("stage", STAGES)
def test_responses_are_read_and_written_by_wado_and_deleted_by_stow(
    synthesized: Synthesized, stage: str
) -> None:
    from tests.infra.test_iam import function_permissions

    grants = function_permissions(synthesized.template_json(stage, "Api"))
    on_responses = {
        name: {action for action, resource in pairs if "/responses/*" in resource}
        for name, pairs in grants.items()
    }
    assert on_responses["wado"] == {"s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"}
    assert on_responses["stow"] == {"s3:DeleteObject"}
    assert on_responses["qido"] == on_responses["ingest"] == set()
