"""The permission matrix: which role may do which action (DESIGN.md §7).

The matrix is data (``PERMISSIONS``), so that it can be read, reviewed and tested as a table.
Roles come from identity-provider groups (Cognito groups, OIDC group claims) or from the AE
title map of the DIMSE bridge. Group names are matched exactly: a group that is not one of the
four role names grants nothing. A principal in several groups gets the union of their actions;
a principal with no recognised group gets nothing (fail closed).

``researcher`` reads only the de-identified research store (``*_RESEARCH`` actions): it never
sees the identified archive. ``admin`` may do everything, including the research reads.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Protocol


class Action(enum.StrEnum):
    SEARCH = "search"
    RETRIEVE = "retrieve"
    STORE = "store"
    UPLOAD = "upload"
    """Large uploads through a presigned URL (DESIGN.md §5)."""
    DELETE = "delete"
    UPDATE = "update"
    """Corrections of patient and study attributes, patient merges (``services.corrections``)."""
    HOLD = "hold"
    """Place a legal hold on a study (docs/lifecycle.md)."""
    RELEASE_HOLD = "release_hold"
    DEIDENTIFY = "deidentify"
    READ_AUDIT = "read_audit"
    SEARCH_RESEARCH = "search_research"
    RETRIEVE_RESEARCH = "retrieve_research"


class Role(enum.StrEnum):
    VIEWER = "viewer"
    TECHNOLOGIST = "technologist"
    RESEARCHER = "researcher"
    ADMIN = "admin"


_VIEWER = frozenset({Action.SEARCH, Action.RETRIEVE})

PERMISSIONS: Mapping[Role, frozenset[Action]] = MappingProxyType(
    {
        Role.VIEWER: _VIEWER,
        Role.TECHNOLOGIST: _VIEWER | {Action.STORE, Action.UPLOAD},
        Role.RESEARCHER: frozenset({Action.SEARCH_RESEARCH, Action.RETRIEVE_RESEARCH}),
        Role.ADMIN: frozenset(Action),
    }
)
"""Role -> the actions it grants. The only place permissions are defined."""


class HasRoles(Protocol):
    """What ``authorize`` needs of a principal (``Identity`` satisfies it)."""

    @property
    def username(self) -> str: ...

    @property
    def roles(self) -> frozenset[Role]: ...


def roles_from_groups(groups: Iterable[str]) -> frozenset[Role]:
    """The roles named by ``groups``; unknown group names are dropped (exact match)."""
    known = {role.value: role for role in Role}
    return frozenset(known[g] for g in groups if g in known)


def allowed_actions(roles: Iterable[Role]) -> frozenset[Action]:
    """The union of the actions granted by ``roles``."""
    actions: frozenset[Action] = frozenset()
    for role in roles:
        actions |= PERMISSIONS.get(role, frozenset())
    return actions


def roles_granting(action: Action) -> tuple[Role, ...]:
    """The roles that grant ``action``, in declaration order (for messages)."""
    return tuple(role for role in Role if action in PERMISSIONS[role])


@dataclass(frozen=True)
class Decision:
    """The outcome of one permission check; ``reason`` is fit for a 403 body."""

    allowed: bool
    action: Action
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def authorize(identity: HasRoles, action: Action) -> Decision:
    """Decide whether ``identity`` may perform ``action``."""
    roles = identity.roles
    if not roles:
        return Decision(
            False,
            action,
            f"user {identity.username!r} has no cloudpacs role "
            f"(member of none of the groups: {_names(Role)})",
        )
    granting = [role for role in sorted(roles) if action in PERMISSIONS.get(role, frozenset())]
    if granting:
        return Decision(True, action, f"role {granting[0].value!r} grants {action.value!r}")
    return Decision(
        False,
        action,
        f"action {action.value!r} needs one of the roles {_names(roles_granting(action))}; "
        f"user {identity.username!r} has {_names(sorted(roles))}",
    )


def _names(roles: Iterable[Role]) -> str:
    return ", ".join(role.value for role in roles)
