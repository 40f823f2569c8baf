"""Auth: invited users only, strong passwords, MFA required in production, role groups, and one
client per kind of caller."""

from __future__ import annotations

import pytest

from stacks.auth.user_pool import ROLE_GROUPS
from tests.infra.support import STAGES, Synthesized, only, resources


@pytest.mark.parametrize("stage", STAGES)
def test_user_pool_admits_only_invited_users(synthesized: Synthesized, stage: str) -> None:
    pool = only(synthesized.template_json(stage, "Auth"), "AWS::Cognito::UserPool")["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    policy = pool["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 14
    assert all(
        policy[flag]
        for flag in ("RequireLowercase", "RequireUppercase", "RequireNumbers", "RequireSymbols")
    )


@pytest.mark.parametrize("stage", STAGES)
def test_mfa_follows_settings(synthesized: Synthesized, stage: str) -> None:
    pool = only(synthesized.template_json(stage, "Auth"), "AWS::Cognito::UserPool")["Properties"]
    required = synthesized.settings.stages[stage].mfa_required
    assert pool["MfaConfiguration"] == ("ON" if required else "OPTIONAL")
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]


def test_prod_requires_mfa_and_threat_protection(synthesized: Synthesized) -> None:
    pool = only(synthesized.template_json("prod", "Auth"), "AWS::Cognito::UserPool")
    assert pool["Properties"]["MfaConfiguration"] == "ON"
    assert pool["Properties"]["UserPoolTier"] == "PLUS"
    assert pool["DeletionPolicy"] == "Retain"


@pytest.mark.parametrize("stage", STAGES)
def test_role_groups(synthesized: Synthesized, stage: str) -> None:
    groups = resources(synthesized.template_json(stage, "Auth"), "AWS::Cognito::UserPoolGroup")
    assert {g["Properties"]["GroupName"] for g in groups.values()} == set(ROLE_GROUPS)
    assert set(ROLE_GROUPS) == {"viewer", "technologist", "researcher", "admin"}


@pytest.mark.parametrize("stage", STAGES)
def test_browser_and_machine_clients(synthesized: Synthesized, stage: str) -> None:
    clients = resources(synthesized.template_json(stage, "Auth"), "AWS::Cognito::UserPoolClient")
    by_flow = {
        tuple(c["Properties"]["AllowedOAuthFlows"]): c["Properties"]
        for cid, c in clients.items()
        if "ReleaseChecks" not in cid  # the release checks' own client: test_release_checks
    }
    browser, machine = by_flow[("code",)], by_flow[("client_credentials",)]
    assert not browser.get("GenerateSecret")  # public client: authorization code + PKCE
    assert browser["CallbackURLs"] == list(synthesized.settings.stages[stage].viewer_callback_urls)
    assert machine["GenerateSecret"] is True
    # Machines may read and store; deleting stays with people (admins).
    machine_scopes = [str(scope) for scope in machine["AllowedOAuthScopes"]]
    assert sorted(scope.rsplit("/", 1)[-1].strip("'\"]}") for scope in machine_scopes) == [
        "read",
        "write",
    ]
    for client in (browser, machine):
        assert client["PreventUserExistenceErrors"] == "ENABLED"
        assert client["EnableTokenRevocation"] is True


@pytest.mark.parametrize("stage", STAGES)
def test_resource_server_scopes(synthesized: Synthesized, stage: str) -> None:
    server = only(synthesized.template_json(stage, "Auth"), "AWS::Cognito::UserPoolResourceServer")
    assert server["Properties"]["Identifier"] == "cloudpacs"
    assert {s["ScopeName"] for s in server["Properties"]["Scopes"]} == {"read", "write", "delete"}
