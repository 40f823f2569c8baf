"""Cleanup after the release checks: delete every study of the probe's Patient ID, which only
the checks store. The smoke and load tests delete their own probes; this finds what an
interrupted run (a killed build, a lost connection) left behind."""

from __future__ import annotations

import httpx

from cloudpacs.release_checks.failure import CheckFailed, expect
from cloudpacs.release_checks.probe import CHECK_PATIENT_ID
from cloudpacs.release_checks.smoke import DICOM_JSON, STUDY_INSTANCE_UID

PAGE = 100


def leftover_studies(client: httpx.Client) -> list[str]:
    """Study Instance UIDs stored under the checks' Patient ID (PS3.18 §10.6 search)."""
    response = expect(
        client.get("studies", params={"PatientID": CHECK_PATIENT_ID, "limit": PAGE,
                                      "includefield": STUDY_INSTANCE_UID},
                   headers={"Accept": DICOM_JSON}),
        "cleanup search", 200, 204,
    )  # fmt: skip
    if response.status_code == 204 or not response.content:
        return []
    return [str(s[STUDY_INSTANCE_UID]["Value"][0]) for s in response.json()]


def clean_up(client: httpx.Client) -> list[str]:
    """Delete the leftover studies; return their UIDs."""
    deleted: list[str] = []
    while True:
        studies = [uid for uid in leftover_studies(client) if uid not in deleted]
        if not studies:
            return deleted
        for uid in studies:
            expect(client.delete(f"studies/{uid}"), f"cleanup of {uid}", 200, 202, 204, 404)
            deleted.append(uid)
        if len(deleted) > 100 * PAGE:
            raise CheckFailed("cleanup: studies keep appearing under the checks' Patient ID")
