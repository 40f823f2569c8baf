"""How the release checks authenticate: a bearer token given as is, or one obtained with the
OAuth 2.0 client credentials grant (RFC 6749 §4.4) from the JSON the pipeline reads out of
Secrets Manager (``client_id``, ``client_secret``, ``token_url``, ``scope``), or none at all
against a local server started with ``--auth none``."""

from __future__ import annotations

import json
from collections.abc import Mapping

import httpx

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
    form = {"grant_type": "client_credentials"}
    if creds.get("scope"):
        form["scope"] = str(creds["scope"])
    try:
        response = httpx.post(
            str(creds["token_url"]),
            data=form,
            auth=(str(creds["client_id"]), str(creds["client_secret"])),
            timeout=timeout,
        )
    except httpx.HTTPError as exc:
        raise CheckFailed(f"token endpoint unreachable: {exc}") from None
    if response.status_code != 200:
        raise CheckFailed(f"token endpoint answered {response.status_code}: {response.text[:200]}")
    token = response.json().get("access_token")
    if not isinstance(token, str) or not token:
        raise CheckFailed("token endpoint answered without an access_token")
    return token


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
