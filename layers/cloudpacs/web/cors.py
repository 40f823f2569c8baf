"""CORS for browser viewers: ``CorsPolicy`` (``cloudpacs.security.cors``) as ASGI middleware.

The outermost layer of the app, so that

- a preflight (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) is answered
  here, before authentication: browsers send preflights without the Authorization header.
  Preflights are not audited; behind API Gateway they are answered by the gateway's mock
  integration and never reach a function either. The answer is the policy's: the same
  origins, methods, headers and max-age that ``CorsPolicy.apigateway_options`` configures on
  API Gateway;
- every other response, 401 and 403 included, carries the policy's headers for an allowed
  origin, so a viewer can read why it was refused.
"""

from __future__ import annotations

from fastapi.responses import Response
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cloudpacs.security.cors import CorsPolicy
from cloudpacs.web.errors import error_response


class CorsMiddleware:
    def __init__(self, app: ASGIApp, *, policy: CorsPolicy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        requested_method = headers.get("access-control-request-method")
        if scope["method"] == "OPTIONS" and origin is not None and requested_method is not None:
            await self._preflight(origin, requested_method, headers)(scope, receive, send)
            return
        extra = self.policy.response_headers(origin)

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    if name == "Vary":
                        response_headers.add_vary_header(value)
                    else:
                        response_headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_cors)

    def _preflight(self, origin: str, method: str, headers: Headers) -> Response:
        answer = self.policy.preflight(
            origin, method, headers.get("access-control-request-headers")
        )
        if answer.allowed:
            return Response(status_code=answer.status, headers=answer.headers)
        refusal = error_response(answer.status, f"CORS preflight refused: {answer.reason}")
        refusal.headers.update(answer.headers)
        return refusal
