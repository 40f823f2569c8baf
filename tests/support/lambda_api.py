"""API Gateway in front of the Lambda handlers, in-process: what a client sees in AWS.

``LambdaApi.invoke`` finds the route in the CDK route table (``stacks/api/routes.py``, so a
route the stack does not send to a function is a 403 here as it is in AWS), builds the REST
proxy event, calls that function's handler and turns its answer back into HTTP as API
Gateway does (base64 bodies decoded; a response over Lambda's 6 MB payload limit is a 502).

Clients reach it through ``LambdaTransport`` (httpx) or ``LambdaAdapter`` (requests, so
``dicomweb-client`` works unchanged); URLs of other hosts, such as presigned S3 URLs, go
through ``requests``, where moto answers them.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import httpx
import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from stacks.api.routes import ROUTES
from tests.support.lambda_events import HOST, STAGE, LambdaContext, claims, rest_event

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]
LAMBDA_RESPONSE_LIMIT = 6 * 1024 * 1024
BASE_URL = f"https://{HOST}/{STAGE}/dicom-web"


def _pattern(template: str) -> re.Pattern[str]:
    regex = ""
    for piece in re.split(r"(\{[^}]+\})", template):
        if piece.startswith("{"):
            name = piece[1:-1]
            regex += f"(?P<{name[:-1]}>.+)" if name.endswith("+") else f"(?P<{name}>[^/]+)"
        else:
            regex += re.escape(piece)
    return re.compile(regex)


_TABLE = [(route, _pattern(route.path)) for route in ROUTES]


@dataclass
class Invocation:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    raw: dict[str, Any] = field(repr=False, default_factory=dict)


@dataclass
class LambdaApi:
    handlers: Mapping[str, Handler]
    claims: dict[str, str] = field(default_factory=claims)
    invocations: list[tuple[str, dict[str, Any], dict[str, Any]]] = field(default_factory=list)

    def route(self, method: str, path: str) -> tuple[str, str, dict[str, str]] | None:
        """(function, resource template, path parameters) as API Gateway would pick them."""
        for route, pattern in _TABLE:
            match = pattern.fullmatch(path)
            if match and route.method == method:
                return route.function, route.path, match.groupdict()
        return None

    def invoke(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        headers: Iterable[tuple[str, str]] = (),
        body: bytes | None = None,
    ) -> Invocation:
        """``path`` as the client sent it: ``/{stage}/dicom-web/...``."""
        path = unquote(path.removeprefix(f"/{STAGE}"))
        found = self.route(method, path)
        if found is None:
            payload = json.dumps({"message": "Missing Authentication Token"}).encode()
            return Invocation(403, [("Content-Type", "application/json")], payload)
        function, resource, params = found
        event = rest_event(
            method,
            path,
            resource=resource,
            path_parameters=params,
            query=query or [],
            headers=headers,
            body=body or None,
            authorizer_claims=self.claims,
        )
        result = self.handlers[function](event, LambdaContext(function_name=function))
        self.invocations.append((function, event, result))
        if len(json.dumps(result)) > LAMBDA_RESPONSE_LIMIT:
            payload = json.dumps({"message": "Internal server error"}).encode()
            return Invocation(502, [("Content-Type", "application/json")], payload, result)
        out: list[tuple[str, str]] = []
        for name, values in (result.get("multiValueHeaders") or {}).items():
            out += [(name, v) for v in values]
        for name, value in (result.get("headers") or {}).items():
            if not any(n.lower() == name.lower() for n, _ in out):
                out.append((name, value))
        text = result.get("body") or ""
        raw = base64.b64decode(text) if result.get("isBase64Encoded") else text.encode()
        return Invocation(int(result["statusCode"]), out, raw, result)


def _via_requests(method: str, url: str, headers: Mapping[str, str], body: bytes) -> Any:
    return requests.request(method, url, headers=dict(headers), data=body, timeout=60)


class LambdaTransport(httpx.BaseTransport):
    """httpx transport: the API host goes to ``LambdaApi``, any other host to ``requests``."""

    def __init__(self, api: LambdaApi) -> None:
        self.api = api

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        if request.url.host != HOST:
            forwarded = _via_requests(request.method, str(request.url), request.headers, body)
            return httpx.Response(
                forwarded.status_code,
                headers=list(forwarded.headers.items()),
                content=forwarded.content,
            )
        query = parse_qsl(request.url.query.decode(), keep_blank_values=True)
        result = self.api.invoke(
            request.method,
            request.url.path,
            query=query,
            headers=[(k, v) for k, v in request.headers.multi_items() if k.lower() != "host"],
            body=body,
        )
        return httpx.Response(result.status, headers=result.headers, content=result.body)


class _Raw(io.BytesIO):
    def release_conn(self) -> None:
        pass


class LambdaAdapter(BaseAdapter):
    """requests adapter for the API host (mount it on ``https://<api host>/``)."""

    def __init__(self, api: LambdaApi) -> None:
        super().__init__()
        self.api = api

    def send(self, request: requests.PreparedRequest, **_: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(request.url or "")
        body = request.body
        data = body.encode() if isinstance(body, str) else bytes(body or b"")
        result = self.api.invoke(
            request.method or "GET",
            parts.path,
            query=parse_qsl(parts.query, keep_blank_values=True),
            headers=list(request.headers.items()),
            body=data,
        )
        response = requests.Response()
        response.status_code = result.status
        response.headers = CaseInsensitiveDict()
        for name, value in result.headers:
            existing = response.headers.get(name)
            response.headers[name] = f"{existing}, {value}" if existing else value
        response._content = result.body
        response._content_consumed = True  # type: ignore[attr-defined]
        response.raw = _Raw(result.body)
        response.url = request.url or ""
        response.request = request
        response.reason = "OK" if result.status < 400 else "Error"
        response.encoding = None
        return response

    def close(self) -> None:
        pass


def requests_session(api: LambdaApi) -> requests.Session:
    session = requests.Session()
    session.mount(f"https://{HOST}/", LambdaAdapter(api))
    return session
