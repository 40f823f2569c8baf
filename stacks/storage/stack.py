"""Storage stack: everything that holds patient data or its audit trail, and its keys.

The de-identified research copy lives here too: its own index table (the archive's
layout, a second table so that grants split on the table), its objects under the ``research/``
prefix of the DICOM bucket, and the secret that keys its pseudonyms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import RemovalPolicy, Stack
from constructs import Construct

from stacks.names import StageNames
from stacks.storage.audit_log import AuditLog
from stacks.storage.backup import IndexBackup
from stacks.storage.buckets import AccessLogBucket, DicomBucket
from stacks.storage.deid_secret import DeidSecret
from stacks.storage.inbox import Inbox
from stacks.storage.index_table import IndexTable
from stacks.storage.keys import StageKeys


class StorageStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: StageNames,
        retain_data: bool,
        deletion_protection: bool,
        audit_log_retention_days: int,
        backup_retention_days: int,
        infrequent_access_after_days: int,
        glacier_instant_retrieval_after_days: int | None,
        noncurrent_version_expiry_days: int,
        intelligent_tiering: bool,
        inbox_expiry_days: int,
        access_log_expiry_days: int,
        ingest_timeout_seconds: int,
        cors_origins: Sequence[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        stage = names.stage
        removal = RemovalPolicy.RETAIN if retain_data else RemovalPolicy.DESTROY
        self.keys = StageKeys(self, "Keys", stage=stage, removal_policy=removal)
        access_logs = AccessLogBucket(
            self, "AccessLogs", expiry_days=access_log_expiry_days, removal_policy=removal
        ).bucket
        self.dicom_bucket = DicomBucket(
            self,
            "Dicom",
            bucket_name=names.dicom_bucket,
            key=self.keys.data_key,
            access_logs=access_logs,
            infrequent_access_after_days=infrequent_access_after_days,
            glacier_instant_retrieval_after_days=glacier_instant_retrieval_after_days,
            noncurrent_version_expiry_days=noncurrent_version_expiry_days,
            intelligent_tiering=intelligent_tiering,
            cors_origins=cors_origins,
            removal_policy=removal,
        ).bucket
        self.inbox = Inbox(
            self,
            "Inbox",
            stage=stage,
            bucket_name=names.inbox_bucket,
            key=self.keys.data_key,
            access_logs=access_logs,
            expiry_days=inbox_expiry_days,
            ingest_timeout_seconds=ingest_timeout_seconds,
            cors_origins=cors_origins,
            removal_policy=removal,
        )
        self.table = IndexTable(
            self,
            "Index",
            table_name=names.table,
            key=self.keys.data_key,
            recovery_days=backup_retention_days,
            deletion_protection=deletion_protection,
            removal_policy=removal,
        ).table
        self.research_table = IndexTable(
            self,
            "ResearchIndex",
            table_name=names.research_table,
            key=self.keys.data_key,
            recovery_days=backup_retention_days,
            deletion_protection=deletion_protection,
            removal_policy=removal,
        ).table
        self.deid_secret = DeidSecret(
            self,
            "DeidKey",
            secret_name=names.deid_secret,
            key=self.keys.data_key,
            removal_policy=removal,
        ).secret
        IndexBackup(
            self,
            "IndexBackup",
            table=self.table,
            also=[self.research_table],
            key=self.keys.data_key,
            retention_days=backup_retention_days,
            removal_policy=removal,
        )
        self.audit_log_name = f"/cloudpacs/{stage}/audit"
        self.audit_log = AuditLog(
            self,
            "Audit",
            log_group_name=self.audit_log_name,
            key=self.keys.log_key,
            retention_days=audit_log_retention_days,
            removal_policy=removal,
        ).log_group
