"""Authentication, authorization and audit of every HTTP request (DESIGN.md §7).

An ASGI middleware, so the same code guards the local server and the Lambda functions
(Mangum). For each request to a path that is not public (``access.PUBLIC_PATHS``):

1. the caller is authenticated (``authn.py``) before routing, so an unknown path tells an
   anonymous caller nothing: 401 with ``WWW-Authenticate: Bearer`` and a JSON reason when
   the token is missing or refused (signed upload URLs excepted: ``access.SIGNED_URL``);
2. after routing, the route guard (``access.authorize_route``, an app-wide dependency)
   checks the route's action against the permission matrix: 403 with the ``Decision``'s
   reason when the caller's roles do not grant it;
3. when the response starts, **exactly one** ``AuditEvent`` is written with the status
   (allowed, denied or failed alike), before any byte of the response leaves. If it cannot be
   written, the client gets 500 instead of the response: a request that leaves no trace is
   not served. A successful response from a route no guard checked is also replaced by 500
   (fail closed). Every response carries the request id in ``X-Request-Id``.

The identity is left in ``request.state.identity`` for routes that need it. Unhandled
exceptions are answered 500 here (and audited), unless the response had already started (a
stream failing part way), which the server then logs.
"""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cloudpacs.security.audit import AuditSink
from cloudpacs.security.identity import Identity
from cloudpacs.settings import REQUEST_ID_HEADER
from cloudpacs.web.access import PUBLIC, SIGNED_URL, before_routing
from cloudpacs.web.authn import Authenticator, AuthFailure
from cloudpacs.web.errors import error_response
from cloudpacs.web.transaction import CURRENT, Transaction

log = logging.getLogger(__name__)
REALM = "cloudpacs"
CLIENT_CLOSED = 499
"""Audit status of a request abandoned before any response (the client went away)."""
_UNQUOTABLE = re.compile(r'[^\x20-\x7e]|["\\]')


class AuditUnavailable(RuntimeError):
    """The audit event of a request could not be written; the request was answered 500."""


class SecurityMiddleware:
    def __init__(
        self, app: ASGIApp, *, authenticator: Authenticator, audit: AuditSink, base_path: str
    ) -> None:
        self.app = app
        self.authenticator = authenticator
        self.audit = audit
        self.base_path = base_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        kind = before_routing(scope["method"], _route_path(scope), self.base_path)
        if kind is PUBLIC:
            await self.app(scope, receive, send)
            return
        transaction = Transaction.begin(scope)
        exchange = _Exchange(transaction, send, self.audit)
        token = CURRENT.set(transaction)
        try:
            if kind is SIGNED_URL:
                await self._serve_app(scope, receive, exchange)
            else:
                await self._serve(scope, receive, exchange)
        except Exception:
            if exchange.replaced:
                return  # already answered 500: the audit event could not be written
            if exchange.started:
                raise  # a streamed response failed part way; nothing more can be sent
            log.exception(
                "unhandled error on %s %s (request %s)",
                scope["method"],
                scope["path"],
                transaction.request_id,
            )
            await error_response(500, "internal error")(scope, receive, exchange.send)
        finally:
            CURRENT.reset(token)
            if not exchange.started:
                # Cancelled (client gone) before any response: still one audit event.
                exchange.emit_now(CLIENT_CLOSED, "client_closed")

    async def _serve(self, scope: Scope, receive: Receive, exchange: _Exchange) -> None:
        transaction = exchange.transaction
        try:
            identity = await self.authenticator.authenticate(scope)
        except AuthFailure as failure:
            transaction.reason = failure.code
            await _refusal(failure)(scope, receive, exchange.send)
            return
        transaction.identity = identity
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        state["identity"] = identity
        await self._serve_app(scope, receive, exchange)

    async def _serve_app(self, scope: Scope, receive: Receive, exchange: _Exchange) -> None:
        state: MutableMapping[str, Any] = scope.setdefault("state", {})
        state["request_id"] = exchange.transaction.request_id
        await self.app(scope, receive, exchange.send)
        if not exchange.started:
            raise RuntimeError("the application returned without a response")


class _Exchange:
    """Wraps ``send``: as the response starts, writes the audit event and adds
    ``X-Request-Id``; answers 500 instead when the event cannot be written or no route
    guard approved a successful response."""

    def __init__(self, transaction: Transaction, send: Send, audit: AuditSink) -> None:
        self.transaction = transaction
        self._send = send
        self._audit = audit
        self.started = False
        self.replaced = False
        """The application's response was dropped and a 500 sent in its place."""

    async def send(self, message: Message) -> None:
        if message["type"] != "http.response.start":
            if not self.replaced:
                await self._send(message)
            return
        self.started = True
        transaction = self.transaction
        status = int(message["status"])
        if 200 <= status < 300 and transaction.authorized is not True:
            log.error(
                "request %s: a route no guard checked answered %d; refused",
                transaction.request_id,
                status,
            )
            transaction.reason = "undeclared_route"
            await self._replace("this route declares no action, so nobody may call it")
            raise AuditUnavailable(transaction.request_id)
        MutableHeaders(scope=message)[REQUEST_ID_HEADER] = transaction.request_id
        if not await self._emit(status):
            transaction.reason = "audit_unavailable"
            await self._replace("the request could not be recorded in the audit trail")
            raise AuditUnavailable(transaction.request_id)
        await self._send(message)

    async def _emit(self, status: int) -> bool:
        try:
            await run_in_threadpool(self._audit.emit, self.transaction.event(status))
        except Exception:
            log.exception(
                "the audit event of request %s could not be written", self.transaction.request_id
            )
            return False
        return True

    async def _replace(self, reason: str) -> None:
        """Answer 500 instead of the application's response, which is dropped."""
        self.replaced = True
        if self.transaction.reason != "audit_unavailable":
            await self._emit(500)
        response = error_response(500, reason)
        response.headers[REQUEST_ID_HEADER] = self.transaction.request_id
        await self._send(
            {"type": "http.response.start", "status": 500, "headers": response.raw_headers}
        )
        await self._send({"type": "http.response.body", "body": response.body})

    def emit_now(self, status: int, reason: str) -> None:
        """Synchronous last resort (cancellation): one event for a request never answered."""
        self.transaction.reason = reason
        try:
            self._audit.emit(self.transaction.event(status))
        except Exception:
            log.exception(
                "the audit event of request %s could not be written", self.transaction.request_id
            )


def _refusal(failure: AuthFailure) -> JSONResponse:
    response = error_response(failure.status, failure.reason)
    if failure.status == 401:
        challenge = f'Bearer realm="{REALM}"'
        if failure.token_presented:
            description = _UNQUOTABLE.sub("", failure.reason)
            challenge += f', error="invalid_token", error_description="{description}"'
        response.headers["WWW-Authenticate"] = challenge
    return response


def _route_path(scope: Scope) -> str:
    """The path the router matches: without ``root_path`` (an API Gateway stage)."""
    path = str(scope["path"])
    root = str(scope.get("root_path") or "")
    return path[len(root) :] if root and path.startswith(root + "/") else path


def request_identity(request: Request) -> Identity | None:
    """The caller's identity, established by ``SecurityMiddleware`` (None on public routes)."""
    identity: Identity | None = getattr(request.state, "identity", None)
    return identity
