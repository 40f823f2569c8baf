"""Machine clients (OAuth client credentials: Cognito access tokens with ``sub`` equal to
``client_id`` and no user claims) get roles from their scopes; people never do."""

from __future__ import annotations

from cloudpacs.security.identity import AuthMethod, identity_from_claims, is_machine_token
from cloudpacs.security.permissions import Role

MACHINE = {"sub": "3abc", "client_id": "3abc", "token_use": "access"}


def _roles(claims: dict[str, object]) -> frozenset[Role]:
    return frozenset(identity_from_claims(claims, auth_method=AuthMethod.JWT).roles)


def test_machine_scopes_grant_roles() -> None:
    assert _roles({**MACHINE, "scope": "cloudpacs/read"}) == {Role.VIEWER}
    assert _roles({**MACHINE, "scope": "cloudpacs/read cloudpacs/write"}) == {
        Role.VIEWER,
        Role.TECHNOLOGIST,
    }
    assert _roles({**MACHINE, "scope": "other/x cloudpacs/admin"}) == frozenset()


def test_delete_scope_is_the_release_checks_admin_role() -> None:
    """The release checks' client deletes its probes: its delete scope makes it an admin."""
    assert _roles({**MACHINE, "scope": "cloudpacs/delete other/x"}) == {Role.ADMIN}


def test_people_get_roles_from_groups_only() -> None:
    person = {"sub": "user-1", "client_id": "3abc", "scope": "cloudpacs/write"}
    assert _roles(person) == frozenset()
    assert _roles({**person, "cognito:groups": ["viewer"]}) == {Role.VIEWER}
    assert _roles({**MACHINE, "scope": "cloudpacs/write", "cognito:groups": []}) == frozenset()


# What Cognito emits. A client-credentials access token (POST /oauth2/token,
# grant_type=client_credentials): no user claims, ``sub`` is the app client's id.
CLIENT_CREDENTIALS = {
    "sub": "5f3vbm2nq9ej1k0d7a8s6t4r2c",
    "token_use": "access",
    "scope": "cloudpacs/read cloudpacs/write",
    "auth_time": 1795428000,
    "iss": "https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AbCdEfGhI",
    "exp": 1795431600,
    "iat": 1795428000,
    "version": 2,
    "jti": "39cdbc77-8743-4e1e-9669-96e62b165f1c",
    "client_id": "5f3vbm2nq9ej1k0d7a8s6t4r2c",
}
# A user's access token from the same pool, through an app client allowed the same scopes.
USER_ACCESS = {
    "sub": "4f8e2c1a-90b3-4d6e-a1f2-3c4d5e6f7a8b",
    "cognito:groups": ["viewer"],
    "iss": CLIENT_CREDENTIALS["iss"],
    "client_id": "3n4b5k6l7m8n9o0p1q2r3s4t5u",
    "origin_jti": "9a8b7c6d-5e4f-3a2b-1c0d-ef0123456789",
    "event_id": "1a2b3c4d-5e6f-7a8b-9c0d-ef1234567890",
    "token_use": "access",
    "scope": "cloudpacs/read cloudpacs/write",
    "auth_time": 1795428000,
    "exp": 1795431600,
    "iat": 1795428000,
    "jti": "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9",
    "username": "vera",
}


def test_cognito_client_credentials_token_is_a_machine() -> None:
    assert is_machine_token(CLIENT_CREDENTIALS)
    assert _roles(CLIENT_CREDENTIALS) == {Role.VIEWER, Role.TECHNOLOGIST}


def test_a_persons_token_is_never_taken_for_a_machines() -> None:
    """A user's token keeps its groups' roles, and without groups gets nothing, even when
    its ``sub`` were made to equal its ``client_id``: it carries user claims."""
    assert _roles(USER_ACCESS) == {Role.VIEWER}
    no_groups = {k: v for k, v in USER_ACCESS.items() if k != "cognito:groups"}
    assert _roles(no_groups) == frozenset()
    forged = {**no_groups, "sub": USER_ACCESS["client_id"]}
    assert not is_machine_token(forged)
    assert _roles(forged) == frozenset()
    for claim in ("username", "cognito:username", "cognito:groups"):
        assert _roles({**CLIENT_CREDENTIALS, claim: ""}) == frozenset(), claim


def test_only_access_tokens_are_machines() -> None:
    """An ID token (``token_use`` ``id``) or a token without ``token_use`` is a person's."""
    for token_use in ("id", None, "refresh"):
        claims = {**CLIENT_CREDENTIALS, "token_use": token_use}
        assert _roles(claims) == frozenset(), token_use


def test_machine_scopes_are_matched_exactly() -> None:
    for scope in ("cloudpacs/read/", "Cloudpacs/read", "cloudpacs/readx", "cloudpacs/*", ""):
        assert _roles({**CLIENT_CREDENTIALS, "scope": scope}) == frozenset(), scope
    assert _roles({**CLIENT_CREDENTIALS, "scope": ["cloudpacs/read"]}) == frozenset()


def test_configured_roles_claim_present_means_a_person() -> None:
    claims = {**CLIENT_CREDENTIALS, "realm_access": {"roles": []}}
    identity = identity_from_claims(
        claims, auth_method=AuthMethod.JWT, roles_claim="realm_access.roles"
    )
    assert identity.roles == frozenset()
