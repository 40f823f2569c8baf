"""S3 buckets: the DICOM object store and the server access log bucket.

Every bucket blocks public access, refuses plain HTTP and TLS below 1.2 (bucket policy), and is
versioned. The object store is encrypted with the stage's data key (S3 Bucket Keys keep the KMS
request cost per object low), logs every access to the log bucket and moves objects to cheaper
storage classes after the days the stage settings give.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from constructs import Construct

from stacks.acknowledge import acknowledge

TLS_1_2 = 1.2


RESPONSES_PREFIX = "responses/"
"""Where the wado function assembles responses too large to answer inline
(``cloudpacs.services.large_responses``)."""
RESPONSES_EXPIRY_DAYS = 1
RESEARCH_PREFIX = "research/"
"""The de-identified research copy: ``research/studies/...`` and the research root's
own assembled responses under ``research/responses/``."""


def secure_bucket_props(removal_policy: RemovalPolicy) -> dict[str, object]:
    """What every bucket of the stage has in common."""
    return {
        "block_public_access": s3.BlockPublicAccess.BLOCK_ALL,
        "enforce_ssl": True,
        "minimum_tls_version": TLS_1_2,
        "versioned": True,
        "object_ownership": s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        "removal_policy": removal_policy,
        "auto_delete_objects": False,
    }


class AccessLogBucket(Construct):
    """Receives S3 server access logs of the stage's other buckets."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        expiry_days: int,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            lifecycle_rules=[
                s3.LifecycleRule(
                    expiration=Duration.days(expiry_days),
                    noncurrent_version_expiration=Duration.days(1),
                )
            ],
            **secure_bucket_props(removal_policy),  # type: ignore[arg-type]
        )
        acknowledge(
            self.bucket,
            "AwsSolutions-S1",
            "This is the access log bucket itself; logging it into itself would loop.",
        )
        acknowledge(
            self.bucket,
            "HIPAA.Security-S3BucketLoggingEnabled",
            "This is the access log bucket itself; logging it into itself would loop.",
        )
        acknowledge(
            self.bucket,
            "HIPAA.Security-S3DefaultEncryptionKMS",
            "S3 server access log delivery supports only SSE-S3 on the target bucket; the logs "
            "hold request metadata (keys made of UIDs), no pixel data.",
        )
        acknowledge(
            self.bucket,
            "HIPAA.Security-S3BucketReplicationEnabled",
            "Access logs are operational records kept for the stage's retention; cross-region "
            "copies are not required for them.",
        )


def tier_transitions(
    intelligent_tiering: bool,
    infrequent_access_after_days: int,
    glacier_instant_retrieval_after_days: int | None,
) -> list[s3.Transition]:
    """Where DICOM objects go as they age. Only classes with millisecond reads: WADO-RS must
    answer at once, so neither Glacier Flexible Retrieval nor Deep Archive, nor the opt-in
    archive tiers of Intelligent-Tiering (whose objects need a restore) are used."""
    if intelligent_tiering:
        return [
            s3.Transition(
                storage_class=s3.StorageClass.INTELLIGENT_TIERING,
                transition_after=Duration.days(0),
            )
        ]
    transitions = [
        s3.Transition(
            storage_class=s3.StorageClass.INFREQUENT_ACCESS,
            transition_after=Duration.days(infrequent_access_after_days),
        )
    ]
    if glacier_instant_retrieval_after_days is not None:
        transitions.append(
            s3.Transition(
                storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                transition_after=Duration.days(glacier_instant_retrieval_after_days),
            )
        )
    return transitions


class DicomBucket(Construct):
    """The DICOM object store: ``studies/{study}/series/{series}/instances/{sop}.dcm``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket_name: str,
        key: kms.IKey,
        access_logs: s3.IBucket,
        infrequent_access_after_days: int,
        glacier_instant_retrieval_after_days: int | None,
        noncurrent_version_expiry_days: int,
        cors_origins: Sequence[str],
        removal_policy: RemovalPolicy,
        intelligent_tiering: bool = False,
    ) -> None:
        super().__init__(scope, construct_id)
        transitions = tier_transitions(
            intelligent_tiering, infrequent_access_after_days, glacier_instant_retrieval_after_days
        )
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=bucket_name,
            encryption=s3.BucketEncryption.KMS,
            encryption_key=key,
            bucket_key_enabled=True,
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="dicom/",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="cheaper-tiers",
                    prefix="studies/",
                    transitions=transitions,
                    noncurrent_version_expiration=Duration.days(noncurrent_version_expiry_days),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                ),
                # WADO responses too large for Lambda, assembled for a redirect (decision
                # 0001); reused only on the day they are made, so a day's expiry is safe.
                s3.LifecycleRule(
                    id="assembled-responses-expire",
                    prefix=RESPONSES_PREFIX,
                    expiration=Duration.days(RESPONSES_EXPIRY_DAYS),
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
                # Research copies replaced by a later job with other options.
                s3.LifecycleRule(
                    id="research-old-copies-expire",
                    prefix=RESEARCH_PREFIX + "studies/",
                    noncurrent_version_expiration=Duration.days(noncurrent_version_expiry_days),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                ),
                s3.LifecycleRule(
                    id="research-responses-expire",
                    prefix=RESEARCH_PREFIX + RESPONSES_PREFIX,
                    expiration=Duration.days(RESPONSES_EXPIRY_DAYS),
                    noncurrent_version_expiration=Duration.days(1),
                    abort_incomplete_multipart_upload_after=Duration.days(1),
                ),
            ],
            # Viewers follow WADO redirects to presigned URLs from the browser.
            cors=_cors([s3.HttpMethods.GET, s3.HttpMethods.HEAD], cors_origins),
            **secure_bucket_props(removal_policy),  # type: ignore[arg-type]
        )
        acknowledge(
            self.bucket,
            "HIPAA.Security-S3BucketReplicationEnabled",
            "Objects are versioned and kept per the stage's retention; cross-region replication "
            "is a disaster-recovery choice each hospital makes for its own regions.",
        )


def _cors(methods: list[s3.HttpMethods], origins: Sequence[str]) -> list[s3.CorsRule] | None:
    if not origins:
        return None
    return [
        s3.CorsRule(
            allowed_methods=methods,
            allowed_origins=list(origins),
            allowed_headers=["*"],
            exposed_headers=["ETag", "Content-Length", "Content-Type"],
            max_age=3000,
        )
    ]


def browser_cors(methods: list[s3.HttpMethods], origins: Sequence[str]) -> list[s3.CorsRule] | None:
    """CORS rules letting the stage's viewer origins use presigned URLs on a bucket."""
    return _cors(methods, origins)
