"""The inbox: large uploads land here through presigned URLs, then an ObjectCreated event goes
through an SQS queue to the ingest function (DESIGN.md §5).

The queue lives beside the bucket because the bucket's notification configuration refers to the
queue; splitting them across stacks would make the two stacks depend on each other. A message
that fails ``max_receive_count`` times moves to the dead-letter queue, never loops. The
visibility timeout is six times the ingest function's timeout, as AWS advises for SQS event
sources, so a slow ingest is not handed to a second worker while the first still runs.

The queues have their own key: S3 must be allowed to use it for this bucket only, and that
condition names the bucket, which is itself encrypted with the data key; one key for both would
make key and bucket depend on each other.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_notifications as s3n
from constructs import Construct

from stacks.acknowledge import acknowledge
from stacks.storage.buckets import browser_cors, secure_bucket_props
from stacks.work_queue import work_queue


class Inbox(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        bucket_name: str,
        key: kms.IKey,
        access_logs: s3.IBucket,
        expiry_days: int,
        ingest_timeout_seconds: int,
        cors_origins: Sequence[str],
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="inbox/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="uploads-expire",
                    expiration=Duration.days(expiry_days),
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                )
            ],
            # Browsers upload with the presigned PUT (and multipart part) URLs.
            cors=browser_cors([s3.HttpMethods.PUT], cors_origins),
            **secure_bucket_props(removal_policy),  # type: ignore[arg-type]
        )
        acknowledge(
            self.bucket,
            "HIPAA.Security-S3BucketReplicationEnabled",
            "The inbox holds uploads for minutes until ingest stores them in the replicated "
            "archive; uploads that fail are retried by the client.",
        )
        work = work_queue(
            self,
            purpose="ingest",
            key_alias=f"alias/cloudpacs-{stage}-inbox-queue",
            key_description=f"cloudpacs {stage}: inbox notification queues",
            function_timeout_seconds=ingest_timeout_seconds,
            removal_policy=removal_policy,
            queue_id="IngestQueue",
        )
        self.queue_key, self.queue = work.key, work.queue
        self.dead_letter_queue = work.dead_letter_queue
        self.bucket.add_event_notification(
            s3.EventType.OBJECT_CREATED, s3n.SqsDestination(self.queue)
        )
        self._acknowledge_notification_handler()

    def _acknowledge_notification_handler(self) -> None:
        """CDK configures bucket notifications through a singleton custom resource function."""
        acknowledge(
            self.bucket,
            "HIPAA.Security-IAMNoInlinePolicy",
            "CDK's bucket-notification custom resource: its policy allows only "
            "s3:PutBucketNotification and belongs to that one deployment-time role.",
        )
        for child in Stack.of(self).node.children:
            if child.node.id.startswith("BucketNotificationsHandler"):
                acknowledge(
                    child,
                    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                    "service-role/AWSLambdaBasicExecutionRole]",
                    "CDK's bucket-notification custom resource runs only at deployment; the "
                    "AWS basic execution policy lets it write its own logs.",
                )
