"""``HEAD`` on every ``GET`` route (RFC 9110 §9.3.2): the ``GET`` answer without its body.

FastAPI's routes answer only the methods they declare, so ``HEAD`` would be 405. This ASGI
layer, just outside the router, hands a ``HEAD`` request to the app as the ``GET`` it stands
for and drops every body byte of the answer, keeping the status and every header
(``Content-Type``, ``Content-Length``, ``Warning``, ``X-Request-Id``). The layers outside it
(CORS, metrics, security and audit) still see ``HEAD``: the request performs the ``GET``
route's action (``access.py``) and leaves the same one audit event. The server side
cannot drop the body for us: uvicorn drops it only for what it believes is a ``HEAD``, and
Mangum never does, so the body is dropped here for both.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HeadAsGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def send_without_body(message: Message) -> None:
            if message["type"] != "http.response.body":
                await send(message)
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

        as_get = {**scope, "method": "GET"}
        try:
            await self.app(as_get, receive, send_without_body)
        finally:
            if "route" in as_get:  # the route matched, for the layers outside (metrics)
                scope["route"] = as_get["route"]
