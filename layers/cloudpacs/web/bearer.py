"""``auth: oidc``: bearer JWTs verified in-process (``cloudpacs.web.authn`` picks the mode)."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers

from cloudpacs.security.identity import Identity
from cloudpacs.security.jwt_verifier import JwksUnavailable, JwtVerifier, TokenRejected
from cloudpacs.web.authn import AuthFailure, Scope, client_address


class BearerJwt:
    """``auth: oidc``: bearer JWTs verified in-process."""

    def __init__(self, verifier: JwtVerifier) -> None:
        self.verifier = verifier

    async def authenticate(self, scope: Scope) -> Identity:
        header = Headers(scope=scope).get("authorization")
        if not header:
            raise AuthFailure(
                401, "no bearer token: send 'Authorization: Bearer <token>'", "no_token"
            )
        try:
            # Verification may fetch the JWKS (network I/O): keep it off the event loop.
            return await run_in_threadpool(
                self.verifier.authenticate, header, source_address=client_address(scope)
            )
        except TokenRejected as exc:
            code = "token_expired" if "expired" in exc.reason else "invalid_token"
            raise AuthFailure(401, exc.reason, code, token_presented=True) from None
        except JwksUnavailable as exc:
            raise AuthFailure(503, exc.reason, "idp_unavailable") from None
