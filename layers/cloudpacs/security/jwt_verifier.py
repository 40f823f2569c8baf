"""Bearer-token verification for the local server (``cloudpacs serve --auth oidc``).

In AWS, API Gateway's Cognito authorizer verifies tokens; locally this module does the same
against any OIDC provider's JWKS (Cognito, Keycloak, ...), following RFC 8725 (JWT best
current practices):

- the signature algorithm is pinned to an allow-list of asymmetric algorithms; ``none`` and
  the HMAC family are refused at construction, so a token signed with the public key as an
  HMAC secret (algorithm confusion) can never verify;
- the key comes from the JWKS by ``kid`` and must be bound to the token's algorithm;
- ``exp``, ``iat``, ``iss`` and ``sub`` are required; ``iss`` must equal the configured issuer;
- the token must be meant for this application: its ``aud`` must name the configured
  audience (OIDC ID tokens; Cognito ID tokens carry the app client id there), or, for tokens
  without ``aud`` (Cognito access tokens), its ``client_id`` must equal the configured client.

Every refusal raises ``TokenRejected`` (401) with a reason a client can read; a JWKS endpoint
that cannot be reached raises ``JwksUnavailable`` (503): the server fails closed either way.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import jwt
from jwt import PyJWKClient

from cloudpacs.errors import CloudPacsError, Unauthorized
from cloudpacs.security.identity import (
    DEFAULT_ROLES_CLAIM,
    AuthMethod,
    Identity,
    identity_from_claims,
)

ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_REQUIRED_CLAIMS = ("exp", "iat", "iss", "sub")


class TokenRejected(Unauthorized):
    """The bearer token is missing, malformed, unverifiable or not meant for us (401)."""


class JwksUnavailable(CloudPacsError):
    """The provider's JWKS could not be fetched; no token can be verified (503)."""

    status = 503


