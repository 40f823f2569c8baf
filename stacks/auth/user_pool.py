"""The Cognito user pool: invited users only, strong passwords, MFA, role groups.

Roles (DESIGN.md §7) are Cognito groups; their members' tokens carry ``cognito:groups``, which
the services read. Nobody signs themselves up: an administrator creates each user.
"""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from stacks.acknowledge import acknowledge
from stacks.auth import scopes

ROLE_GROUPS = {
    "viewer": "Search and retrieve studies",
    "technologist": "Viewer, plus store and upload studies",
    "researcher": "Search and retrieve de-identified studies only",
    "admin": "Everything, including delete, de-identify and reading the audit trail",
}


class UserDirectory(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        mfa_required: bool,
        plus_tier: bool,
        domain_prefix: str,
        removal_policy: RemovalPolicy,
        deletion_protection: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            user_pool_name=f"cloudpacs-{stage}",
            self_sign_up_enabled=False,
            sign_in_aliases=cognito.SignInAliases(email=True),
            sign_in_case_sensitive=False,
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=14,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.REQUIRED if mfa_required else cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            feature_plan=cognito.FeaturePlan.PLUS if plus_tier else cognito.FeaturePlan.ESSENTIALS,
            standard_threat_protection_mode=(
                cognito.StandardThreatProtectionMode.FULL_FUNCTION if plus_tier else None
            ),
            deletion_protection=deletion_protection,
            removal_policy=removal_policy,
        )
        if not mfa_required:
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG2",
                "MFA is optional only in non-production stages (stage setting mfa_required); "
                "production stages must require it, which the settings model enforces.",
            )
        if not plus_tier:
            acknowledge(
                self.user_pool,
                "AwsSolutions-COG8",
                "Threat protection needs the Cognito Plus plan, priced per user; it is enabled "
                "per stage with cognito_plus_tier (on in prod) and off where no patient data is.",
            )
        for precedence, (name, description) in enumerate(ROLE_GROUPS.items()):
            cognito.UserPoolGroup(
                self,
                f"Group-{name}",
                user_pool=self.user_pool,
                group_name=name,
                description=description,
                precedence=precedence,
            )
        self.resource_server = self.user_pool.add_resource_server(
            "DicomWeb",
            identifier=scopes.RESOURCE_SERVER,
            scopes=[
                cognito.ResourceServerScope(scope_name=name, scope_description=text)
                for name, text in scopes.DESCRIPTIONS.items()
            ],
        )
        self.domain = self.user_pool.add_domain(
            "Domain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=domain_prefix)
        )

    def scope(self, name: str) -> cognito.OAuthScope:
        return cognito.OAuthScope.resource_server(
            self.resource_server,
            cognito.ResourceServerScope(
                scope_name=name, scope_description=scopes.DESCRIPTIONS[name]
            ),
        )
