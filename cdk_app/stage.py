"""One deployment stage of cloudpacs: storage, auth, viewer hosting, API, viewer app, DIMSE,
monitoring and (with ``retention_days``) retention stacks."""

from __future__ import annotations

import os
from pathlib import Path

from aws_cdk import Environment, Stage, Tags
from constructs import Construct

from cdk_app.settings import StageSettings
from stacks.api.assets import LambdaAssets
from stacks.api.stack import ApiStack
from stacks.auth.stack import AuthStack
from stacks.dimse.container import BridgeTls
from stacks.dimse.image import BridgeImage
from stacks.dimse.stack import DimseStack
from stacks.monitoring.stack import MonitoringStack
from stacks.names import StageNames
from stacks.retention.stack import RetentionStack
from stacks.storage.stack import StorageStack
from stacks.viewer.app import ViewerAppStack
from stacks.viewer.hosting import ViewerHostingStack

# Offline synth without credentials still needs a concrete account (no lookups are made).
PLACEHOLDER_ACCOUNT = "000000000000"


def stage_environment(settings: StageSettings) -> Environment:
    account = settings.account or os.environ.get("CDK_DEFAULT_ACCOUNT") or PLACEHOLDER_ACCOUNT
    return Environment(account=account, region=settings.region)


class CloudPacsStage(Stage):
    def __init__(
        self,
        scope: Construct,
        *,
        settings: StageSettings,
        assets: LambdaAssets,
        bridge_image: BridgeImage,
        viewer_dist: Path | None = None,
        commit: str = "unknown",
    ) -> None:
        env = stage_environment(settings)
        super().__init__(scope, settings.name, env=env)
        name = settings.name
        names = StageNames(stage=name, account=str(env.account), region=settings.region)
        retain = settings.removal_policy == "retain"
        common = {"termination_protection": settings.production}

        self.storage = StorageStack(
            self,
            "Storage",
            stack_name=f"cloudpacs-{name}-storage",
            description=f"cloudpacs {name}: keys, DICOM objects, index, inbox, audit log",
            names=names,
            retain_data=retain,
            deletion_protection=settings.production,
            audit_log_retention_days=settings.audit_log_retention_days,
            backup_retention_days=settings.backup_retention_days,
            infrequent_access_after_days=settings.infrequent_access_after_days,
            glacier_instant_retrieval_after_days=settings.glacier_instant_retrieval_after_days,
            noncurrent_version_expiry_days=settings.noncurrent_version_expiry_days,
            intelligent_tiering=settings.storage_tiering == "intelligent_tiering",
            inbox_expiry_days=settings.inbox_expiry_days,
            access_log_expiry_days=settings.access_log_expiry_days,
            ingest_timeout_seconds=settings.ingest_timeout_seconds,
            cors_origins=settings.cors_origins,
            **common,
        )
        self.auth = AuthStack(
            self,
            "Auth",
            stack_name=f"cloudpacs-{name}-auth",
            description=f"cloudpacs {name}: Cognito users, roles and app clients",
            stage=name,
            mfa_required=settings.mfa_required,
            plus_tier=settings.cognito_plus_tier,
            domain_prefix=f"cloudpacs-{name}-{env.account}",
            callback_urls=settings.viewer_callback_urls,
            retain_users=retain,
            **common,
        )
        self.viewer = ViewerHostingStack(
            self,
            "Viewer",
            stack_name=f"cloudpacs-{name}-viewer",
            description=f"cloudpacs {name}: OHIF viewer hosting (private bucket, CloudFront)",
            bucket_name=names.viewer_bucket,
            access_log_expiry_days=settings.access_log_expiry_days,
            retain=retain,
            **common,
        )
        cors_origins = (*settings.cors_origins, self.viewer.origin)
        self.api = ApiStack(
            self,
            "Api",
            stack_name=f"cloudpacs-{name}-api",
            description=f"cloudpacs {name}: DICOMweb REST API, WAF, Lambda functions",
            names=names,
            storage=self.storage,
            auth=self.auth,
            assets=assets,
            architecture=settings.lambda_architecture,
            memory_mb=settings.lambda_memory_mb,
            timeout_seconds=settings.lambda_timeout_seconds,
            ingest_timeout_seconds=settings.ingest_timeout_seconds,
            log_retention_days=settings.log_retention_days,
            retain_logs=retain,
            cors_origins=cors_origins,
            api_rate_limit=settings.api_rate_limit,
            api_burst_limit=settings.api_burst_limit,
            waf_rate_limit=settings.waf_rate_limit,
            auto_deidentify_profile=(
                settings.auto_deidentify_profile if settings.auto_deidentify else None
            ),
            lambda_deployment=settings.lambda_deployment,
            tracing=settings.lambda_tracing,
            commit=commit,
            **common,
        )
        self.viewer_app = ViewerAppStack(
            self,
            "ViewerApp",
            stack_name=f"cloudpacs-{name}-viewer-app",
            description=f"cloudpacs {name}: OHIF viewer files, its configuration and login",
            hosting=self.viewer,
            auth=self.auth,
            api=self.api,
            names=names,
            dist=viewer_dist,
            **common,
        )
        tls_secret = settings.dimse_tls_secret
        self.dimse = DimseStack(
            self,
            "Dimse",
            stack_name=f"cloudpacs-{name}-dimse",
            description=f"cloudpacs {name}: DIMSE bridge (VPC, Fargate, network load balancer)",
            names=names,
            image=bridge_image,
            data_key=self.storage.keys.data_key,
            log_key=self.storage.keys.log_key,
            audit_log_name=self.storage.audit_log_name,
            event_bus=self.api.event_bus,
            vpc_cidr=str(settings.vpc_cidr),
            client_cidrs=[str(cidr) for cidr in settings.dimse_client_cidrs],
            internet_facing=settings.dimse_internet_facing,
            min_tasks=settings.dimse_min_tasks,
            max_tasks=settings.dimse_max_tasks,
            cpu=settings.dimse_cpu,
            memory_mib=settings.dimse_memory,
            ae_roles=settings.dimse_ae_roles,
            move_destinations={
                ae: target.model_dump() for ae, target in settings.dimse_move_destinations.items()
            },
            tls=BridgeTls(tls_secret, settings.dimse_tls_client_certs) if tls_secret else None,
            log_retention_days=settings.log_retention_days,
            retain_logs=retain,
            deletion_protection=settings.production,
            **common,
        )
        self.monitoring = MonitoringStack(
            self,
            "Monitoring",
            stack_name=f"cloudpacs-{name}-monitoring",
            description=f"cloudpacs {name}: dashboard, alarms, alarm topic",
            stage=name,
            alarm_email=settings.alarm_email,
            storage=self.storage,
            api=self.api,
            bridge=self.dimse.watched,
            **common,
        )
        self.retention: RetentionStack | None = None
        if settings.retention_days is not None:
            self.retention = RetentionStack(
                self,
                "Retention",
                stack_name=f"cloudpacs-{name}-retention",
                description=f"cloudpacs {name}: daily retention job (studies past "
                f"{settings.retention_days} days)",
                names=names,
                assets=assets,
                architecture=settings.lambda_architecture,
                memory_mb=settings.lambda_memory_mb,
                retention_days=settings.retention_days,
                schedule_hour_utc=settings.retention_hour_utc,
                data_key=self.storage.keys.data_key,
                log_key=self.storage.keys.log_key,
                audit_log_name=self.storage.audit_log_name,
                event_bus_name=names.event_bus,
                log_retention_days=settings.log_retention_days,
                retain_logs=retain,
                tracing=settings.lambda_tracing,
                commit=commit,
                **common,
            )
            self.retention.add_stack_dependency(self.storage)
            self.retention.add_stack_dependency(self.api)
        self.api.add_stack_dependency(self.storage)
        self.api.add_stack_dependency(self.auth)
        self.api.add_stack_dependency(self.viewer)
        for before in (self.viewer, self.auth, self.api):
            self.viewer_app.add_stack_dependency(before)
        self.dimse.add_stack_dependency(self.storage)
        self.dimse.add_stack_dependency(self.api)
        Tags.of(self).add("project", "cloudpacs")
        Tags.of(self).add("stage", name)