class JwtVerifier:
    def __init__(
        self,
        jwks_url: str,
        issuer: str,
        *,
        audience: str | Sequence[str] | None = None,
        client_id: str | None = None,
        algorithms: Sequence[str] = ("RS256",),
        roles_claim: str = DEFAULT_ROLES_CLAIM,
        leeway: float = 30.0,
        token_use: Collection[str] | None = None,
        jwks_timeout: float = 5.0,
        jwks_cache_seconds: float = 300.0,
        jwks_client: PyJWKClient | None = None,
    ) -> None:
        """Verify tokens issued by ``issuer`` and signed by a key of ``jwks_url``.

        At least one of ``audience`` and ``client_id`` is required. ``token_use``, when
        given, restricts Cognito's ``token_use`` claim (e.g. ``{"access"}``). ``leeway`` is
        the clock skew, in seconds, tolerated on ``exp``, ``nbf`` and ``iat``.
        """
        if not algorithms:
            raise ValueError("at least one signature algorithm is required")
        refused = [a for a in algorithms if a not in ASYMMETRIC_ALGORITHMS]
        if refused:
            raise ValueError(
                f"refused signature algorithm(s) {', '.join(refused)}: "
                f"only asymmetric algorithms verify against a JWKS"
            )
        if not issuer:
            raise ValueError("the issuer is required")
        if audience is None and client_id is None:
            raise ValueError("an audience or a client id is required")
        self.issuer = issuer
        self.audiences: frozenset[str] = (
            frozenset()
            if audience is None
            else frozenset([audience] if isinstance(audience, str) else audience)
        )
        self.client_id = client_id
        self.algorithms = tuple(algorithms)
        self.roles_claim = roles_claim
        self.leeway = leeway
        self.token_use = frozenset(token_use) if token_use is not None else None
        self._jwks = jwks_client or PyJWKClient(
            jwks_url, cache_jwk_set=True, lifespan=jwks_cache_seconds, timeout=jwks_timeout
        )

    def verify(self, token: str) -> dict[str, Any]:
        """The verified claims of ``token``, or ``TokenRejected`` saying why not."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.DecodeError:
            raise TokenRejected("the bearer token is not a well-formed JWT") from None
        alg = header.get("alg")
        if alg not in self.algorithms:
            raise TokenRejected(
                f"signature algorithm {alg!r} is not accepted "
                f"(accepted: {', '.join(self.algorithms)})"
            )
        if not isinstance(header.get("kid"), str):
            raise TokenRejected("the token header names no signing key ('kid')")
        try:
            key = self._jwks.get_signing_key(header["kid"])
        except jwt.PyJWKClientConnectionError:
            raise JwksUnavailable(
                "the identity provider's signing keys cannot be fetched"
            ) from None
        except (jwt.PyJWKClientError, jwt.PyJWKError, jwt.PyJWKSetError):
            raise TokenRejected("the token is signed with an unknown key") from None
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(self.algorithms),
                issuer=self.issuer,
                leeway=self.leeway,
                options={"require": list(_REQUIRED_CLAIMS), "verify_aud": False},
            )
        except jwt.InvalidTokenError as exc:
            raise TokenRejected(_reason(exc)) from None
        self._check_recipient(claims)
        if self.token_use is not None and claims.get("token_use") not in self.token_use:
            raise TokenRejected(
                f"token_use {claims.get('token_use')!r} is not accepted "
                f"(accepted: {', '.join(sorted(self.token_use))})"
            )
        return claims

    def identity(self, token: str, *, source_address: str | None = None) -> Identity:
        """Verify ``token`` and build the caller's ``Identity``."""
        return self.identity_from_verified(self.verify(token), source_address=source_address)

    def identity_from_verified(
        self, claims: Mapping[str, Any], *, source_address: str | None = None
    ) -> Identity:
        try:
            return identity_from_claims(
                claims,
                auth_method=AuthMethod.JWT,
                source_address=source_address,
                roles_claim=self.roles_claim,
            )
        except Unauthorized as exc:
            raise TokenRejected(exc.reason) from None

    def authenticate(
        self, authorization: str | None, *, source_address: str | None = None
    ) -> Identity:
        """Identity from an ``Authorization`` header value (``Bearer <token>``)."""
        return self.identity(bearer_token(authorization), source_address=source_address)

    def _check_recipient(self, claims: Mapping[str, Any]) -> None:
        aud = claims.get("aud")
        if aud is not None:
            token_audiences = {aud} if isinstance(aud, str) else set(aud)
            accepted = self.audiences or (
                frozenset({self.client_id}) if self.client_id else frozenset()
            )
            if not token_audiences & accepted:
                raise TokenRejected("the token's audience ('aud') is not this application")
            return
        if self.client_id is None:
            raise TokenRejected("the token has no audience ('aud')")
        if claims.get("client_id") != self.client_id:
            raise TokenRejected("the token was issued to another client ('client_id')")


def bearer_token(authorization: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or ``TokenRejected``."""
    if not authorization:
        raise TokenRejected("no bearer token: send 'Authorization: Bearer <token>'")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise TokenRejected("the Authorization header is not of the form 'Bearer <token>'")
    return token.strip()


def _reason(exc: jwt.InvalidTokenError) -> str:
    if isinstance(exc, jwt.ExpiredSignatureError):
        return "the token has expired"
    if isinstance(exc, jwt.ImmatureSignatureError):
        return "the token is not valid yet ('nbf' or 'iat' in the future)"
    if isinstance(exc, jwt.InvalidIssuerError):
        return "the token was issued by an untrusted issuer ('iss')"
    if isinstance(exc, jwt.MissingRequiredClaimError):
        return f"the token lacks the required claim {exc.claim!r}"
    if isinstance(exc, jwt.InvalidSignatureError):
        return "the token's signature does not verify"
    if isinstance(exc, jwt.InvalidAlgorithmError):
        return "the token's algorithm does not match its signing key"
    if isinstance(exc, jwt.DecodeError):
        return "the bearer token is not a well-formed JWT"
    return "the token is invalid"
