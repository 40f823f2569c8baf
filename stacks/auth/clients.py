"""App clients: one for browser viewers, one for machines.

- Browser viewers (OHIF and the like) use the authorization code grant with PKCE: a public
  client without a secret, redirecting only to the stage's configured callback URLs.
- Machines (scripts, AI pipelines, modality gateways) use client credentials with a secret; their
  tokens carry the scopes they were given and no user groups.
"""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from stacks.auth import scopes
from stacks.auth.user_pool import UserDirectory


def browser_client_options() -> dict[str, object]:
    """What every browser app client has in common (the API's and the viewer stack's)."""
    return {
        "generate_secret": False,
        "auth_flows": cognito.AuthFlow(user_srp=True),
        "supported_identity_providers": [cognito.UserPoolClientIdentityProvider.COGNITO],
        "prevent_user_existence_errors": True,
        "enable_token_revocation": True,
        "access_token_validity": Duration.hours(1),
        "id_token_validity": Duration.hours(1),
        "refresh_token_validity": Duration.hours(12),
    }


class AppClients(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        directory: UserDirectory,
        callback_urls: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        pool = directory.user_pool
        api_scopes = [directory.scope(name) for name in scopes.DESCRIPTIONS]
        self.browser = pool.add_client(
            "BrowserViewer",
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, *api_scopes],
                callback_urls=list(callback_urls) or None,
                logout_urls=list(callback_urls) or None,
            ),
            **browser_client_options(),  # type: ignore[arg-type]
        )
        self.machine = pool.add_client(
            "Machine",
            generate_secret=True,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(client_credentials=True),
                scopes=[directory.scope(scopes.READ), directory.scope(scopes.WRITE)],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
        )
        # The resource server must exist before clients can be granted its scopes.
        self.browser.node.add_dependency(directory.resource_server)
        self.machine.node.add_dependency(directory.resource_server)
