"""cdk-nag AwsSolutions and HIPAA Security packs: zero unacknowledged findings, and every
acknowledgement carries a written reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from aws_cdk import App, Environment, Stack, Validations
from aws_cdk import aws_s3 as s3

from cdk_app.app import add_compliance_checks
from cdk_app.validation import findings
from stacks.acknowledge import acknowledge
from tests.infra.support import Synthesized


def test_packs_report_findings(tmp_path: Path) -> None:
    """Negative control: the same packs flag a bucket without logging, KMS or TLS policy, and
    the report reader sees it (an empty report must mean "clean", not "did not run")."""
    app = App(outdir=str(tmp_path), context={"@aws-cdk/core:failSynthOnValidationErrors": False})
    stack = Stack(app, "Probe", env=Environment(account="000000000000", region="eu-central-1"))
    s3.Bucket(stack, "Plain")
    add_compliance_checks(app)
    rules = {finding.rule for finding in findings(app.synth().directory)}
    assert {"AwsSolutions-S1", "AwsSolutions-S10", "HIPAA.Security-S3DefaultEncryptionKMS"} <= rules


def test_no_unacknowledged_findings(synthesized: Synthesized) -> None:
    unacknowledged = findings(synthesized.assembly.directory, severities=("error", "warning"))
    assert unacknowledged == [], "\n".join(str(f) for f in unacknowledged)


def test_no_missing_context(synthesized: Synthesized) -> None:
    """Nothing was looked up in an AWS account: synth works offline, without credentials."""
    manifests = list(Path(synthesized.assembly.directory).rglob("manifest.json"))
    assert len(manifests) == 4  # the app and its three stages
    for manifest in manifests:
        assert "missing" not in json.loads(manifest.read_text()), manifest


def test_every_acknowledgement_has_a_reason(synthesized: Synthesized) -> None:
    reasons: dict[str, str] = {}
    for construct in synthesized.app.node.find_all():
        for entry in construct.node.metadata:
            if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                for rule, reason in entry.data.items():
                    reasons[f"{construct.node.path} {rule}"] = reason
    assert reasons, "no acknowledgements found: is the metadata key still the same?"
    short = {where: reason for where, reason in reasons.items() if len(reason.split()) < 8}
    assert short == {}


def test_acknowledging_needs_a_real_reason() -> None:
    with pytest.raises(ValueError, match="real reason"):
        acknowledge(App(), "AwsSolutions-S1", "not needed")
