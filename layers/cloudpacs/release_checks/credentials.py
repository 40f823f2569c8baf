"""How the release checks authenticate: a bearer token given as is, or one obtained with the
OAuth 2.0 client credentials grant (RFC 6749 §4.4) from the JSON the pipeline reads out of
Secrets Manager (``client_id``, ``client_secret``, ``token_url``, ``scope``), or none at all
against a local server started with ``--auth none``."""

from __future__ import annotations

import json
from collections.abc import Mapping

import httpx

from cloudpacs.client.auth import ClientCredentials, TokenError
from cloudpacs.release_checks.failure import CheckFailed

CREDENTIALS_ENV = "CLOUDPACS_CHECK_CREDENTIALS"
TOKEN_ENV = "CLOUDPACS_CHECK_TOKEN"
_FIELDS = ("client_id", "client_secret", "token_url")


def client_credentials_token(document: str, *, timeout: float = 30) -> str:
    """An access token for the client described by ``document`` (JSON)."""
    try:
        creds = json.loads(document)
    except ValueError:
        raise CheckFailed(f"{CREDENTIALS_ENV} is not JSON") from None
    missing = [name for name in _FIELDS if not isinstance(creds, Mapping) or not creds.get(name)]
    if missing:
        raise CheckFailed(f"{CREDENTIALS_ENV} lacks {', '.join(missing)}")
    scope = str(creds["scope"]) if creds.get("scope") else None
    grant = ClientCredentials(
        str(creds["token_url"]), str(creds["client_id"]), str(creds["client_secret"]), scope
    )
    try:
        return grant.fetch(timeout)[0]
    except TokenError as exc:
        raise CheckFailed(str(exc)) from None


def resolve_token(environ: Mapping[str, str], token: str | None = None) -> str | None:
    """The bearer token to send: ``token``, else ``$CLOUDPACS_CHECK_TOKEN``, else one from
    ``$CLOUDPACS_CHECK_CREDENTIALS``, else None (no Authorization header)."""
    if token:
        return token
    if environ.get(TOKEN_ENV):
        return environ[TOKEN_ENV]
    if environ.get(CREDENTIALS_ENV):
        return client_credentials_token(environ[CREDENTIALS_ENV])
    return None


def open_client(root: str, token: str | None, *, timeout: float = 30) -> httpx.Client:
    """An HTTP client for the DICOMweb root ``root`` (paths below are relative to it)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=root.rstrip("/") + "/", headers=headers, timeout=timeout)
