"""Identity from API Gateway authorizer claims and from verified token claims."""

from __future__ import annotations

from typing import Any

import pytest

from cloudpacs.errors import Unauthorized
from cloudpacs.security.identity import (
    AuthMethod,
    Identity,
    identity_from_apigw_claims,
    identity_from_apigw_event,
    identity_from_claims,
    parse_groups,
)
from cloudpacs.security.permissions import Role


@pytest.mark.parametrize(
    ("value", "groups"),
    [
        ("viewer", ("viewer",)),
        ("viewer,technologist", ("viewer", "technologist")),  # REST API authorizer
        ("viewer,technologist,", ("viewer", "technologist")),
        ("[viewer technologist]", ("viewer", "technologist")),  # HTTP API JWT authorizer
        ("[viewer]", ("viewer",)),
        ("[]", ()),
        ('["viewer","admin"]', ("viewer", "admin")),  # JSON-encoded list
        (["viewer", "admin"], ("viewer", "admin")),  # verified token
        (("admin",), ("admin",)),
        (["viewer", "viewer"], ("viewer",)),
        ("", ()),
        (None, ()),
        (42, ()),
        ({"viewer": True}, ()),
    ],
)
def test_parse_groups(value: Any, groups: tuple[str, ...]) -> None:
    assert parse_groups(value) == groups


@pytest.mark.parametrize(
    "value",
    [
        " admin",
        "admin ",
        " admin ",
        "viewer, admin",
        "admin\t",
        [" admin"],
        ["admin "],
        '[" admin"]',
        "[ admin]",  # HTTP API shape: a blank at either end of a name cannot be told apart
        "[admin ]",
        "[viewer  admin]",
        ["Admin"],
        ["ADMIN"],
    ],
)
def test_group_names_with_blanks_or_other_case_grant_no_role(value: Any) -> None:
    """Roles come only from exactly matching group names (DESIGN.md §7): a group called
    ``" admin"`` is a different group, never ``admin``."""
    claims = {"sub": "u-1", "username": "mallory", "cognito:groups": value}
    identity = identity_from_claims(claims, auth_method=AuthMethod.JWT)
    assert Role.ADMIN not in identity.roles
    apigw = identity_from_apigw_claims(claims)
    assert Role.ADMIN not in apigw.roles


def rest_api_event(claims: dict[str, Any] | None) -> dict[str, Any]:
    """The parts of a REST API (v1) proxy event a Cognito-authorized method receives."""
    context: dict[str, Any] = {
        "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
        "identity": {"sourceIp": "203.0.113.7", "userAgent": "dicomweb-client"},
    }
    if claims is not None:
        context["authorizer"] = {"claims": claims}
    return {"resource": "/studies", "httpMethod": "GET", "requestContext": context}


# What API Gateway passes for a Cognito ID token: every value a string, times rendered as text.
COGNITO_ID_CLAIMS = {
    "sub": "4e2b1c7a-0000-4000-8000-000000000001",
    "cognito:groups": "technologist,viewer",
    "cognito:username": "rad.tech",
    "aud": "5b4vbc2c3e2n6kj0pd0kfq2kq6",
    "token_use": "id",
    "iss": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Example",
    "exp": "Tue Apr 04 18:39:39 UTC 2023",
    "iat": "Tue Apr 04 17:39:39 UTC 2023",
    "email": "rad.tech@example.org",
}


def test_identity_from_rest_api_event() -> None:
    identity = identity_from_apigw_event(rest_api_event(COGNITO_ID_CLAIMS))
    assert identity == Identity(
        subject="4e2b1c7a-0000-4000-8000-000000000001",
        username="rad.tech",
        roles=frozenset({Role.TECHNOLOGIST, Role.VIEWER}),
        source_address="203.0.113.7",
        auth_method=AuthMethod.COGNITO_AUTHORIZER,
        groups=("technologist", "viewer"),
    )


def test_access_token_claims_use_username() -> None:
    claims = {"sub": "s", "username": "bob", "client_id": "c", "cognito:groups": "viewer"}
    identity = identity_from_apigw_claims(claims)
    assert identity.username == "bob"
    assert identity.roles == {Role.VIEWER}


def test_no_groups_claim_means_no_roles() -> None:
    claims = {k: v for k, v in COGNITO_ID_CLAIMS.items() if k != "cognito:groups"}
    assert identity_from_apigw_claims(claims).roles == frozenset()


def test_unknown_groups_are_kept_for_diagnostics_but_grant_nothing() -> None:
    identity = identity_from_apigw_claims({**COGNITO_ID_CLAIMS, "cognito:groups": "doctors"})
    assert identity.groups == ("doctors",)
    assert identity.roles == frozenset()


def test_configurable_roles_claim() -> None:
    claims = {"sub": "s", "preferred_username": "kc-user", "realm_roles": ["admin"]}
    identity = identity_from_claims(claims, auth_method=AuthMethod.JWT, roles_claim="realm_roles")
    assert identity.username == "kc-user"
    assert identity.roles == {Role.ADMIN}


def test_username_falls_back_to_subject() -> None:
    identity = identity_from_claims({"sub": "only-sub"}, auth_method=AuthMethod.JWT)
    assert identity.username == "only-sub"


@pytest.mark.parametrize("event", [rest_api_event(None), rest_api_event({}), {}])
def test_missing_authorizer_claims_are_refused(event: dict[str, Any]) -> None:
    with pytest.raises(Unauthorized, match="no authorizer claims"):
        identity_from_apigw_event(event)


@pytest.mark.parametrize("claims", [{"cognito:groups": "admin"}, {"sub": ""}, {"sub": 7}])
def test_claims_without_subject_are_refused(claims: dict[str, Any]) -> None:
    with pytest.raises(Unauthorized, match="no subject"):
        identity_from_claims(claims, auth_method=AuthMethod.JWT)


def test_local_operator_is_admin_without_verification() -> None:
    identity = Identity.local_operator("127.0.0.1")
    assert identity.roles == {Role.ADMIN}
    assert identity.auth_method is AuthMethod.NONE


def test_nested_roles_claim() -> None:
    claims = {"sub": "s", "realm_access": {"roles": ["viewer", "offline_access"]}}
    identity = identity_from_claims(
        claims, auth_method=AuthMethod.JWT, roles_claim="realm_access.roles"
    )
    assert identity.roles == {Role.VIEWER}
    assert (
        identity_from_claims(
            {"sub": "s", "realm_access": "x"},
            auth_method=AuthMethod.JWT,
            roles_claim="realm_access.roles",
        ).roles
        == frozenset()
    )
