"""The release checks' own app client: client credentials with every API scope (the smoke test
stores, reads and deletes a probe instance), its credentials kept in Secrets Manager as the JSON
``cloudpacs smoke`` reads from ``$CLOUDPACS_CHECK_CREDENTIALS`` (client_id, client_secret,
token_url, scope). The delivery pipeline's check steps get it as a CodeBuild environment
variable of type SECRETS_MANAGER; nothing else is granted it."""

from __future__ import annotations

from aws_cdk import Duration, SecretValue, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from stacks.acknowledge import acknowledge
from stacks.auth import scopes
from stacks.auth.user_pool import UserDirectory


def release_checks_secret_name(stage: str) -> str:
    return f"cloudpacs-{stage}-release-checks"


class ReleaseChecksClient(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, stage: str, directory: UserDirectory
    ) -> None:
        super().__init__(scope, construct_id)
        names = list(scopes.DESCRIPTIONS)
        self.client = directory.user_pool.add_client(
            "ReleaseChecks",
            generate_secret=True,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(client_credentials=True),
                scopes=[directory.scope(name) for name in names],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.minutes(60),
        )
        self.client.node.add_dependency(directory.resource_server)
        plain = SecretValue.unsafe_plain_text
        self.secret = secretsmanager.Secret(
            self,
            "Credentials",
            secret_name=release_checks_secret_name(stage),
            description=f"cloudpacs {stage}: client credentials of the release checks",
            secret_object_value={
                "client_id": plain(self.client.user_pool_client_id),
                "client_secret": self.client.user_pool_client_secret,
                "token_url": plain(directory.domain.base_url() + "/oauth2/token"),
                "scope": plain(" ".join(scopes.full(name) for name in names)),
            },
        )
        self._acknowledge_secret_reader()
        acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "The value is the Cognito client's own secret, read from Cognito at deployment; "
            "it changes when the client is replaced (a new deployment), not by a rotation "
            "function, which could not change Cognito's copy.",
        )
        for rule in ("HIPAA.Security-SecretsManagerRotationEnabled",):
            acknowledge(
                self.secret,
                rule,
                "The value is the Cognito client's own secret, read from Cognito at deployment; "
                "rotating the stored copy alone would break the client.",
            )
        acknowledge(
            self.secret,
            "HIPAA.Security-SecretsManagerUsingKMSKey",
            "Encrypted with the account's aws/secretsmanager key: CodeBuild reads it as an "
            "environment variable in the pipeline account's check steps, which a stage key "
            "would have to trust across stacks; the secret holds no patient data.",
        )

    def _acknowledge_secret_reader(self) -> None:
        """The client secret is read from Cognito at deployment by CDK's AwsCustomResource: a
        provider function shared by the stack, and a policy allowing DescribeUserPoolClient
        on this pool."""
        acknowledge(
            self.client,
            "HIPAA.Security-IAMNoInlinePolicy",
            "The custom resource's policy allows cognito-idp:DescribeUserPoolClient on this "
            "user pool only and is attached to the provider's role alone.",
        )
        provider = Stack.of(self).node.try_find_child(AWS_CUSTOM_RESOURCE_PROVIDER)
        if provider is None:
            return
        for rule, reason in _PROVIDER_REASONS.items():
            acknowledge(provider, rule, reason)


AWS_CUSTOM_RESOURCE_PROVIDER = "AWS679f53fac002430cb0da5b7982bd2287"
"""The id CDK gives the singleton function behind every AwsCustomResource of a stack."""
_PROVIDER = (
    "CDK's AwsCustomResource provider, run only by CloudFormation at deployment to read the "
    "release-checks client's secret; "
)
_PROVIDER_REASONS = {
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
    "AWSLambdaBasicExecutionRole]": _PROVIDER + "the managed policy only writes its logs.",
    "AwsSolutions-L1": _PROVIDER + "CDK pins and upgrades its runtime.",
    "HIPAA.Security-LambdaInsideVPC": _PROVIDER + "it calls the Cognito API and nothing else.",
    "HIPAA.Security-LambdaDLQ": _PROVIDER + "CloudFormation invokes it and sees every failure.",
    "HIPAA.Security-LambdaConcurrency": _PROVIDER + "one invocation per deployment.",
    "HIPAA.Security-CloudWatchLogGroupEncrypted": (
        _PROVIDER + "its log group holds the API call's outline, never the secret."
    ),
}
