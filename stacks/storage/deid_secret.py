"""The pseudonym key of the research copies: a generated Secrets Manager secret.

Every pseudonym (UIDs, Patient ID, the per-patient date shift) is an HMAC under this secret,
so it decides which copies link up: the same key gives the same pseudonyms across jobs, studies
and re-runs. It is generated at deployment (64 letters and digits), encrypted with the stage's
data key, read only by the anonymize function, and kept on removal like the data it keys.
It is not rotated: a new key starts a new, unlinked pseudonym space, so rotation is a decision
for the research governance, made by replacing the value by hand (docs/deidentification.md).
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks.acknowledge import acknowledge

KEY_LENGTH = 64

NO_ROTATION = (
    "The secret keys the pseudonyms of the research copies: rotating it would give a patient's "
    "later studies other pseudonyms than the earlier ones. A new key is a governance decision, "
    "applied by hand (docs/deidentification.md)."
)


class DeidSecret(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        secret_name: str,
        key: kms.IKey,
        removal_policy: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.secret = secretsmanager.Secret(
            self,
            "Secret",
            secret_name=secret_name,
            description="cloudpacs: HMAC key of the pseudonyms in the de-identified research copy",
            encryption_key=key,
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=KEY_LENGTH,
                exclude_punctuation=True,
                include_space=False,
            ),
            removal_policy=removal_policy,
        )
        acknowledge(self.secret, "AwsSolutions-SMG4", NO_ROTATION)
        acknowledge(self.secret, "HIPAA.Security-SecretsManagerRotationEnabled", NO_ROTATION)
