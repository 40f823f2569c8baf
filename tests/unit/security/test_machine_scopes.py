"""Machine clients (OAuth client credentials: Cognito access tokens with ``sub`` equal to
``client_id`` and no groups) get roles from their scopes; people never do."""

from __future__ import annotations

from cloudpacs.security.identity import AuthMethod, identity_from_claims
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
