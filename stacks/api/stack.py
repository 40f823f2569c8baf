"""API stack: the functions, their layer and grants, the REST API and its firewall.

Grants live here, next to the functions they are for, so one file shows who may do what:

| function | index | objects ``studies/*`` | inbox | also |
| --- | --- | --- | --- | --- |
| qido | read | - | - | audit |
| wado | read | get; put ``metadata.json``; get, put ``responses/*`` | - | audit |
| stow | read, write | get, put, delete; list (+``responses/*``) | put (presigned) | audit, events |
| ingest | read, write | get, put | get, delete; SQS | audit, events |
| deidentify | read; put/update ``JOB#*`` | - | - | audit; send to the anonymize queue |
| research | - | - | - | audit; reads the research store |
| anonymize | ``GetItem``; ``JOB#*`` results | get | - | writes the research store; secret |

The research store is the ``-research`` index table and ``research/*`` in the same
bucket. ``research`` reads it (and writes its ``metadata.json`` cache and ``responses/*``) and
holds nothing of the archive, neither its index nor ``studies/*``; ``anonymize`` reads the
archive's objects and writes the research store; only ``anonymize`` may read the secret.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from aws_cdk import aws_events as events
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from constructs import Construct

from cloudpacs import __version__
from stacks.api import permissions as allow
from stacks.api.anonymize import Anonymizer
from stacks.api.assets import LambdaAssets
from stacks.api.permissions import Grants
from stacks.api.releases import LiveAliases
from stacks.api.rest_api import DicomWebApi
from stacks.api.routes import FUNCTIONS, ROUTES
from stacks.api.service_function import ServiceFunction
from stacks.api.waf import ApiFirewall
from stacks.auth.stack import AuthStack
from stacks.monitoring.api_alarms import ApiAlarms
from stacks.names import StageNames
from stacks.storage.stack import StorageStack
from stacks.work_queue import MAX_RECEIVE_COUNT

DESCRIPTIONS = {
    "qido": "QIDO-RS search",
    "wado": "WADO-RS retrieve",
    "stow": "STOW-RS store, large uploads and delete",
    "ingest": "Ingest of large uploads from the inbox (SQS)",
    "deidentify": "De-identification jobs: queue a study, read a job",
    "research": "QIDO-RS and WADO-RS of the de-identified research copy",
}
INGEST_BATCH_SIZE = 1
INGEST_ENVIRONMENT = {"CLOUDPACS_INGEST_MAX_RECEIVES": str(MAX_RECEIVE_COUNT)}
"""The ingest function records an upload as failed on the delivery SQS will not repeat."""
INGEST_EPHEMERAL_MB = 4096


class ApiStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        names: StageNames,
        storage: StorageStack,
        auth: AuthStack,
        assets: LambdaAssets,
        architecture: str,
        memory_mb: int,
        timeout_seconds: int,
        ingest_timeout_seconds: int,
        log_retention_days: int,
        retain_logs: bool,
        cors_origins: Sequence[str],
        api_rate_limit: int,
        api_burst_limit: int,
        waf_rate_limit: int,
        auto_deidentify_profile: str | None = None,
        lambda_deployment: str = "all_at_once",
        tracing: bool = True,
        commit: str = "unknown",
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.names = names
        stage = names.stage
        removal = RemovalPolicy.RETAIN if retain_logs else RemovalPolicy.DESTROY
        self.event_bus = events.EventBus(self, "Events", event_bus_name=names.event_bus)
        layer = assets.core_layer(self, architecture)
        environment = {
            "CLOUDPACS_TABLE_NAME": names.table,
            "CLOUDPACS_BUCKET_NAME": names.dicom_bucket,
            "CLOUDPACS_INBOX_BUCKET_NAME": names.inbox_bucket,
            "CLOUDPACS_AUDIT_LOG_GROUP": storage.audit_log_name,
            "CLOUDPACS_EVENT_BUS_NAME": self.event_bus.event_bus_name,
            "CLOUDPACS_COMMIT": commit,
        }
        if cors_origins:
            # The functions add the CORS headers to their responses; API Gateway answers the
            # preflight (OPTIONS) itself, from the same origins.
            environment["CLOUDPACS_CORS_ALLOWED_ORIGINS"] = ",".join(cors_origins)
        self.anonymizer = Anonymizer(
            self,
            "Anonymize",
            names=names,
            assets=assets,
            layer=layer,
            architecture=architecture,
            memory_mb=memory_mb,
            timeout_seconds=ingest_timeout_seconds,
            environment={
                **environment,
                "CLOUDPACS_RESEARCH_TABLE_NAME": names.research_table,
                "CLOUDPACS_DEID_SECRET_ID": names.deid_secret,
            },
            event_bus=self.event_bus,
            event_bus_name=names.event_bus,
            auto_profile=auto_deidentify_profile,
            log_key=storage.keys.log_key,
            log_retention_days=log_retention_days,
            removal_policy=removal,
            tracing=tracing,
        )
        extra_environment = {
            "ingest": INGEST_ENVIRONMENT,
            "deidentify": {"CLOUDPACS_DEID_QUEUE_URL": self.anonymizer.queue.queue_url},
            "research": {"CLOUDPACS_RESEARCH_TABLE_NAME": names.research_table},
        }
        self.functions: dict[str, lambda_.Function] = {}
        grants: dict[str, Grants] = {}
        for name, description in DESCRIPTIONS.items():
            ingest = name == "ingest"
            service = ServiceFunction(
                self,
                name.capitalize(),
                name=name,
                names=names,
                description=description,
                assets=assets,
                layer=layer,
                architecture=architecture,
                memory_mb=memory_mb,
                timeout_seconds=ingest_timeout_seconds if ingest else timeout_seconds,
                ephemeral_storage_mb=INGEST_EPHEMERAL_MB if ingest else 512,
                tracing=tracing,
                environment={**environment, **extra_environment.get(name, {})},
                log_key=storage.keys.log_key,
                log_retention_days=log_retention_days,
                removal_policy=removal,
            )
            self.functions[name] = service.function
            grants[name] = service.grants
        self.functions["anonymize"] = self.anonymizer.function
        self._grant(storage, grants)
        self._grant_deidentification(storage, grants, self.anonymizer.grants)
        self.functions["ingest"].add_event_source(
            sources.SqsEventSource(
                storage.inbox.queue, batch_size=INGEST_BATCH_SIZE, report_batch_item_failures=True
            )
        )
        self.live = LiveAliases(
            self,
            "Releases",
            stage=stage,
            functions={name: fn for name, fn in self.functions.items() if name in FUNCTIONS},
            deployment=lambda_deployment,
        )
        self.api = DicomWebApi(
            self,
            "DicomWeb",
            stage=stage,
            user_pool=auth.user_pool,
            routes=ROUTES,
            functions=self.live.aliases,
            cors_origins=cors_origins,
            rate_limit=api_rate_limit,
            burst_limit=api_burst_limit,
            log_key=storage.keys.log_key,
            log_retention_days=log_retention_days,
            removal_policy=removal,
        )
        ApiFirewall(
            self,
            "Firewall",
            stage=stage,
            stage_arn=self.api.api.deployment_stage.stage_arn,
            rate_limit=waf_rate_limit,
            log_key=storage.keys.log_key,
            log_retention_days=log_retention_days,
            removal_policy=removal,
        )
        self.alarms = ApiAlarms(
            self, "Alarms", stage=stage, api_stage=self.api.api.deployment_stage
        )
        self.live.roll_back_on(self.alarms.alarms)
        self.url_output = CfnOutput(self, "DicomWebUrl", value=self.api.url)
        self.version_output = CfnOutput(
            self,
            "DeployedVersion",
            value=f"{__version__}+{commit}",
            description="cloudpacs package version and source commit of the functions",
        )

    def _grant(self, storage: StorageStack, grants: dict[str, Grants]) -> None:
        names = self.names
        objects, inbox = names.dicom_bucket, names.inbox_bucket
        for name, grant in grants.items():
            if name != "research":  # the research copy's function reads nothing of the archive
                grant.index_read()
            grant.key_use(storage.keys.data_key, encrypt=name != "qido")
            grant.append_logs(storage.audit_log_name, AUDIT_REASON)
        wado, stow, ingest = grants["wado"], grants["stow"], grants["ingest"]
        wado.objects(objects, ["s3:GetObject"], allow.STUDIES, READ_REASON)
        wado.objects(objects, ["s3:PutObject"], allow.SERIES_METADATA, METADATA_REASON)
        wado.objects(objects, ["s3:PutObject"], allow.THUMBNAILS, THUMBNAILS_REASON)
        wado.objects(
            objects,
            ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
            allow.RESPONSES,
            RESPONSES_REASON,
        )
        for grant in (stow, ingest):
            grant.index_write()
            grant.publish_events(self.event_bus.event_bus_arn)
        stow.objects(
            objects,
            ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"],
            allow.STUDIES,
            WRITE_REASON,
        )
        stow.list_prefix(objects, allow.STUDIES)
        stow.objects(objects, ["s3:DeleteObject"], allow.RESPONSES, RESPONSES_REASON)
        stow.list_prefix(objects, allow.RESPONSES)
        stow.objects(inbox, ["s3:PutObject", "s3:AbortMultipartUpload"], "*", UPLOAD_REASON)
        ingest.objects(objects, ["s3:GetObject", "s3:PutObject"], allow.STUDIES, WRITE_REASON)
        ingest.objects(inbox, ["s3:GetObject", "s3:DeleteObject"], "*", INGEST_REASON)

    def _grant_deidentification(
        self, storage: StorageStack, grants: dict[str, Grants], anonymize: Grants
    ) -> None:
        """De-identification: jobs, the research copy and the worker between them."""
        names = self.names
        objects, research_table = names.dicom_bucket, names.research_table
        anonymizer = self.anonymizer
        deidentify, research = grants["deidentify"], grants["research"]
        deidentify.index_items(["dynamodb:PutItem", "dynamodb:UpdateItem"], allow.JOB_ITEMS)
        deidentify.send_messages(anonymizer.queue.queue_arn, anonymizer.queue_key)

        research.index_read(research_table)
        research.objects(objects, ["s3:GetObject"], allow.RESEARCH + allow.STUDIES, RESEARCH_REASON)
        research.objects(
            objects, ["s3:PutObject"], allow.RESEARCH + allow.SERIES_METADATA, METADATA_REASON
        )
        research.objects(
            objects, ["s3:PutObject"], allow.RESEARCH + allow.THUMBNAILS, THUMBNAILS_REASON
        )
        research.objects(
            objects,
            ["s3:GetObject", "s3:PutObject", "s3:AbortMultipartUpload"],
            allow.RESEARCH + allow.RESPONSES,
            RESPONSES_REASON,
        )

        anonymize.index_items(["dynamodb:GetItem"], "STUDY#*")
        anonymize.index_items(["dynamodb:BatchWriteItem"], allow.JOB_ITEMS)
        anonymize.index_read(research_table)
        anonymize.index_write(research_table)
        anonymize.objects(objects, ["s3:GetObject"], allow.STUDIES, READ_REASON)
        anonymize.objects(
            objects, ["s3:GetObject", "s3:PutObject"], allow.RESEARCH + allow.STUDIES, COPY_REASON
        )
        anonymize.key_use(storage.keys.data_key, encrypt=True)
        anonymize.read_secret(storage.deid_secret.secret_arn)


AUDIT_REASON = "Streams of the audit log group; append only (no read, no delete)."
RESEARCH_REASON = "De-identified copies under research/studies/; keys are made of validated UIDs."
COPY_REASON = (
    "De-identified copies written under research/studies/, read back to compare with a "
    "repeated copy (idempotent re-runs)."
)
READ_REASON = (
    "DICOM objects under studies/; keys are made of validated UIDs, so the prefix is the unit."
)
METADATA_REASON = "The series metadata cache kept next to each series' objects (DESIGN.md §4)."
THUMBNAILS_REASON = "Thumbnails cached next to each series' objects, written over when stale."
RESPONSES_REASON = (
    "WADO responses too large for Lambda, assembled under responses/ for a presigned redirect "
    "(docs/decisions/0001-large-wado-responses.md); removed with their study, expire in a day."
)
WRITE_REASON = "DICOM objects under studies/: stored as received, one key per instance UID."
UPLOAD_REASON = "Presigned upload URLs into the inbox; objects there expire within days."
INGEST_REASON = "Uploads in the inbox are read once by ingest and deleted after."
