"""The FastAPI app of one Lambda function behind API Gateway's REST API (DESIGN.md §2, §5).

``lambda_http_app("qido")`` builds, at cold start, the services on the aws backend, the app
with only the named routers, the metric hooks and middleware, wrapped in Mangum:

- lifespan off (the app has no start-up work; Lambda has no shutdown to run it at);
- ``application/dicom+json`` (and the other JSON / XML types) returned as text; every other
  type (DICOM, multipart/related, octet-stream) base64-encoded, which API Gateway decodes
  because its binary media types are ``*/*`` (stacks/api/rest_api.py);
- DICOM JSON over 64 KB gzip-compressed for clients that accept it: the metadata of a
  series of thousands of instances is tens of MB of JSON, far over Lambda's 6 MB response
  limit, and a tenth of that compressed (the compressed body travels base64-encoded);
- the stage prefix of the public URL (``/dev`` in ``https://.../dev/dicom-web``) taken from
  the event, so RetrieveURL and BulkDataURI point where the client can reach them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from mangum import Mangum
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from cloudpacs.aws_lambda.env import function_settings
from cloudpacs.observability import RouteMetrics, instrument
from cloudpacs.runtime import build_services
from cloudpacs.web.app import create_app

TEXT_MIME_TYPES = [
    "application/dicom+json",
    "application/json",
    "application/xml",
    "application/problem+json",
    "text/",
]
GZIP_MINIMUM_BYTES = 64 * 1024
NOT_COMPRESSED = ("application/dicom", "multipart/related", "application/octet-stream", "image/*")
"""DICOM bodies are sent as they are (often compressed already, and large: redirected over
the limit), and so are rendered images and thumbnails (JPEG, PNG and GIF are compressed
already); DICOM JSON is compressed for clients that accept gzip."""
REQUIRED: dict[str, tuple[str, ...]] = {
    "stow": ("inbox_bucket_name",),
    "deidentify": ("deid_queue_url",),
    "research": ("research_table_name",),
}
"""Settings a function needs beyond the aws backend's own (``settings.py``)."""


class StagePrefix:
    """ASGI middleware: ``root_path`` is the part of the public path before the resource path
    (the stage on ``execute-api`` hosts, a base path mapping on custom domains)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        event = scope.get("aws.event")
        if scope["type"] == "http" and isinstance(event, Mapping) and not scope.get("root_path"):
            context = event.get("requestContext") or {}
            public = context.get("path") if isinstance(context, Mapping) else None
            path = event.get("path")
            if isinstance(public, str) and isinstance(path, str) and public.endswith(path):
                prefix = public[: len(public) - len(path)]
                if prefix.startswith("/") and "//" not in prefix:
                    scope = {**scope, "root_path": prefix.rstrip("/")}
        await self.app(scope, receive, send)


HttpHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def lambda_http_app(function: str, *routes: str) -> HttpHandler:
    """Mangum over the app serving ``routes`` (default: the router named like the function)."""
    settings = function_settings(function, *REQUIRED.get(function, ()))
    services = build_services(settings)
    instrument(services)
    app = create_app(services, routes=routes or (function,))
    compressed = GZipMiddleware(
        app, minimum_size=GZIP_MINIMUM_BYTES, exclude_content_types=NOT_COMPRESSED
    )
    asgi = Mangum(
        StagePrefix(RouteMetrics(compressed)), lifespan="off", text_mime_types=TEXT_MIME_TYPES
    )

    def handle(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return asgi(event, context)

    return handle
