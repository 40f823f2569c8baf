"""HTTP mapping of domain errors: the PS3.18 status and a JSON body that says why."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from cloudpacs.errors import CloudPacsError
from cloudpacs.ports import BlobNotFound

log = logging.getLogger(__name__)


def error_response(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"status": status, "error": reason}, status_code=status)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(CloudPacsError)
    async def _domain(_: Request, exc: CloudPacsError) -> JSONResponse:
        return error_response(exc.status, exc.reason)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        return error_response(400, f"invalid request: {where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        path = request.url.path
        if exc.status_code == 404 and (".." in path.split("/") or "//" in path):
            return error_response(400, "invalid path: relative or empty path segments")
        return error_response(exc.status_code, str(exc.detail))

    @app.exception_handler(BlobNotFound)
    async def _object_gone(request: Request, exc: BlobNotFound) -> JSONResponse:
        # The index named an object that is not (or no longer) stored: a DELETE ran between
        # the index read and the object read, or the object is lost (the repair sweep finds
        # and reports those). Either way the resource is not there.
        log.warning("%s %s: object %s is not stored", request.method, request.url.path, exc)
        return error_response(404, "not found: the object was deleted while being read")

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal error")
