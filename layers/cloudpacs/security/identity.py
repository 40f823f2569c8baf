"""Who is calling: the verified principal every service call carries (DESIGN.md §7).

Three sources build an ``Identity``:

- In AWS, API Gateway's Cognito user-pool authorizer has verified the token before the Lambda
  runs; the REST API (v1) event carries the token's claims in
  ``event["requestContext"]["authorizer"]["claims"]``, every value flattened to a string.
  ``cognito:groups`` arrives as a comma-separated string (``"viewer,technologist"``); the HTTP
  API (v2) JWT authorizer instead sends array claims as ``"[viewer technologist]"``. Tokens
  verified locally carry a JSON list. ``parse_groups`` accepts all of these.
- Locally, ``JwtVerifier`` (``jwt_verifier.py``) verifies a bearer token and calls
  ``identity_from_claims``.
- The DIMSE bridge maps the calling AE title to roles (``ae_roles.py``).
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cloudpacs.errors import Unauthorized
from cloudpacs.security.permissions import Role, roles_from_groups

DEFAULT_ROLES_CLAIM = "cognito:groups"
_USERNAME_CLAIMS = ("cognito:username", "username", "preferred_username")


class AuthMethod(enum.StrEnum):
    COGNITO_AUTHORIZER = "cognito_authorizer"
    """Verified by API Gateway's Cognito authorizer before the function ran."""
    JWT = "jwt"
    """Bearer JWT verified in-process against the provider's JWKS."""
    AE_TITLE = "ae_title"
    """DIMSE association, role from the calling AE title."""
    NONE = "none"
    """``--auth none`` on loopback: no verification at all."""


@dataclass(frozen=True)
class Identity:
    subject: str
    """Stable id of the principal (the token's ``sub``; ``ae:<title>`` for DIMSE peers)."""
    username: str
    roles: frozenset[Role]
    source_address: str | None
    auth_method: AuthMethod
    groups: tuple[str, ...] = field(default=())
    """Every group the provider reported, recognised or not (for diagnostics)."""

    @classmethod
    def local_operator(cls, source_address: str | None = None) -> Identity:
        """The principal of a server run with ``--auth none`` (loopback only): an admin."""
        return cls(
            subject="local",
            username="local",
            roles=frozenset({Role.ADMIN}),
            source_address=source_address,
            auth_method=AuthMethod.NONE,
        )


def parse_groups(value: object) -> tuple[str, ...]:
    """Group names from a claim value in any of the shapes providers and gateways send.

    ``["a", "b"]`` (JSON list in a token), ``"a,b"`` (API Gateway REST authorizer),
    ``"[a b]"`` (API Gateway HTTP API authorizer), ``'["a","b"]'`` (a JSON-encoded list), and
    ``"a"``. Names are taken exactly as sent, never stripped: a group named ``" admin"`` is
    not ``admin`` (Cognito group names may contain blanks). Empty entries are dropped; order
    is kept; duplicates are removed. The HTTP API shape separates names by one blank, so a
    name with a blank at either end cannot be told apart there: such a claim grants nothing.
    """
    if value is None:
        return ()
    if isinstance(value, (list, tuple)):
        items = [v for v in value if isinstance(v, str)]
    elif isinstance(value, str):
        bracketed = value.startswith("[") and value.endswith("]")
        items = _bracketed(value) if bracketed else value.split(",")
    else:
        return ()
    return tuple(dict.fromkeys(item for item in items if item))


def _bracketed(text: str) -> list[str]:
    try:
        decoded = json.loads(text)
    except ValueError:
        decoded = None
    if isinstance(decoded, list):
        return [v for v in decoded if isinstance(v, str)]
    inner = text[1:-1]
    names = inner.split(" ") if inner else []
    return [] if "" in names else names


def claim_value(claims: Mapping[str, Any], name: str) -> object:
    """The claim ``name``; a dotted name not present as such is looked up as a path, so
    Keycloak's ``realm_access.roles`` works as well as Cognito's ``cognito:groups``."""
    if name in claims:
        return claims[name]
    value: object = claims
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


MACHINE_SCOPE_ROLES: Mapping[str, str] = {
    "cloudpacs/read": "viewer",
    "cloudpacs/write": "technologist",
    "cloudpacs/delete": "admin",
}
"""Roles of machine clients (OAuth client credentials), which carry scopes, not groups.
Only the release-checks client (stacks/auth/clients.py) may ask for ``cloudpacs/delete``: the
smoke test deletes what it stored, and deleting is an admin action."""

