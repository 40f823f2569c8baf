"""De-identification jobs over HTTP (docs/deidentification.md).

- ``POST {base}/studies/{study}/deidentify`` with ``{"profile": "<preset>", "options": {...}}``
  queues a job for every instance of the study and answers 202 with the job's URL
  (``Location``); an unknown preset or option is 400, an unknown study 404.
- ``GET {base}/jobs/{job}``: the job's state, counts, every instance's result (quarantined and
  failed ones with their reason), the quarantine report (the refused instances, the rule
  that refused each, a count per rule) and, once known, the research study's UID and URL.

Both are the ``deidentify`` action (``admin``). The answer names original and research UIDs
side by side: it is the link between the two, read only by those who may see the archive.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from cloudpacs.errors import NotFound
from cloudpacs.services.deid_jobs import DeidJobs
from cloudpacs.services.deid_model import InstanceResult, JobStatus, Outcome, ProfileSpec
from cloudpacs.web.deps import base_url, services

router = APIRouter(tags=["De-identification"])
RETRY_AFTER_SECONDS = 2


class DeidentifyRequest(BaseModel):
    """A preset (``Profile.PRESETS``) and PS3.15 Options switched on or off on top of it."""

    model_config = ConfigDict(extra="forbid")

    profile: str
    options: dict[str, StrictBool] = Field(default_factory=dict)


def _jobs(request: Request) -> DeidJobs:
    jobs = services(request).deid_jobs
    if jobs is None:
        raise NotFound("de-identification jobs are not configured on this server")
    return jobs


def _research_root(request: Request) -> str:
    settings = services(request).settings
    configured = settings.research_public_base_url()
    if configured:
        return configured
    return str(request.base_url).rstrip("/") + settings.research_base_path


def _result_json(result: InstanceResult) -> dict[str, Any]:
    return {
        "series": result.series_uid,
        "sop": result.sop_uid,
        "outcome": result.outcome.value,
        "code": result.code,
        "reason": result.reason,
        "researchSeries": result.research_series_uid,
        "researchSop": result.research_sop_uid,
        "stored": result.stored,
        "pixelRule": result.pixel_rule,
    }


def _quarantine_json(status: JobStatus) -> dict[str, Any]:
    report = status.quarantine_report()
    return {
        "count": len(report.instances),
        "byReason": report.by_rule,
        "instances": [
            {
                "series": r.series_uid,
                "sop": r.sop_uid,
                "code": r.code,
                "reason": r.reason,
                "pixelRule": r.pixel_rule,
            }
            for r in report.instances
        ],
    }


def status_json(status: JobStatus, job_url: str, research_root: str) -> dict[str, Any]:
    record = status.record
    research = status.research_study_uid
    return {
        "job": record.job_id,
        "url": job_url,
        "state": status.state.value,
        "study": record.study_uid,
        "profile": {**record.profile.to_json(), "name": record.profile_name},
        "owner": record.owner,
        "created": record.created_at,
        "instances": record.total,
        "deidentified": status.count(Outcome.DEIDENTIFIED),
        "quarantined": status.count(Outcome.QUARANTINED),
        "failed": status.count(Outcome.FAILED),
        "pending": max(record.total - len(status.results), 0),
        "error": record.error,
        "researchStudy": research,
        "researchUrl": f"{research_root}/studies/{research}" if research else None,
        "quarantine": _quarantine_json(status),
        "results": [_result_json(r) for r in sorted(status.results, key=_order)],
    }


def _order(result: InstanceResult) -> tuple[str, str]:
    return result.series_uid, result.sop_uid


@router.post("/studies/{study}/deidentify", status_code=202)
async def deidentify_study(request: Request, study: str, body: DeidentifyRequest) -> JSONResponse:
    jobs = _jobs(request)
    username = getattr(getattr(request.state, "identity", None), "username", None)
    spec = ProfileSpec(body.profile, dict(body.options))
    record = await run_in_threadpool(
        jobs.submit, study, spec, owner=username if isinstance(username, str) else None
    )
    url = f"{base_url(request)}/jobs/{record.job_id}"
    status = JobStatus(record, ())
    return JSONResponse(
        status_json(status, url, _research_root(request)),
        status_code=202,
        headers={"Location": url, "Retry-After": str(RETRY_AFTER_SECONDS)},
    )


@router.get("/jobs/{job}")
async def job_status(request: Request, job: str) -> JSONResponse:
    status = await run_in_threadpool(_jobs(request).status, job)
    url = f"{base_url(request)}/jobs/{job}"
    return JSONResponse(status_json(status, url, _research_root(request)))
