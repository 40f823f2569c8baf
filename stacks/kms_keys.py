"""Customer-managed KMS keys, all made the same way: yearly rotation, a 30-day deletion
window, and the stage's removal policy (kept in production)."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_kms as kms
from constructs import Construct


def rotating_key(
    scope: Construct,
    construct_id: str,
    *,
    alias: str,
    description: str,
    removal_policy: RemovalPolicy,
) -> kms.Key:
    return kms.Key(
        scope,
        construct_id,
        alias=alias,
        description=description,
        enable_key_rotation=True,
        pending_window=Duration.days(30),
        removal_policy=removal_policy,
    )
