"""Bearer tokens for the client: one given as is, or obtained with the OAuth 2.0 client
credentials grant (RFC 6749 §4.4) and obtained again before it expires (``expires_in``),
or after the server answered 401 to it once."""

from __future__ import annotations

import threading
import time
from collections.abc import Generator
from dataclasses import dataclass

import httpx

REFRESH_MARGIN = 60.0
"""Seconds before ``expires_in`` runs out at which a token is replaced."""


class TokenError(RuntimeError):
    """No token could be had from the token endpoint."""


@dataclass(frozen=True)
class ClientCredentials:
    token_url: str
    client_id: str
    client_secret: str
    scope: str | None = None

    def fetch(self, timeout: float = 30) -> tuple[str, float | None]:
        """A new access token and its lifetime in seconds (None: not said)."""
        form = {"grant_type": "client_credentials"}
        if self.scope:
            form["scope"] = self.scope
        try:
            response = httpx.post(
                self.token_url,
                data=form,
                auth=(self.client_id, self.client_secret),
                timeout=timeout,
            )
        except httpx.HTTPError as exc:
            raise TokenError(f"token endpoint unreachable: {exc}") from None
        if response.status_code != 200:
            raise TokenError(
                f"token endpoint answered {response.status_code}: {response.text[:200]}"
            )
        body = response.json()
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise TokenError("token endpoint answered without an access_token")
        lifetime = body.get("expires_in")
        return token, float(lifetime) if isinstance(lifetime, int | float) else None


class BearerAuth(httpx.Auth):
    """httpx auth flow sending ``Authorization: Bearer``; refreshes client-credentials tokens."""

    def __init__(self, token: str | None = None, credentials: ClientCredentials | None = None):
        self._token = token
        self._credentials = credentials
        self._expires_at: float | None = None
        self._lock = threading.Lock()

    def _current(self, *, renew: bool = False) -> str | None:
        if self._credentials is None:
            return self._token
        with self._lock:
            stale = self._expires_at is not None and time.monotonic() >= self._expires_at
            if renew or self._token is None or stale:
                self._token, lifetime = self._credentials.fetch()
                self._expires_at = (
                    None
                    if lifetime is None
                    else time.monotonic() + max(lifetime - REFRESH_MARGIN, lifetime / 2)
                )
            return self._token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        token = self._current()
        if token:
            request.headers["Authorization"] = f"Bearer {token}"
        response = yield request
        if response.status_code == 401 and self._credentials is not None:
            request.headers["Authorization"] = f"Bearer {self._current(renew=True)}"
            yield request
