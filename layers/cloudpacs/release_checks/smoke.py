"""The smoke test: one instance through every DICOMweb service and back out.

STOW-RS (PS3.18 §10.5) → QIDO-RS study and instance search (§10.6) → WADO-RS instance,
metadata and frame (§10.4) → delete, plus a C-ECHO (PS3.7 §9.1.5) to a DIMSE address when one
is given. Each step checks what a client relies on (the stored bytes come back unchanged, the
search finds the instance, the frame holds its pixels) and the first failure stops the run with
its reason. The probe is deleted whatever happened, so a failed run leaves nothing behind.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from time import perf_counter
from typing import Any

import httpx

from cloudpacs.multipart import MultipartParser, boundary_of
from cloudpacs.release_checks.failure import CheckFailed, expect
from cloudpacs.release_checks.probe import Probe, make_probe

DICOM_JSON = "application/dicom+json"
INSTANCE_ACCEPT = 'multipart/related; type="application/dicom"; transfer-syntax=*'
FRAME_ACCEPT = 'multipart/related; type="application/octet-stream"; transfer-syntax=*'
REFERENCED_SOP_SEQUENCE = "00081199"
FAILED_SOP_SEQUENCE = "00081198"
SOP_INSTANCE_UID = "00080018"
STUDY_INSTANCE_UID = "0020000D"


@dataclass
class SmokeReport:
    steps: list[tuple[str, float]] = field(default_factory=list)
    """(step, seconds) of each step that passed, in order."""

    def run(self, name: str, step: Callable[[], None]) -> None:
        start = perf_counter()
        try:
            step()
        except httpx.HTTPError as exc:
            raise CheckFailed(f"{name}: {type(exc).__name__}: {exc}") from None
        except ValueError as exc:  # a body that is not the JSON it should be
            raise CheckFailed(f"{name}: unreadable response: {exc}") from None
        self.steps.append((name, perf_counter() - start))


def parts(response: httpx.Response, step: str) -> list[bytes]:
    """The bodies of a multipart/related response (PS3.18 §8.6.1.2)."""
    try:
        parser = MultipartParser(boundary_of(response.headers.get("content-type", "")))
        parser.feed(response.content)
        return [part.body for part in parser.close()]
    except ValueError as exc:
        raise CheckFailed(f"{step}: response is not multipart/related: {exc}") from None


def _value(item: dict[str, Any], tag: str) -> Any:
    values = item.get(tag, {}).get("Value") or [None]
    return values[0]


def store(client: httpx.Client, probe: Probe) -> None:
    body, content_type = probe.stow_body()
    response = expect(
        client.post("studies", content=body, headers={"Content-Type": content_type,
                                                       "Accept": DICOM_JSON}),
        "STOW-RS", 200,
    )  # fmt: skip
    result = response.json()
    if result.get(FAILED_SOP_SEQUENCE):
        raise CheckFailed(f"STOW-RS: the instance was refused: {result[FAILED_SOP_SEQUENCE]}")
    stored = [_value(item, "00081155") for item in _value_list(result, REFERENCED_SOP_SEQUENCE)]
    if probe.instance not in stored:
        raise CheckFailed(f"STOW-RS: the response does not reference {probe.instance}")


def _value_list(item: dict[str, Any], tag: str) -> list[dict[str, Any]]:
    return list(item.get(tag, {}).get("Value") or [])


def search(client: httpx.Client, probe: Probe) -> None:
    studies = expect(
        client.get("studies", params={"StudyInstanceUID": probe.study},
                   headers={"Accept": DICOM_JSON}),
        "QIDO-RS studies", 200,
    ).json()  # fmt: skip
    if [_value(s, STUDY_INSTANCE_UID) for s in studies] != [probe.study]:
        raise CheckFailed(f"QIDO-RS studies: expected study {probe.study}, found {studies}")
    found = expect(
        client.get(f"studies/{probe.study}/instances", headers={"Accept": DICOM_JSON}),
        "QIDO-RS instances", 200,
    ).json()  # fmt: skip
    if [_value(i, SOP_INSTANCE_UID) for i in found] != [probe.instance]:
        raise CheckFailed(f"QIDO-RS instances: expected {probe.instance}, found {found}")


def _instance_path(probe: Probe) -> str:
    return f"studies/{probe.study}/series/{probe.series}/instances/{probe.instance}"


def retrieve(client: httpx.Client, probe: Probe) -> None:
    path = _instance_path(probe)
    response = expect(client.get(path, headers={"Accept": INSTANCE_ACCEPT}), "WADO-RS", 200)
    if parts(response, "WADO-RS instance") != [probe.part10]:
        raise CheckFailed("WADO-RS instance: the object differs from the one stored")
    metadata = expect(
        client.get(f"{path}/metadata", headers={"Accept": DICOM_JSON}), "WADO-RS metadata", 200
    ).json()
    if [_value(m, SOP_INSTANCE_UID) for m in metadata] != [probe.instance]:
        raise CheckFailed(f"WADO-RS metadata: expected {probe.instance}, got {metadata}")
    frame = expect(
        client.get(f"{path}/frames/1", headers={"Accept": FRAME_ACCEPT}), "WADO-RS frame", 200
    )
    if parts(frame, "WADO-RS frame") != [probe.pixels]:
        raise CheckFailed("WADO-RS frame: frame 1 does not hold the stored pixels")


def delete(client: httpx.Client, probe: Probe) -> None:
    expect(client.delete(f"studies/{probe.study}"), "delete", 200, 202, 204)
    gone = client.get("studies", params={"StudyInstanceUID": probe.study},
                      headers={"Accept": DICOM_JSON})  # fmt: skip
    if gone.status_code == 200 and gone.json():
        raise CheckFailed(f"delete: study {probe.study} is still found after deletion")
    expect(gone, "delete", 200, 204)


def run_smoke(client: httpx.Client, *, echo: Callable[[], None] | None = None) -> SmokeReport:
    """Run every step against ``client``'s DICOMweb root; raise `CheckFailed` on the first
    failure (after deleting the probe)."""
    report = SmokeReport()
    probe = make_probe()
    deleted = False
    try:
        report.run("stow", lambda: store(client, probe))
        report.run("qido", lambda: search(client, probe))
        report.run("wado", lambda: retrieve(client, probe))
        report.run("delete", lambda: delete(client, probe))
        deleted = True
        if echo is not None:
            report.run("c-echo", echo)
    finally:
        if not deleted:
            with contextlib.suppress(httpx.HTTPError):
                client.delete(f"studies/{probe.study}")
    return report
