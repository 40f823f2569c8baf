"""Large uploads (DESIGN.md §5, docs/uploads.md): ``POST /uploads`` and ``GET /uploads/{id}``.

``router`` is the API every deployment serves (the ``stow`` function in AWS). ``inbox_router``
is the embedded server's stand-in for the S3 inbox: the signed ``PUT`` / ``POST`` endpoints
that the URLs handed out by ``FileInbox`` point at, so clients upload the same way locally
and in AWS. They need no identity (the URL's signature is the credential, as a presigned
S3 URL's is) and accept the body as a stream.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urljoin

import anyio.from_thread
from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from cloudpacs.errors import BadRequest, NotFound
from cloudpacs.security.permissions import Role
from cloudpacs.services.uploads import UploadService
from cloudpacs.services.uploads_model import UploadRecord, UploadState, UploadTarget
from cloudpacs.web.deps import base_url, services
from cloudpacs.web.responses import dicom_json

router = APIRouter(tags=["Uploads"])
inbox_router = APIRouter(tags=["Uploads (local inbox)"])
RETRY_AFTER_SECONDS = 2


def _uploads(request: Request) -> UploadService:
    uploads = services(request).uploads
    if uploads is None:
        raise NotFound("large uploads are not configured on this server")
    return uploads


def _caller(request: Request) -> tuple[str | None, frozenset[Role]]:
    """(user name, roles) of the authenticated caller, when there is one."""
    identity = getattr(request.state, "identity", None)
    username = getattr(identity, "username", None)
    roles: frozenset[Role] = getattr(identity, "roles", frozenset())
    return (username if isinstance(username, str) else None), roles


async def _declaration(request: Request) -> dict[str, Any]:
    body = await request.body()
    if not body.strip():
        return {}
    try:
        declared = json.loads(body)
    except ValueError:
        raise BadRequest("the upload declaration must be a JSON object") from None
    if not isinstance(declared, dict):
        raise BadRequest("the upload declaration must be a JSON object")
    size = declared.get("size")
    if size is not None and (not isinstance(size, int) or isinstance(size, bool)):
        raise BadRequest("size must be a whole number of bytes")
    for name in ("contentType", "study"):
        if declared.get(name) is not None and not isinstance(declared[name], str):
            raise BadRequest(f"{name} must be a string")
    return declared


def _target_json(target: UploadTarget, root: str) -> dict[str, Any]:
    if not target.multipart:
        assert target.url is not None
        return {"method": "PUT", "url": urljoin(root, target.url)}
    assert target.complete_url is not None
    return {
        "method": "multipart",
        "partSize": target.part_size,
        "parts": [{"partNumber": p.part_number, "url": urljoin(root, p.url)} for p in target.parts],
        "completeUrl": urljoin(root, target.complete_url),
    }


@router.post("/uploads")
async def create_upload(request: Request) -> JSONResponse:
    """Declare an upload: ``{"size": bytes, "contentType": ..., "study": uid}``, all optional."""
    uploads = _uploads(request)
    declared = await _declaration(request)
    owner, roles = _caller(request)
    record, target = await run_in_threadpool(
        lambda: uploads.create(
            size=declared.get("size"),
            content_type=declared.get("contentType"),
            study=declared.get("study"),
            owner=owner,
            owner_roles=tuple(sorted(role.value for role in roles)),
        )
    )
    root = base_url(request) + "/"
    status_url = f"{root}uploads/{record.upload_id}"
    body = {
        "uploadId": record.upload_id,
        "state": record.state.value,
        "statusUrl": status_url,
        "expiresIn": uploads.url_expiry_seconds,
        **_target_json(target, root),
    }
    return JSONResponse(body, status_code=201, headers={"Location": status_url})


@router.get("/uploads/{upload}")
async def upload_status(request: Request, upload: str) -> Response:
    """202 while the upload is pending or being ingested; then the STOW-RS answer."""
    record = await run_in_threadpool(_uploads(request).status, upload)
    username, roles = _caller(request)
    if record.owner and username and record.owner != username and Role.ADMIN not in roles:
        raise NotFound(f"upload {upload[:40]!r} not found (or expired)")
    return _status_response(record, base_url(request))


def _status_response(record: UploadRecord, base: str) -> Response:
    if not record.state.final:
        body = {"uploadId": record.upload_id, "state": record.state.value}
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        return JSONResponse(body, status_code=202, headers=headers)
    status = record.http_status or 500
    if record.state is UploadState.DONE and record.response is not None:
        return dicom_json(record.response, base, status=status)
    return Response(record.response or b"{}", status_code=status, media_type="application/json")


# -- the local inbox: what presigned S3 URLs are in AWS ------------------------------------
def _sync_chunks(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
    """The request body, read from a worker thread (so file writes stay off the loop)."""

    async def next_chunk() -> bytes | None:
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return None

    while (chunk := anyio.from_thread.run(next_chunk)) is not None:
        yield chunk


def _local_inbox(request: Request) -> Any:
    from cloudpacs.adapters.local.file_inbox import FileInbox

    inbox = _uploads(request).inbox
    if not isinstance(inbox, FileInbox):
        raise NotFound("uploads go to the URLs returned by POST /uploads")
    return inbox


@inbox_router.put("/uploads/{upload}/content")
async def put_content(
    request: Request,
    upload: str,
    expires: str = "",
    signature: str = "",
    uploadId: str | None = None,  # S3's query parameter names
    partNumber: int | None = None,
) -> Response:
    inbox = _local_inbox(request)
    inbox.check(
        "PUT", upload, expires=expires, signature=signature, multipart_id=uploadId, part=partNumber
    )
    limit = _uploads(request).max_upload_bytes
    chunks = _sync_chunks(request.stream().__aiter__())
    if uploadId is None:
        etag = await run_in_threadpool(inbox.write, upload, chunks, limit)
    else:
        assert partNumber is not None
        etag = await run_in_threadpool(
            inbox.write_part, upload, uploadId, partNumber, chunks, limit
        )
    return Response(status_code=200, headers={"ETag": f'"{etag}"'})


@inbox_router.post("/uploads/{upload}/content")
async def complete_content(
    request: Request,
    upload: str,
    expires: str = "",
    signature: str = "",
    uploadId: str = "",
) -> Response:
    inbox = _local_inbox(request)
    inbox.check("POST", upload, expires=expires, signature=signature, multipart_id=uploadId)
    part_list = await request.body()
    etag = await run_in_threadpool(inbox.complete, upload, uploadId, part_list)
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<CompleteMultipartUploadResult>'
        f'<Key>uploads/{upload}</Key><ETag>"{etag}"</ETag></CompleteMultipartUploadResult>'
    )
    return Response(xml, media_type="application/xml")
