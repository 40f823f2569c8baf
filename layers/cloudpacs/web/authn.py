"""Who is calling: one authenticator per ``settings.auth`` mode (DESIGN.md §7).

- ``none``: every client is the local operator (admin), but only clients on loopback; the
  settings refuse the mode on any other bind address, and this check refuses a request that
  arrives from elsewhere anyway (a proxy, or the mode set by mistake behind API Gateway).
- ``oidc``: ``Authorization: Bearer <JWT>`` verified by ``JwtVerifier`` against the
  provider's JWKS (Cognito, Keycloak, any OIDC provider): ``cloudpacs.web.bearer``.
- ``apigateway``: API Gateway's Cognito authorizer verified the token before the function
  ran; the claims come from the REST API event Mangum puts in ``scope["aws.event"]``.

A refusal is an ``AuthFailure``: the status (401, or 503 when the provider's keys cannot be
fetched), a reason for the client and a reason code for the audit trail.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from typing import Any, Protocol

from cloudpacs.errors import Unauthorized
from cloudpacs.security.identity import Identity, identity_from_apigw_event
from cloudpacs.settings import is_loopback

Scope = MutableMapping[str, Any]


class AuthFailure(Exception):
    def __init__(self, status: int, reason: str, code: str, *, token_presented: bool = False):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        """For the client (response body)."""
        self.code = code
        """For the audit trail (``reason``)."""
        self.token_presented = token_presented
        """A token was sent and refused: RFC 6750 ``error="invalid_token"``."""


class Authenticator(Protocol):
    async def authenticate(self, scope: Scope) -> Identity:
        """The caller's identity, or ``AuthFailure``."""


def client_address(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client and client[0] else None


class LocalOperator:
    """``auth: none``: the loopback operator is admin; nobody else is served."""

    async def authenticate(self, scope: Scope) -> Identity:
        address = client_address(scope)
        if address is None or not is_loopback(address):
            raise AuthFailure(
                403,
                "authentication is off on this server (auth 'none'), so it serves loopback "
                "clients only",
                "not_loopback",
            )
        return Identity.local_operator(address)


class ApiGatewayClaims:
    """``auth: apigateway``: claims of API Gateway's Cognito authorizer (REST API event)."""

    def __init__(self, roles_claim: str) -> None:
        self.roles_claim = roles_claim

    async def authenticate(self, scope: Scope) -> Identity:
        event = scope.get("aws.event")
        if not isinstance(event, Mapping):
            raise AuthFailure(
                401,
                "no API Gateway event: auth 'apigateway' serves requests through API Gateway only",
                "no_claims",
            )
        try:
            return identity_from_apigw_event(event, roles_claim=self.roles_claim)
        except Unauthorized as exc:
            raise AuthFailure(401, exc.reason, "no_claims") from None
