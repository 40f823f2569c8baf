"""Auth stack: who may call the API (Cognito), exported to the API and to operators."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack
from constructs import Construct

from stacks.auth.clients import AppClients
from stacks.auth.release_checks import ReleaseChecksClient
from stacks.auth.user_pool import UserDirectory


class AuthStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        stage: str,
        mfa_required: bool,
        plus_tier: bool,
        domain_prefix: str,
        callback_urls: Sequence[str],
        retain_users: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.directory = UserDirectory(
            self,
            "Users",
            stage=stage,
            mfa_required=mfa_required,
            plus_tier=plus_tier,
            domain_prefix=domain_prefix,
            removal_policy=RemovalPolicy.RETAIN if retain_users else RemovalPolicy.DESTROY,
            deletion_protection=retain_users,
        )
        self.user_pool = self.directory.user_pool
        self.clients = AppClients(
            self, "Clients", directory=self.directory, callback_urls=callback_urls
        )
        self.release_checks = ReleaseChecksClient(
            self, "ReleaseChecks", stage=stage, directory=self.directory
        )
        CfnOutput(self, "UserPoolId", value=self.user_pool.user_pool_id)
        CfnOutput(self, "BrowserClientId", value=self.clients.browser.user_pool_client_id)
        CfnOutput(self, "MachineClientId", value=self.clients.machine.user_pool_client_id)
        CfnOutput(
            self,
            "TokenEndpoint",
            value=self.directory.domain.base_url() + "/oauth2/token",
        )
        CfnOutput(self, "HostedSignInUrl", value=self.directory.domain.base_url())
