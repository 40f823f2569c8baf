"""Acknowledged cdk-nag findings: each one next to the resource it concerns, with its reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(scope: IConstruct, rule: str, reason: str) -> None:
    """Accept one finding (``AwsSolutions-S1`` or ``AwsSolutions-IAM5[Resource::...]``) on
    ``scope`` and everything below it. The reason is what a security reviewer reads."""
    if len(reason) < 20:
        raise ValueError(f"acknowledging {rule} needs a real reason, not {reason!r}")
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))
