"""The client side of a large upload (docs/uploads.md), as any HTTP client does it.

``POST /uploads`` declares the upload; the bytes go to the URL(s) it returns (presigned S3
URLs in AWS, the local inbox's signed URLs on the embedded server), which carry their own
credentials; ``GET /uploads/{id}`` answers 202 until ingest has run, then the STOW-RS answer.
"""

from __future__ import annotations

from typing import Any

import httpx


def start_upload(
    client: httpx.Client,
    data: bytes,
    *,
    content_type: str | None = None,
    study: str | None = None,
) -> str:
    """Declare and send ``data``; the upload id."""
    declaration: dict[str, Any] = {"size": len(data)}
    if content_type:
        declaration["contentType"] = content_type
    if study:
        declaration["study"] = study
    created = client.post("/uploads", json=declaration)
    assert created.status_code == 201, created.text
    target = created.json()
    assert created.headers["Location"] == target["statusUrl"]
    if target["method"] == "PUT":
        put = client.put(target["url"], content=data)
        assert put.status_code == 200, put.text
        return str(target["uploadId"])
    size = target["partSize"]
    listed = []
    for part in target["parts"]:
        number = part["partNumber"]
        chunk = data[(number - 1) * size : number * size]
        put = client.put(part["url"], content=chunk)
        assert put.status_code == 200, put.text
        listed.append(
            f"<Part><PartNumber>{number}</PartNumber><ETag>{put.headers['ETag']}</ETag></Part>"
        )
    xml = "<CompleteMultipartUpload>" + "".join(listed) + "</CompleteMultipartUpload>"
    done = client.post(target["completeUrl"], content=xml.encode())
    assert done.status_code == 200, done.text
    return str(target["uploadId"])
