"""The authenticator of ``settings.auth`` (``cloudpacs.web.authn`` describes the modes)."""

from __future__ import annotations

from cloudpacs.settings import Settings
from cloudpacs.web.authn import ApiGatewayClaims, Authenticator, LocalOperator


def build_authenticator(settings: Settings) -> Authenticator:
    if settings.auth == "oidc":
        # The JWT library is imported only where tokens are verified in-process.
        from cloudpacs.security.jwt_verifier import JwtVerifier
        from cloudpacs.web.bearer import BearerJwt

        assert settings.oidc_jwks_url and settings.oidc_issuer
        verifier = JwtVerifier(
            settings.oidc_jwks_url,
            settings.oidc_issuer,
            audience=settings.oidc_audience,
            client_id=settings.oidc_client_id,
            roles_claim=settings.oidc_roles_claim,
        )
        return BearerJwt(verifier)
    if settings.auth == "apigateway":
        return ApiGatewayClaims(settings.oidc_roles_claim)
    return LocalOperator()
