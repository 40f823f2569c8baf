"""QIDO-RS routes (PS3.18 §10.6): search for studies, series and instances."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from cloudpacs.dicom.attributes import Level
from cloudpacs.errors import NotAcceptable
from cloudpacs.services.query_model import keyword, parse_qido
from cloudpacs.uids import check_uid
from cloudpacs.web import conditional
from cloudpacs.web.deps import base_url, services
from cloudpacs.web.responses import dicom_json

router = APIRouter(tags=["QIDO-RS"])
_JSON_TYPES = ("application/dicom+json", "application/json", "*/*", "application/*")


def _check_accept(request: Request) -> None:
    accept = request.headers.get("accept", "")
    if accept and not any(t in accept for t in _JSON_TYPES):
        raise NotAcceptable(f"QIDO-RS answers application/dicom+json, not {accept!r}")


async def _search(
    request: Request, level: Level, study: str | None = None, series: str | None = None
) -> Response:
    _check_accept(request)
    if study is not None:
        check_uid(study, "StudyInstanceUID")
    if series is not None:
        check_uid(series, "SeriesInstanceUID")
    svc = services(request)
    query = parse_qido(
        list(request.query_params.multi_items()), level, study_uid=study, series_uid=series
    )
    result = await run_in_threadpool(svc.query.search, query)
    warnings = []
    if result.truncated:
        warnings.append(
            '299 cloudpacs "The number of results exceeded the maximum supported by the '
            'server. Additional results can be requested."'
        )
    if result.ignored_keys:
        names = ", ".join(keyword(t) for t in result.ignored_keys)
        warnings.append(f'299 cloudpacs "Not supported as matching keys, ignored: {names}"')
    headers = {"Warning": ", ".join(warnings)} if warnings else None
    response = dicom_json(result.items, base_url(request), headers=headers)
    validators = conditional.of_body(bytes(response.body), conditional.REVALIDATE)
    return conditional.not_modified(request, validators) or validators.applied(response)


@router.get("/studies")
async def search_studies(request: Request) -> Response:
    return await _search(request, Level.STUDY)


@router.get("/series")
async def search_all_series(request: Request) -> Response:
    return await _search(request, Level.SERIES)


@router.get("/instances")
async def search_all_instances(request: Request) -> Response:
    return await _search(request, Level.INSTANCE)


@router.get("/studies/{study}/series")
async def search_series(request: Request, study: str) -> Response:
    return await _search(request, Level.SERIES, study)


@router.get("/studies/{study}/instances")
async def search_study_instances(request: Request, study: str) -> Response:
    return await _search(request, Level.INSTANCE, study)


@router.get("/studies/{study}/series/{series}/instances")
async def search_series_instances(request: Request, study: str, series: str) -> Response:
    return await _search(request, Level.INSTANCE, study, series)
