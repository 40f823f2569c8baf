"""CORS for browser viewers (Fetch standard §3.2 "CORS protocol").

One ``CorsPolicy``, built from settings, answers preflights and decorates responses the same
way in the local server and in the Lambda functions, and gives API Gateway's preflight
configuration (``apigateway_options``) the same lists, so both runtimes agree.

Rules kept here:
- origins are compared exactly, after normalising case and default ports; there is no
  pattern matching, so ``https://evil.example`` cannot pass as ``https://example``;
- ``*`` is accepted only without credentials: with credentials the matching origin is echoed,
  never ``*`` (the Fetch standard forbids the combination, and it would hand any site the
  user's Authorization header);
- whenever the answer depends on the request's Origin, ``Vary: Origin`` is sent so caches do
  not serve one origin's answer to another.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

DEFAULT_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
CONDITIONAL_HEADERS = ("If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since")
DEFAULT_HEADERS = (
    "Authorization",
    "Content-Type",
    "Accept",
    "Accept-Encoding",
    "Range",
    *CONDITIONAL_HEADERS,
)
DEFAULT_EXPOSE = (
    "Content-Location",
    "Content-Length",
    "Content-Range",
    "Location",
    "Warning",
    "ETag",
    "Last-Modified",
)
_SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Preflight:
    allowed: bool
    status: int
    """204 when allowed; 403 when not (the browser then blocks the real request)."""
    headers: dict[str, str]
    reason: str


@dataclass(frozen=True)
class CorsPolicy:
    allowed_origins: tuple[str, ...]
    allow_credentials: bool = True
    allowed_methods: tuple[str, ...] = DEFAULT_METHODS
    allowed_headers: tuple[str, ...] = DEFAULT_HEADERS
    expose_headers: tuple[str, ...] = DEFAULT_EXPOSE
    max_age: int = 600
    """Seconds a browser may cache a preflight answer."""

    def __post_init__(self) -> None:
        origins = tuple(self.allowed_origins)
        if "*" in origins:
            if self.allow_credentials:
                raise ValueError("CORS: '*' cannot be combined with credentials; list origins")
            if len(origins) > 1:
                raise ValueError("CORS: '*' must be the only allowed origin")
        else:
            origins = tuple(dict.fromkeys(normalize_origin(o) for o in origins))
        object.__setattr__(self, "allowed_origins", origins)
        object.__setattr__(self, "allowed_methods", tuple(m.upper() for m in self.allowed_methods))

    @classmethod
    def from_settings(
        cls, origins: Iterable[str] | str, *, allow_credentials: bool = True
    ) -> CorsPolicy:
        """Build from a list or a comma-separated string (as an environment variable holds)."""
        items = origins.split(",") if isinstance(origins, str) else list(origins)
        return cls(tuple(o.strip() for o in items if o.strip()), allow_credentials)

    @property
    def any_origin(self) -> bool:
        return self.allowed_origins == ("*",)

    def is_allowed(self, origin: str | None) -> bool:
        if not origin:
            return False
        if self.any_origin:
            return True
        try:
            return normalize_origin(origin) in self.allowed_origins
        except ValueError:
            return False

    def response_headers(self, origin: str | None) -> dict[str, str]:
        """Headers for an actual (non-preflight) response to a request with ``origin``.

        Empty when the request is not cross-origin or the origin is not allowed (apart from
        ``Vary``, which tells caches the answer depends on Origin).
        """
        headers = {} if self.any_origin else {"Vary": "Origin"}
        if not self.is_allowed(origin):
            return headers
        assert origin is not None
        headers["Access-Control-Allow-Origin"] = "*" if self.any_origin else origin
        if self.allow_credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        if self.expose_headers:
            headers["Access-Control-Expose-Headers"] = ", ".join(self.expose_headers)
        return headers

    def preflight(
        self, origin: str | None, request_method: str | None, request_headers: str | None = None
    ) -> Preflight:
        """Answer an ``OPTIONS`` preflight from its Origin, Access-Control-Request-Method and
        Access-Control-Request-Headers values."""
        vary = {} if self.any_origin else {"Vary": "Origin"}
        if not self.is_allowed(origin):
            return Preflight(False, 403, vary, f"origin {origin!r} is not allowed")
        method = (request_method or "").strip().upper()
        if method not in self.allowed_methods:
            return Preflight(False, 403, vary, f"method {method!r} is not allowed")
        allowed = {h.lower() for h in self.allowed_headers} | _SAFELISTED_HEADERS
        asked = [h.strip() for h in (request_headers or "").split(",") if h.strip()]
        refused = [h for h in asked if h.lower() not in allowed]
        if refused:
            return Preflight(False, 403, vary, f"header(s) {', '.join(refused)} not allowed")
        assert origin is not None
        headers = {
            **vary,
            "Access-Control-Allow-Origin": "*" if self.any_origin else origin,
            "Access-Control-Allow-Methods": ", ".join(self.allowed_methods),
            "Access-Control-Allow-Headers": ", ".join(self.allowed_headers),
            "Access-Control-Max-Age": str(self.max_age),
        }
        if self.allow_credentials:
            headers["Access-Control-Allow-Credentials"] = "true"
        return Preflight(True, 204, headers, "allowed")

    def apigateway_options(self) -> dict[str, Any]:
        """Keyword arguments for ``aws_cdk.aws_apigateway.CorsOptions``, minus ``max_age``
        (a ``Duration``: pass ``Duration.seconds(options["max_age_seconds"])``).

        CDK answers preflights with a mock integration that echoes a listed origin and adds
        ``Vary: Origin``; the functions add the same headers to real responses through
        ``response_headers``. Gateway responses (401/403 from the authorizer) need the
        headers too, or the browser hides the reason from the viewer.
        """
        return {
            "allow_origins": list(self.allowed_origins),
            "allow_methods": list(self.allowed_methods),
            "allow_headers": list(self.allowed_headers),
            "expose_headers": list(self.expose_headers),
            "allow_credentials": self.allow_credentials,
            "max_age_seconds": self.max_age,
        }


def normalize_origin(origin: str) -> str:
    """``scheme://host[:port]`` in lower case, default port dropped; ``ValueError`` otherwise."""
    parts = urlsplit(origin.strip())
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"CORS origin {origin!r} is not of the form scheme://host[:port]")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"CORS origin {origin!r} must not have a path, query or user")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"CORS origin {origin!r} has an invalid port") from None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def header_lookup(headers: Mapping[str, str], name: str) -> str | None:
    """Case-insensitive header lookup (API Gateway events keep the client's casing)."""
    lowered = name.lower()
    return next((v for k, v in headers.items() if k.lower() == lowered), None)
