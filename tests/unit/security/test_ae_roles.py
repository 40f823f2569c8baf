"""Calling AE title -> roles for the DIMSE bridge: first matching rule wins."""

from __future__ import annotations

import re

import pytest

from cloudpacs.security.ae_roles import AeRoleMap, AeRule
from cloudpacs.security.identity import AuthMethod
from cloudpacs.security.permissions import Action, Role, authorize

CONFIG = {
    "CT_SCANNER_LAB": "viewer",
    "CT_SCANNER_*": "technologist",
    "WORKSTATION_*": "viewer",
    "MR?": ["technologist"],
    "PACS_MAIN": ["viewer", "technologist"],
    "ARCHIVE_ADMIN": "admin",
}


@pytest.fixture
def ae_map() -> AeRoleMap:
    return AeRoleMap.from_mapping(CONFIG)


@pytest.mark.parametrize(
    ("title", "roles"),
    [
        ("CT_SCANNER_01", {Role.TECHNOLOGIST}),
        ("CT_SCANNER_", {Role.TECHNOLOGIST}),  # '*' also matches nothing
        ("CT_SCANNER_LAB", {Role.VIEWER}),  # exact rule listed first wins
        ("  CT_SCANNER_02 ", {Role.TECHNOLOGIST}),  # padding is not significant
        ("WORKSTATION_7", {Role.VIEWER}),
        ("MR1", {Role.TECHNOLOGIST}),
        ("MR12", set()),  # '?' is exactly one character
        ("MR", set()),
        ("PACS_MAIN", {Role.VIEWER, Role.TECHNOLOGIST}),
        ("ARCHIVE_ADMIN", {Role.ADMIN}),
        ("ct_scanner_01", set()),  # case-sensitive
        ("XCT_SCANNER_01", set()),  # anchored at the start
        ("UNKNOWN", set()),
        ("", set()),
        ("A" * 17, set()),
    ],
)
def test_roles_for(ae_map: AeRoleMap, title: str, roles: set[Role]) -> None:
    assert ae_map.roles_for(title) == roles


def test_identity_for_a_known_title(ae_map: AeRoleMap) -> None:
    identity = ae_map.identity("CT_SCANNER_01 ", source_address="10.1.2.3")
    assert identity.subject == "ae:CT_SCANNER_01"
    assert identity.username == "CT_SCANNER_01"
    assert identity.auth_method is AuthMethod.AE_TITLE
    assert identity.source_address == "10.1.2.3"
    assert authorize(identity, Action.STORE).allowed
    assert not authorize(identity, Action.DELETE).allowed


def test_unknown_title_gets_nothing(ae_map: AeRoleMap) -> None:
    identity = ae_map.identity("ROGUE")
    assert identity.roles == frozenset()
    assert not any(authorize(identity, a).allowed for a in Action)


def test_regex_characters_are_literal() -> None:
    ae_map = AeRoleMap.from_mapping({"A.B+": "viewer"})
    assert ae_map.roles_for("A.B+") == {Role.VIEWER}
    assert ae_map.roles_for("AXBB") == frozenset()


def test_match_returns_the_rule(ae_map: AeRoleMap) -> None:
    rule = ae_map.match("WORKSTATION_1")
    assert rule == AeRule("WORKSTATION_*", frozenset({Role.VIEWER}))
    assert ae_map.match("NOBODY") is None


@pytest.mark.parametrize(
    ("config", "shadowed"),
    [
        ({"CT_*": "viewer", "CT_SCANNER_1": "technologist"}, "CT_SCANNER_1"),
        ({"CT_*": "viewer", "CT_SCANNER_*": "technologist"}, "CT_SCANNER_*"),
        ({"*": "viewer", "ANY?": "admin"}, "ANY?"),
        ({"A?C": "viewer", "ABC": "admin"}, "ABC"),
        ({"Z*": "viewer", "Y": "admin", "Z*1": "admin"}, "Z*1"),
    ],
)
def test_unreachable_rules_are_refused(config: dict[str, str], shadowed: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"rule {shadowed!r} can never match")):
        AeRoleMap.from_mapping(config)


def test_more_specific_after_less_specific_is_allowed_when_reachable() -> None:
    ae_map = AeRoleMap.from_mapping({"CT_A*": "viewer", "CT_*": "technologist"})
    assert ae_map.roles_for("CT_A1") == {Role.VIEWER}
    assert ae_map.roles_for("CT_B1") == {Role.TECHNOLOGIST}


@pytest.mark.parametrize("pattern", ["", "   ", "A" * 17, "BAD\\TITLE", "TAB\tX"])
def test_invalid_patterns(pattern: str) -> None:
    with pytest.raises(ValueError, match="invalid AE title pattern"):
        AeRoleMap.from_mapping({pattern: "viewer"})


def test_unknown_role_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="unknown role"):
        AeRoleMap.from_mapping({"CT_*": "radiologist"})