PERSON_CLAIMS = ("username", "cognito:username", "cognito:groups", DEFAULT_ROLES_CLAIM)
"""Claims Cognito puts only in tokens issued to a user (access and ID tokens alike)."""


def is_machine_token(claims: Mapping[str, Any], roles_claim: str = DEFAULT_ROLES_CLAIM) -> bool:
    """A client-credentials access token (RFC 6749 §4.4), never a person's token.

    Cognito issues these with ``token_use`` ``access``, ``sub`` equal to ``client_id`` and
    no user claims at all; a user's access token always carries ``username`` (and
    ``cognito:groups`` when the user is in a group), and its ``sub`` is the user's UUID. All
    of these must hold: ``token_use == "access"``, a non-empty ``client_id`` equal to
    ``sub``, and none of ``PERSON_CLAIMS`` nor the configured roles claim present, even
    empty.
    """
    client_id = claims.get("client_id")
    if claims.get("token_use") != "access" or not isinstance(client_id, str) or not client_id:
        return False
    if claims.get("sub") != client_id:
        return False
    if any(name in claims for name in PERSON_CLAIMS):
        return False
    return claim_value(claims, roles_claim) is None


def machine_groups(
    claims: Mapping[str, Any], roles_claim: str = DEFAULT_ROLES_CLAIM
) -> tuple[str, ...]:
    """Role names granted by the scopes of a client-credentials token, else ().

    Only ``is_machine_token`` tokens get roles from scopes (``MACHINE_SCOPE_ROLES``:
    ``cloudpacs/read`` -> viewer, ``cloudpacs/write`` -> technologist, ``cloudpacs/delete`` ->
    admin, nothing else): a person's token always takes its
    roles from groups, whatever scopes their app client asked for.
    """
    if not is_machine_token(claims, roles_claim):
        return ()
    scope = claims.get("scope")
    scopes = scope.split(" ") if isinstance(scope, str) else []
    return tuple(sorted({MACHINE_SCOPE_ROLES[s] for s in scopes if s in MACHINE_SCOPE_ROLES}))


def identity_from_claims(
    claims: Mapping[str, Any],
    *,
    auth_method: AuthMethod,
    source_address: str | None = None,
    roles_claim: str = DEFAULT_ROLES_CLAIM,
) -> Identity:
    """Build an ``Identity`` from verified token claims; no ``sub`` raises ``Unauthorized``."""
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise Unauthorized("the token has no subject ('sub' claim)")
    username = subject
    for name in _USERNAME_CLAIMS:
        candidate = claims.get(name)
        if isinstance(candidate, str) and candidate:
            username = candidate
            break
    groups = parse_groups(claim_value(claims, roles_claim)) or machine_groups(claims, roles_claim)
    return Identity(
        subject=subject,
        username=username,
        roles=roles_from_groups(groups),
        source_address=source_address,
        auth_method=auth_method,
        groups=groups,
    )


def identity_from_apigw_claims(
    claims: Mapping[str, Any] | None,
    *,
    source_address: str | None = None,
    roles_claim: str = DEFAULT_ROLES_CLAIM,
) -> Identity:
    """Identity from a REST API Cognito authorizer's ``requestContext.authorizer.claims``.

    Missing claims mean no authorizer ran for this method: refused with ``Unauthorized``.
    """
    if not claims:
        raise Unauthorized("no authorizer claims in the request (is the method protected?)")
    return identity_from_claims(
        claims,
        auth_method=AuthMethod.COGNITO_AUTHORIZER,
        source_address=source_address,
        roles_claim=roles_claim,
    )


def identity_from_apigw_event(
    event: Mapping[str, Any], *, roles_claim: str = DEFAULT_ROLES_CLAIM
) -> Identity:
    """Identity from a whole REST API proxy event (Mangum: ``scope["aws.event"]``).

    Reads ``requestContext.authorizer.claims`` and the caller's address from
    ``requestContext.identity.sourceIp``.
    """
    context = event.get("requestContext") or {}
    authorizer = context.get("authorizer") or {}
    source = (context.get("identity") or {}).get("sourceIp")
    return identity_from_apigw_claims(
        authorizer.get("claims"),
        source_address=source if isinstance(source, str) else None,
        roles_claim=roles_claim,
    )
