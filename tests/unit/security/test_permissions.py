"""The permission matrix of DESIGN.md §7, tested as a table."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from cloudpacs.security.identity import AuthMethod, Identity
from cloudpacs.security.permissions import (
    PERMISSIONS,
    Action,
    Role,
    allowed_actions,
    authorize,
    roles_from_groups,
    roles_granting,
)

A = Action
# role -> action -> allowed. Written out in full so that a change to the matrix is a visible,
# reviewed change to this table.
EXPECTED: dict[str, dict[Action, bool]] = {
    "viewer": {
        A.SEARCH: True,
        A.RETRIEVE: True,
        A.STORE: False,
        A.UPLOAD: False,
        A.DELETE: False,
        A.UPDATE: False,
        A.HOLD: False,
        A.RELEASE_HOLD: False,
        A.DEIDENTIFY: False,
        A.READ_AUDIT: False,
        A.SEARCH_RESEARCH: False,
        A.RETRIEVE_RESEARCH: False,
    },
    "technologist": {
        A.SEARCH: True,
        A.RETRIEVE: True,
        A.STORE: True,
        A.UPLOAD: True,
        A.DELETE: False,
        A.UPDATE: False,
        A.HOLD: False,
        A.RELEASE_HOLD: False,
        A.DEIDENTIFY: False,
        A.READ_AUDIT: False,
        A.SEARCH_RESEARCH: False,
        A.RETRIEVE_RESEARCH: False,
    },
    "researcher": {
        A.SEARCH: False,
        A.RETRIEVE: False,
        A.STORE: False,
        A.UPLOAD: False,
        A.DELETE: False,
        A.UPDATE: False,
        A.HOLD: False,
        A.RELEASE_HOLD: False,
        A.DEIDENTIFY: False,
        A.READ_AUDIT: False,
        A.SEARCH_RESEARCH: True,
        A.RETRIEVE_RESEARCH: True,
    },
    "admin": dict.fromkeys(Action, True),
}


def who(*groups: str) -> Identity:
    return Identity(
        subject="s-1",
        username="alice",
        roles=roles_from_groups(groups),
        source_address="10.0.0.1",
        auth_method=AuthMethod.JWT,
        groups=groups,
    )


def test_table_covers_every_role_and_action() -> None:
    assert set(EXPECTED) == {r.value for r in Role}
    for row in EXPECTED.values():
        assert set(row) == set(Action)


@pytest.mark.parametrize(
    ("role", "action", "allowed"),
    [(role, action, ok) for role, row in EXPECTED.items() for action, ok in row.items()],
)
def test_matrix(role: str, action: Action, allowed: bool) -> None:
    decision = authorize(who(role), action)
    assert decision.allowed is allowed
    assert bool(decision) is allowed
    assert decision.action is action
    assert (action in PERMISSIONS[Role(role)]) is allowed


@dataclass(frozen=True)
class Union:
    groups: tuple[str, ...]
    actions: frozenset[Action]


@pytest.mark.parametrize(
    "case",
    [
        Union(
            ("viewer", "researcher"),
            frozenset({A.SEARCH, A.RETRIEVE, A.SEARCH_RESEARCH, A.RETRIEVE_RESEARCH}),
        ),
        Union(("technologist", "viewer"), frozenset({A.SEARCH, A.RETRIEVE, A.STORE, A.UPLOAD})),
        Union(
            ("researcher", "technologist"),
            frozenset(Action)
            - {A.DELETE, A.UPDATE, A.HOLD, A.RELEASE_HOLD, A.DEIDENTIFY, A.READ_AUDIT},
        ),
        Union(("viewer", "admin"), frozenset(Action)),
        Union(("viewer", "no-such-group"), frozenset({A.SEARCH, A.RETRIEVE})),
    ],
    ids=lambda c: "+".join(c.groups),
)
def test_several_groups_get_the_union(case: Union) -> None:
    identity = who(*case.groups)
    assert allowed_actions(identity.roles) == case.actions
    for action in Action:
        assert authorize(identity, action).allowed is (action in case.actions)


@pytest.mark.parametrize(
    "groups",
    [(), ("",), ("Admin",), ("ADMIN",), ("admins",), (" viewer",), ("pacs-viewer", "users")],
    ids=repr,
)
def test_no_group_or_unknown_groups_get_nothing(groups: tuple[str, ...]) -> None:
    identity = who(*groups)
    assert identity.roles == frozenset()
    for action in Action:
        decision = authorize(identity, action)
        assert not decision.allowed
        assert "no cloudpacs role" in decision.reason


def test_denial_reason_names_the_action_the_needed_roles_and_the_user() -> None:
    decision = authorize(who("viewer"), Action.DELETE)
    assert decision.reason == (
        "action 'delete' needs one of the roles admin; user 'alice' has viewer"
    )
    decision = authorize(who("viewer"), Action.STORE)
    assert "technologist, admin" in decision.reason


def test_allow_reason_names_the_granting_role() -> None:
    assert authorize(who("technologist"), Action.STORE).reason == (
        "role 'technologist' grants 'store'"
    )


def test_roles_granting() -> None:
    assert roles_granting(Action.SEARCH) == (Role.VIEWER, Role.TECHNOLOGIST, Role.ADMIN)
    assert roles_granting(Action.READ_AUDIT) == (Role.ADMIN,)


def test_matrix_is_read_only() -> None:
    with pytest.raises(TypeError):
        PERMISSIONS[Role.VIEWER] = frozenset(Action)  # type: ignore[index]
