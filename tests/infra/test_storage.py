"""Storage: encryption with rotated customer keys, TLS-only private buckets with access logs
and lifecycle, the index with the adapter's keys, recovery and backups, the ingest queue."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match

from cloudpacs.adapters.aws.table_schema import create_table_kwargs
from stacks.work_queue import MAX_RECEIVE_COUNT
from tests.infra.support import STAGES, Synthesized, only, resources


@pytest.mark.parametrize("stage", STAGES)
def test_keys_rotate(synthesized: Synthesized, stage: str) -> None:
    keys = resources(synthesized.template_json(stage, "Storage"), "AWS::KMS::Key")
    assert len(keys) == 3  # data, logs, inbox queues
    assert all(key["Properties"]["EnableKeyRotation"] for key in keys.values())


@pytest.mark.parametrize("stage", STAGES)
def test_buckets_private_versioned_tls_only(synthesized: Synthesized, stage: str) -> None:
    template = synthesized.template_json(stage, "Storage")
    buckets = resources(template, "AWS::S3::Bucket")
    assert len(buckets) == 3
    for bucket in buckets.values():
        props = bucket["Properties"]
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    for policy in resources(template, "AWS::S3::BucketPolicy").values():
        denies = [
            s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Deny"
        ]
        conditions = [s["Condition"] for s in denies]
        assert {"Bool": {"aws:SecureTransport": "false"}} in conditions
        assert {"NumericLessThan": {"s3:TlsVersion": 1.2}} in conditions


@pytest.mark.parametrize("stage", STAGES)
def test_data_buckets_use_the_data_key_and_log_access(synthesized: Synthesized, stage: str) -> None:
    template = synthesized.template(stage, "Storage")
    for name in (f"cloudpacs-{stage}-dicom-", f"cloudpacs-{stage}-inbox-"):
        template.has_resource_properties(
            "AWS::S3::Bucket",
            {
                "BucketName": Match.string_like_regexp(f"^{name}"),
                "BucketEncryption": {
                    "ServerSideEncryptionConfiguration": [
                        {
                            "BucketKeyEnabled": True,
                            "ServerSideEncryptionByDefault": {
                                "SSEAlgorithm": "aws:kms",
                                "KMSMasterKeyID": Match.any_value(),
                            },
                        }
                    ]
                },
                "LoggingConfiguration": {
                    "DestinationBucketName": Match.any_value(),
                    "LogFilePrefix": Match.any_value(),
                },
            },
        )


@pytest.mark.parametrize("stage", STAGES)
def test_lifecycle_follows_settings(synthesized: Synthesized, stage: str) -> None:
    settings = synthesized.settings.stages[stage]
    glacier = settings.glacier_instant_retrieval_after_days
    synthesized.template(stage, "Storage").has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": Match.string_like_regexp(f"^cloudpacs-{stage}-dicom-"),
            "LifecycleConfiguration": {
                "Rules": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Transitions": [
                                    {
                                        "StorageClass": "STANDARD_IA",
                                        "TransitionInDays": settings.infrequent_access_after_days,
                                    },
                                    {
                                        "StorageClass": "GLACIER_IR",
                                        "TransitionInDays": glacier,
                                    },
                                ],
                                "NoncurrentVersionExpiration": {
                                    "NoncurrentDays": settings.noncurrent_version_expiry_days
                                },
                            }
                        )
                    ]
                ),
            },
        },
    )
    synthesized.template(stage, "Storage").has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketName": Match.string_like_regexp(f"^cloudpacs-{stage}-inbox-"),
            "LifecycleConfiguration": {
                "Rules": [Match.object_like({"ExpirationInDays": settings.inbox_expiry_days})]
            },
        },
    )


@pytest.mark.parametrize("stage", STAGES)
@pytest.mark.parametrize("name", ["index", "research"])
def test_index_table_matches_the_adapter_layout(
    synthesized: Synthesized, stage: str, name: str
) -> None:
    """The archive's index and the research copy's have the adapter's layout."""
    table = _table(synthesized.template_json(stage, "Storage"), name)["Properties"]
    expected = create_table_kwargs(f"cloudpacs-{stage}-{name}")
    assert table["TableName"] == expected["TableName"]
    assert table["BillingMode"] == expected["BillingMode"]
    assert table["KeySchema"] == expected["KeySchema"]
    assert sorted(table["AttributeDefinitions"], key=lambda a: a["AttributeName"]) == sorted(
        expected["AttributeDefinitions"], key=lambda a: a["AttributeName"]
    )
    by_name = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert by_name == {index["IndexName"]: index for index in expected["GlobalSecondaryIndexes"]}
    assert table["SSESpecification"] == {
        "SSEEnabled": True,
        "SSEType": "KMS",
        "KMSMasterKeyId": table["SSESpecification"]["KMSMasterKeyId"],
    }
    recovery = table["PointInTimeRecoverySpecification"]
    assert recovery["PointInTimeRecoveryEnabled"] is True
    assert recovery["RecoveryPeriodInDays"] == min(
        35, synthesized.settings.stages[stage].backup_retention_days
    )


