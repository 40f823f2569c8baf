"""Sending instances: STOW-RS batches (PS3.18 §10.5) and, for files too large for one
request, the upload route (docs/uploads.md); reading back which instance was stored."""

from __future__ import annotations

import time
from typing import Any

import httpx

from cloudpacs.client.files import LocalInstance
from cloudpacs.client.session import Session
from cloudpacs.multipart import encode_parts, new_boundary

REFERENCED = "00081199"
FAILED = "00081198"
OTHER_FAILURES = "0008119A"
SOP_INSTANCE = "00081155"
FAILURE_REASON = "00081197"
PRIVATE_REASON = "00091001"
Results = dict[str, str | None]
"""SOP Instance UID -> None (stored) or why it was not."""


def _sop_outcomes(body: Any) -> Results:
    results: Results = {}
    if not isinstance(body, dict):
        return results
    for item in (body.get(REFERENCED) or {}).get("Value", []):
        for sop in item.get(SOP_INSTANCE, {}).get("Value", []):
            results[sop] = None
    for item in (body.get(FAILED) or {}).get("Value", []):
        reason = item.get(FAILURE_REASON, {}).get("Value", [0])[0]
        text = item.get(PRIVATE_REASON, {}).get("Value", [""])[0]
        for sop in item.get(SOP_INSTANCE, {}).get("Value", []):
            results[sop] = f"failure reason 0x{int(reason):04X} {text}".strip()
    return results


def _explain(response: httpx.Response) -> str:
    try:
        body = response.json()
        reason = body.get("error") if isinstance(body, dict) else None
    except ValueError:
        reason = None
    return f"HTTP {response.status_code}" + (f": {reason}" if reason else "")


def read_stow_answer(response: httpx.Response, batch: list[LocalInstance]) -> Results:
    """Each instance of ``batch`` stored or not, from a STOW-RS answer (200, 202, 409)."""
    if response.status_code not in (200, 202, 409):
        why = _explain(response)
        return {item.sop: why for item in batch}
    outcomes = _sop_outcomes(response.json())
    other = (response.json().get(OTHER_FAILURES) or {}).get("Value", [])
    fallback = other[0].get(PRIVATE_REASON, {}).get("Value", ["not stored"])[0] if other else None
    return {item.sop: outcomes.get(item.sop, fallback or "not in the answer") for item in batch}


def store_batch(session: Session, batch: list[LocalInstance]) -> Results:
    boundary = new_boundary()
    body = b"".join(
        encode_parts([("application/dicom", [item.path.read_bytes()]) for item in batch], boundary)
    )
    headers = {
        "Content-Type": f'multipart/related; type="application/dicom"; boundary={boundary}',
        "Accept": "application/dicom+json",
    }
    try:
        response = session.request("POST", "studies", content=body, headers=headers)
    except httpx.TransportError as exc:
        return {item.sop: f"connection failed: {exc}" for item in batch}
    return read_stow_answer(response, batch)


def _send_bytes(session: Session, target: dict[str, Any], data: bytes) -> str | None:
    """Send ``data`` where the upload declaration says; why it failed, or None."""
    if target.get("method") == "PUT":
        put = session.request("PUT", target["url"], content=data, auth=None)
        return None if put.status_code == 200 else f"upload PUT: {_explain(put)}"
    size = int(target["partSize"])
    listed = []
    for part in target["parts"]:
        number = int(part["partNumber"])
        chunk = data[(number - 1) * size : number * size]
        put = session.request("PUT", part["url"], content=chunk, auth=None)
        if put.status_code != 200:
            return f"upload part {number}: {_explain(put)}"
        etag = put.headers.get("ETag", "")
        listed.append(f"<Part><PartNumber>{number}</PartNumber><ETag>{etag}</ETag></Part>")
    xml = "<CompleteMultipartUpload>" + "".join(listed) + "</CompleteMultipartUpload>"
    done = session.request("POST", target["completeUrl"], content=xml.encode(), auth=None)
    return None if done.status_code == 200 else f"upload completion: {_explain(done)}"


def store_by_upload(session: Session, item: LocalInstance, *, wait: float = 600) -> Results:
    """One large file through ``POST /uploads``, then its STOW-RS answer when ingested."""
    data = item.path.read_bytes()
    try:
        created = session.request("POST", "uploads", json={"size": len(data)})
        if created.status_code != 201:
            return {item.sop: f"upload declaration: {_explain(created)}"}
        target = created.json()
        failure = _send_bytes(session, target, data)
        if failure:
            return {item.sop: failure}
        deadline = time.monotonic() + wait
        while True:
            status = session.request("GET", target["statusUrl"])
            if status.status_code != 202:
                return read_stow_answer(status, [item])
            if time.monotonic() > deadline:
                return {item.sop: f"upload still {status.json().get('state')} after {wait:g} s"}
            time.sleep(min(float(status.headers.get("Retry-After", "1")), 5.0))
    except httpx.TransportError as exc:
        return {item.sop: f"connection failed: {exc}"}
