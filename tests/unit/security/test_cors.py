"""CORS policy (Fetch standard, CORS protocol): same answers locally and behind API Gateway."""

from __future__ import annotations

import pytest

from cloudpacs.security.cors import CorsPolicy, header_lookup, normalize_origin

VIEWER = "https://viewer.example.org"


@pytest.fixture
def policy() -> CorsPolicy:
    return CorsPolicy.from_settings(f"{VIEWER}, http://localhost:3000")


def test_allowed_origin_is_echoed_with_credentials(policy: CorsPolicy) -> None:
    headers = policy.response_headers(VIEWER)
    assert headers["Access-Control-Allow-Origin"] == VIEWER
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert headers["Vary"] == "Origin"
    assert "Content-Location" in headers["Access-Control-Expose-Headers"]


@pytest.mark.parametrize(
    "origin",
    [
        None,
        "",
        "null",
        "https://evil.example.org",
        "https://viewer.example.org.evil.net",
        "http://viewer.example.org",  # other scheme
        "https://viewer.example.org:8443",  # other port
        "http://localhost:3001",
        "not a url",
    ],
)
def test_other_origins_get_no_cors_headers(policy: CorsPolicy, origin: str | None) -> None:
    assert policy.response_headers(origin) == {"Vary": "Origin"}
    assert not policy.is_allowed(origin)


@pytest.mark.parametrize(
    "origin", ["https://VIEWER.example.org", "https://viewer.example.org:443", VIEWER + "/"]
)
def test_origins_compare_after_normalisation(policy: CorsPolicy, origin: str) -> None:
    assert policy.is_allowed(origin)
    assert policy.response_headers(origin)["Access-Control-Allow-Origin"] == origin


def test_preflight_allowed(policy: CorsPolicy) -> None:
    answer = policy.preflight(VIEWER, "DELETE", "authorization, content-type")
    assert answer.allowed
    assert answer.status == 204
    headers = answer.headers
    assert headers["Access-Control-Allow-Origin"] == VIEWER
    assert headers["Access-Control-Allow-Credentials"] == "true"
    assert headers["Access-Control-Allow-Methods"] == "GET, POST, PUT, PATCH, DELETE, OPTIONS"
    for name in ("Authorization", "Content-Type", "Accept"):
        assert name in headers["Access-Control-Allow-Headers"]
    assert headers["Access-Control-Max-Age"] == "600"
    assert headers["Vary"] == "Origin"


@pytest.mark.parametrize(
    ("origin", "method", "request_headers", "why"),
    [
        ("https://evil.example.org", "GET", None, "origin"),
        (VIEWER, "PROPFIND", None, "method"),
        (VIEWER, None, None, "method"),
        (VIEWER, "POST", "Authorization, X-Secret", "X-Secret"),
    ],
)
def test_preflight_refused(
    policy: CorsPolicy, origin: str, method: str | None, request_headers: str | None, why: str
) -> None:
    answer = policy.preflight(origin, method, request_headers)
    assert not answer.allowed
    assert answer.status == 403
    assert "Access-Control-Allow-Origin" not in answer.headers
    assert why in answer.reason


def test_safelisted_request_headers_pass(policy: CorsPolicy) -> None:
    assert policy.preflight(VIEWER, "GET", "Accept-Language").allowed


def test_wildcard_is_refused_with_credentials() -> None:
    with pytest.raises(ValueError, match="credentials"):
        CorsPolicy(("*",))
    with pytest.raises(ValueError, match="credentials"):
        CorsPolicy.from_settings("*")


def test_wildcard_without_credentials() -> None:
    policy = CorsPolicy.from_settings("*", allow_credentials=False)
    headers = policy.response_headers("https://anyone.example")
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in headers
    assert "Vary" not in headers
    answer = policy.preflight("https://anyone.example", "GET")
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    assert "Access-Control-Allow-Credentials" not in answer.headers


def test_wildcard_mixed_with_origins_is_refused() -> None:
    with pytest.raises(ValueError, match="only allowed origin"):
        CorsPolicy(("*", VIEWER), allow_credentials=False)


def test_no_origins_allows_nothing() -> None:
    policy = CorsPolicy(())
    assert not policy.is_allowed(VIEWER)
    assert not policy.preflight(VIEWER, "GET").allowed


@pytest.mark.parametrize(
    "origin",
    [
        "viewer.example.org",
        "ftp://viewer.example.org",
        "https://viewer.example.org/app",
        "https://user@viewer.example.org",
        "https://viewer.example.org:99999",
    ],
)
def test_invalid_configured_origins(origin: str) -> None:
    with pytest.raises(ValueError):
        CorsPolicy((origin,))


@pytest.mark.parametrize(
    ("origin", "normal"),
    [
        ("HTTPS://Viewer.Example.org:443/", "https://viewer.example.org"),
        ("http://localhost:80", "http://localhost"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://[::1]:8080", "http://[::1]:8080"),
    ],
)
def test_normalize_origin(origin: str, normal: str) -> None:
    assert normalize_origin(origin) == normal


def test_apigateway_options_carry_the_same_lists(policy: CorsPolicy) -> None:
    options = policy.apigateway_options()
    assert options == {
        "allow_origins": [VIEWER, "http://localhost:3000"],
        "allow_methods": ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
        "allow_headers": list(policy.allowed_headers),
        "expose_headers": list(policy.expose_headers),
        "allow_credentials": True,
        "max_age_seconds": 600,
    }


def test_header_lookup_is_case_insensitive() -> None:
    assert header_lookup({"origin": VIEWER}, "Origin") == VIEWER
    assert header_lookup({"Origin": VIEWER}, "origin") == VIEWER
    assert header_lookup({}, "Origin") is None
