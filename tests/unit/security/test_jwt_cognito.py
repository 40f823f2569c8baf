"""JwtVerifier on tokens issued by moto's Cognito user pool (DESIGN.md §7).

moto serves the pool's JWKS at the real Cognito URL
``https://cognito-idp.<region>.amazonaws.com/<pool>/.well-known/jwks.json``, but only to
clients it intercepts (``requests`` / botocore), not to ``urllib``, which ``PyJWKClient``
uses. So the test fetches the key set from moto's endpoint with ``requests`` inside
``mock_aws`` and serves that same document on loopback for the verifier: the keys come from
moto's own endpoint, offline.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
import requests
from moto import mock_aws

from cloudpacs.security.jwt_verifier import JwtVerifier, TokenRejected
from cloudpacs.security.permissions import Action, Role, authorize

from .jwks_server import JwksServer

REGION = "eu-west-1"
PASSWORD = "Correct-Horse-9!"


@dataclass
class Pool:
    client: Any
    pool_id: str
    client_id: str
    issuer: str
    jwks: dict[str, Any]

    def add_user(self, name: str, *groups: str) -> None:
        self.client.admin_create_user(
            UserPoolId=self.pool_id,
            Username=name,
            TemporaryPassword="Temp-Passw0rd!",
            MessageAction="SUPPRESS",
        )
        self.client.admin_set_user_password(
            UserPoolId=self.pool_id, Username=name, Password=PASSWORD, Permanent=True
        )
        for group in groups:
            self.client.admin_add_user_to_group(
                UserPoolId=self.pool_id, Username=name, GroupName=group
            )

    def login(self, name: str) -> dict[str, str]:
        result = self.client.initiate_auth(
            ClientId=self.client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD},
        )
        tokens: dict[str, str] = result["AuthenticationResult"]
        return tokens

    def admin_login(self, name: str) -> dict[str, str]:
        result = self.client.admin_initiate_auth(
            UserPoolId=self.pool_id,
            ClientId=self.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": name, "PASSWORD": PASSWORD},
        )
        tokens: dict[str, str] = result["AuthenticationResult"]
        return tokens


def make_pool(client: Any, name: str) -> Pool:
    pool_id = client.create_user_pool(PoolName=name)["UserPool"]["Id"]
    client_id = client.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=f"{name}-web",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_ADMIN_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    for group in ("viewer", "technologist", "researcher", "admin"):
        client.create_group(UserPoolId=pool_id, GroupName=group)
    issuer = f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"
    jwks = requests.get(f"{issuer}/.well-known/jwks.json", timeout=5).json()
    return Pool(client, pool_id, client_id, issuer, jwks)


@pytest.fixture
def pool() -> Iterator[Pool]:
    with mock_aws():
        yield make_pool(boto3.client("cognito-idp", region_name=REGION), "pacs")


@pytest.fixture
def jwks_url(pool: Pool) -> Iterator[str]:
    with JwksServer() as server:
        server.jwks = pool.jwks
        yield server.url


@pytest.fixture
def verifier(pool: Pool, jwks_url: str) -> JwtVerifier:
    return JwtVerifier(jwks_url, pool.issuer, client_id=pool.client_id)


def test_moto_serves_an_rs256_signing_key(pool: Pool) -> None:
    (key,) = pool.jwks["keys"]
    assert key["kty"] == "RSA"
    assert key["alg"] == "RS256"


def test_id_token_with_groups(pool: Pool, verifier: JwtVerifier) -> None:
    pool.add_user("tech", "technologist", "viewer")
    identity = verifier.identity(pool.login("tech")["IdToken"])
    assert identity.username == "tech"
    assert identity.roles == {Role.TECHNOLOGIST, Role.VIEWER}
    assert authorize(identity, Action.STORE).allowed
    assert not authorize(identity, Action.DELETE).allowed


def test_access_token_verified_by_client_id(pool: Pool, verifier: JwtVerifier) -> None:
    pool.add_user("boss", "admin")
    tokens = pool.admin_login("boss")
    claims = verifier.verify(tokens["AccessToken"])
    assert claims["token_use"] == "access"
    assert "aud" not in claims
    assert verifier.identity(tokens["AccessToken"]).roles == {Role.ADMIN}


def test_user_in_no_group_gets_no_role(pool: Pool, verifier: JwtVerifier) -> None:
    pool.add_user("nobody")
    identity = verifier.identity(pool.login("nobody")["IdToken"])
    assert identity.roles == frozenset()
    assert not authorize(identity, Action.SEARCH).allowed


def test_token_of_another_app_client_is_refused(pool: Pool, verifier: JwtVerifier) -> None:
    other_client = pool.client.create_user_pool_client(
        UserPoolId=pool.pool_id,
        ClientName="other",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
    )["UserPoolClient"]["ClientId"]
    pool.add_user("carol", "viewer")
    tokens = pool.client.initiate_auth(
        ClientId=other_client,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": "carol", "PASSWORD": PASSWORD},
    )["AuthenticationResult"]
    with pytest.raises(TokenRejected, match="audience"):
        verifier.verify(tokens["IdToken"])
    with pytest.raises(TokenRejected, match="another client"):
        verifier.verify(tokens["AccessToken"])


def test_token_of_another_pool_is_refused(pool: Pool, verifier: JwtVerifier) -> None:
    other = make_pool(pool.client, "elsewhere")
    other.add_user("mallory", "admin")
    with pytest.raises(TokenRejected, match="untrusted issuer"):
        verifier.verify(other.login("mallory")["IdToken"])


def test_access_tokens_only(pool: Pool, jwks_url: str) -> None:
    pool.add_user("dave", "viewer")
    tokens = pool.login("dave")
    strict = JwtVerifier(jwks_url, pool.issuer, client_id=pool.client_id, token_use={"access"})
    strict.verify(tokens["AccessToken"])
    with pytest.raises(TokenRejected, match="token_use"):
        strict.verify(tokens["IdToken"])
