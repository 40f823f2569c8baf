"""JwtVerifier against a locally generated RSA key served as a JWKS over loopback HTTP.

PyJWT's ``PyJWKClient`` accepts only http(s) JWKS URLs (it refuses ``file://``), so the key
set is served by a small HTTP server on 127.0.0.1. RFC 8725 §3.1 (algorithm verification)
and §3.9/§3.10 (issuer, audience) are the clauses these tests protect.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from cloudpacs.security.identity import AuthMethod
from cloudpacs.security.jwt_verifier import (
    JwksUnavailable,
    JwtVerifier,
    TokenRejected,
    bearer_token,
)
from cloudpacs.security.permissions import Role

from .jwks_server import JwksServer

ISSUER = "https://idp.example.org/realms/pacs"
CLIENT = "cloudpacs-web"
KID = "key-1"


def public_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "alg": "RS256", "use": "sig"}


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def jwks(signing_key: rsa.RSAPrivateKey) -> Iterator[JwksServer]:
    with JwksServer() as server:
        server.jwks = {"keys": [public_jwk(signing_key, KID)]}
        yield server


@pytest.fixture
def verifier(jwks: JwksServer) -> JwtVerifier:
    return JwtVerifier(jwks.url, ISSUER, audience=CLIENT, client_id=CLIENT)


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "sub": "user-1",
        "iss": ISSUER,
        "aud": CLIENT,
        "iat": now,
        "exp": now + 300,
        "cognito:username": "alice",
        "cognito:groups": ["viewer", "technologist"],
        "token_use": "id",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def sign(key: rsa.RSAPrivateKey, payload: dict[str, Any], kid: str | None = KID) -> str:
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(payload, key, algorithm="RS256", headers=headers)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_valid_id_token(verifier: JwtVerifier, signing_key: rsa.RSAPrivateKey) -> None:
    identity = verifier.identity(sign(signing_key, claims()), source_address="127.0.0.1")
    assert identity.subject == "user-1"
    assert identity.username == "alice"
    assert identity.roles == {Role.VIEWER, Role.TECHNOLOGIST}
    assert identity.auth_method is AuthMethod.JWT
    assert identity.source_address == "127.0.0.1"


def test_valid_access_token_by_client_id(
    verifier: JwtVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    token = sign(signing_key, claims(aud=None, client_id=CLIENT, token_use="access"))
    assert verifier.verify(token)["client_id"] == CLIENT


def test_authenticate_reads_the_bearer_header(
    verifier: JwtVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    token = sign(signing_key, claims())
    assert verifier.authenticate(f"Bearer {token}").username == "alice"


def test_keys_are_cached(jwks: JwksServer, signing_key: rsa.RSAPrivateKey) -> None:
    verifier = JwtVerifier(jwks.url, ISSUER, audience=CLIENT)
    before = jwks.requests
    for _ in range(3):
        verifier.verify(sign(signing_key, claims()))
    assert jwks.requests == before + 1


def rejected(verifier: JwtVerifier, token: str) -> str:
    with pytest.raises(TokenRejected) as info:
        verifier.verify(token)
    assert info.value.status == 401
    return info.value.reason


def test_expired(verifier: JwtVerifier, signing_key: rsa.RSAPrivateKey) -> None:
    now = int(time.time())
    token = sign(signing_key, claims(iat=now - 7200, exp=now - 3600))
    assert rejected(verifier, token) == "the token has expired"


def test_expiry_leeway(jwks: JwksServer, signing_key: rsa.RSAPrivateKey) -> None:
    token = sign(signing_key, claims(exp=int(time.time()) - 10))
    JwtVerifier(jwks.url, ISSUER, audience=CLIENT, leeway=60).verify(token)
    with pytest.raises(TokenRejected, match="expired"):
        JwtVerifier(jwks.url, ISSUER, audience=CLIENT, leeway=0).verify(token)


def test_not_yet_valid(verifier: JwtVerifier, signing_key: rsa.RSAPrivateKey) -> None:
    token = sign(signing_key, claims(nbf=int(time.time()) + 3600))
    assert "not valid yet" in rejected(verifier, token)


def test_wrong_issuer(verifier: JwtVerifier, signing_key: rsa.RSAPrivateKey) -> None:
    token = sign(signing_key, claims(iss="https://evil.example.org"))
    assert "untrusted issuer" in rejected(verifier, token)


def test_wrong_audience(verifier: JwtVerifier, signing_key: rsa.RSAPrivateKey) -> None:
    token = sign(signing_key, claims(aud="another-app"))
    assert "audience" in rejected(verifier, token)


def test_audience_list(verifier: JwtVerifier, signing_key: rsa.RSAPrivateKey) -> None:
    verifier.verify(sign(signing_key, claims(aud=["other", CLIENT])))
    assert "audience" in rejected(verifier, sign(signing_key, claims(aud=["a", "b"])))


def test_access_token_for_another_client(
    verifier: JwtVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    token = sign(signing_key, claims(aud=None, client_id="other-client"))
    assert "another client" in rejected(verifier, token)


def test_token_without_aud_when_only_an_audience_is_configured(
    jwks: JwksServer, signing_key: rsa.RSAPrivateKey
) -> None:
    verifier = JwtVerifier(jwks.url, ISSUER, audience=CLIENT)
    token = sign(signing_key, claims(aud=None, client_id=CLIENT))
    assert "no audience" in rejected(verifier, token)


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "sub"])
def test_required_claims(verifier: JwtVerifier, signing_key: rsa.RSAPrivateKey, claim: str) -> None:
    token = sign(signing_key, claims(**{claim: None}))
    reason = rejected(verifier, token)
    assert claim in reason


def test_unsigned_alg_none(verifier: JwtVerifier) -> None:
    token = jwt.encode(claims(), key=None, algorithm="none", headers={"kid": KID})
    assert rejected(verifier, token) == (
        "signature algorithm 'none' is not accepted (accepted: RS256)"
    )


def test_alg_none_with_stripped_signature_of_a_real_token(
    verifier: JwtVerifier, signing_key: rsa.RSAPrivateKey
) -> None:
    _, payload, _ = sign(signing_key, claims()).split(".")
    header = b64(json.dumps({"alg": "none", "kid": KID}).encode())
    assert "'none' is not accepted" in rejected(verifier, f"{header}.{payload}.")


def test_hs256_key_confusion(verifier: JwtVerifier, signing_key: rsa.RSAPrivateKey) -> None:
    """HMAC-signed with the public key as the secret: the classic algorithm-confusion attack."""
    pem = signing_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": KID}).encode())
    payload = b64(json.dumps(claims(**{"cognito:groups": ["admin"]})).encode())
    mac = hmac.new(pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert "'HS256' is not accepted" in rejected(verifier, f"{header}.{payload}.{b64(mac)}")


def test_tampered_payload(verifier: JwtVerifier, signing_key: rsa.RSAPrivateKey) -> None:
    header, _, signature = sign(signing_key, claims()).split(".")
    forged = b64(json.dumps(claims(**{"cognito:groups": ["admin"]})).encode())
    assert rejected(verifier, f"{header}.{forged}.{signature}") == (
        "the token's signature does not verify"
    )


def test_tampered_signature(verifier: JwtVerifier, signing_key: rsa.RSAPrivateKey) -> None:
    header, payload, signature = sign(signing_key, claims()).split(".")
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert "signature" in rejected(verifier, f"{header}.{payload}.{flipped}")


def test_wrong_key_with_a_known_kid(verifier: JwtVerifier) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert rejected(verifier, sign(other, claims())) == "the token's signature does not verify"


def test_unknown_kid(jwks: JwksServer) -> None:
    verifier = JwtVerifier(jwks.url, ISSUER, audience=CLIENT)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = sign(other, claims(), kid="attacker-key")
    assert rejected(verifier, token) == "the token is signed with an unknown key"


def test_missing_kid(verifier: JwtVerifier, signing_key: rsa.RSAPrivateKey) -> None:
    assert "'kid'" in rejected(verifier, sign(signing_key, claims(), kid=None))


def test_rotated_key_is_fetched(jwks: JwksServer, signing_key: rsa.RSAPrivateKey) -> None:
    verifier = JwtVerifier(
        jwks.url,
        ISSUER,
        audience=CLIENT,
        jwks_client=jwt.PyJWKClient(jwks.url, cooldown_duration=0),
    )
    verifier.verify(sign(signing_key, claims()))
    new_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    saved = jwks.jwks
    jwks.jwks = {"keys": [*saved["keys"], public_jwk(new_key, "key-2")]}
    try:
        verifier.verify(sign(new_key, claims(), kid="key-2"))
    finally:
        jwks.jwks = saved


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.e30"])
def test_malformed(verifier: JwtVerifier, token: str) -> None:
    rejected(verifier, token)


def test_token_use_restriction(jwks: JwksServer, signing_key: rsa.RSAPrivateKey) -> None:
    verifier = JwtVerifier(jwks.url, ISSUER, client_id=CLIENT, token_use={"access"})
    assert "token_use 'id'" in rejected(verifier, sign(signing_key, claims()))


def test_token_without_subject(verifier: JwtVerifier, signing_key: rsa.RSAPrivateKey) -> None:
    token = sign(signing_key, claims(sub=""))
    with pytest.raises(TokenRejected, match="subject"):
        verifier.identity(token)


def test_jwks_unreachable_fails_closed(signing_key: rsa.RSAPrivateKey) -> None:
    with JwksServer() as dead:
        url = dead.url
    verifier = JwtVerifier(url, ISSUER, audience=CLIENT, jwks_timeout=1)
    with pytest.raises(JwksUnavailable) as info:
        verifier.verify(sign(signing_key, claims()))
    assert info.value.status == 503


@pytest.mark.parametrize("algorithms", [("none",), ("HS256",), ("RS256", "HS512"), ()])
def test_constructor_refuses_unsafe_algorithms(algorithms: tuple[str, ...]) -> None:
    with pytest.raises(ValueError):
        JwtVerifier("https://idp.example.org/jwks", ISSUER, audience=CLIENT, algorithms=algorithms)


def test_constructor_needs_audience_or_client_id() -> None:
    with pytest.raises(ValueError, match="audience or a client id"):
        JwtVerifier("https://idp.example.org/jwks", ISSUER)


def test_constructor_refuses_non_http_jwks_url() -> None:
    with pytest.raises(jwt.PyJWKClientError):
        JwtVerifier("file:///etc/jwks.json", ISSUER, audience=CLIENT)


@pytest.mark.parametrize(
    ("header", "token"),
    [("Bearer abc.def.ghi", "abc.def.ghi"), ("bearer  xyz ", "xyz")],
)
def test_bearer_token(header: str, token: str) -> None:
    assert bearer_token(header) == token


@pytest.mark.parametrize("header", [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwdw==", "abc"])
def test_bearer_token_refused(header: str | None) -> None:
    with pytest.raises(TokenRejected):
        bearer_token(header)