def test_prod_data_is_retained_and_protected(synthesized: Synthesized) -> None:
    prod = synthesized.template_json("prod", "Storage")
    for kind in ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::KMS::Key"):
        for resource in resources(prod, kind).values():
            assert resource["DeletionPolicy"] == "Retain", kind
    for table in resources(prod, "AWS::DynamoDB::Table").values():
        assert table["Properties"]["DeletionProtectionEnabled"] is True
    dev = synthesized.template_json("dev", "Storage")
    assert _table(dev, "index")["DeletionPolicy"] == "Delete"


def _table(template: dict[str, Any], name: str) -> dict[str, Any]:
    (table,) = [
        t
        for t in resources(template, "AWS::DynamoDB::Table").values()
        if t["Properties"]["TableName"].endswith(f"-{name}")
    ]
    return table


@pytest.mark.parametrize("stage", STAGES)
def test_index_is_in_a_backup_plan(synthesized: Synthesized, stage: str) -> None:
    template = synthesized.template_json(stage, "Storage")
    plan = only(template, "AWS::Backup::BackupPlan")["Properties"]["BackupPlan"]
    retention = synthesized.settings.stages[stage].backup_retention_days
    assert plan["BackupPlanRule"][0]["Lifecycle"] == {"DeleteAfterDays": retention}
    selection = only(template, "AWS::Backup::BackupSelection")["Properties"]["BackupSelection"]
    table_ids = list(resources(template, "AWS::DynamoDB::Table"))  # index, research copy
    assert selection["Resources"] == [{"Fn::GetAtt": [t, "Arn"]} for t in table_ids]
    assert "EncryptionKeyArn" in only(template, "AWS::Backup::BackupVault")["Properties"]


@pytest.mark.parametrize("stage", STAGES)
def test_ingest_queue_has_dead_letters_and_outlasts_the_function(
    synthesized: Synthesized, stage: str
) -> None:
    queues = resources(synthesized.template_json(stage, "Storage"), "AWS::SQS::Queue")
    main = [q["Properties"] for q in queues.values() if "RedrivePolicy" in q["Properties"]]
    assert len(main) == 1
    assert main[0]["RedrivePolicy"]["maxReceiveCount"] == MAX_RECEIVE_COUNT
    timeout = synthesized.settings.stages[stage].ingest_timeout_seconds
    assert main[0]["VisibilityTimeout"] > timeout
    assert all("KmsMasterKeyId" in q["Properties"] for q in queues.values())


@pytest.mark.parametrize("stage", STAGES)
def test_inbox_notifies_the_ingest_queue(synthesized: Synthesized, stage: str) -> None:
    notification = only(
        synthesized.template_json(stage, "Storage"), "Custom::S3BucketNotifications"
    )
    config = notification["Properties"]["NotificationConfiguration"]
    assert [q["Events"] for q in config["QueueConfigurations"]] == [["s3:ObjectCreated:*"]]


@pytest.mark.parametrize("stage", STAGES)
def test_audit_log_group(synthesized: Synthesized, stage: str) -> None:
    settings = synthesized.settings.stages[stage]
    synthesized.template(stage, "Storage").has_resource_properties(
        "AWS::Logs::LogGroup",
        {
            "LogGroupName": f"/cloudpacs/{stage}/audit",
            "RetentionInDays": settings.audit_log_retention_days,
            "KmsKeyId": Match.any_value(),
        },
    )
