"""Which action of the permission matrix each HTTP route performs: the route table.

The table is data, kept in one place, keyed by the name of the route's handler (the path
templates are in the comments and in docs/auth.md). ``check_declared`` runs when an app is
built: every route of every mounted router must be listed, with the ``Action`` it performs
or as ``PUBLIC``, or the app does not start. At request time ``authorize_route`` (an app-wide
dependency, so it runs for every route after routing and before the handler) looks the
matched route up; a route missing from the table is refused, never served unguarded.

``PUBLIC`` routes need no identity and leave no audit event: ``/health`` (probes call it every
few seconds and it returns no patient data) and FastAPI's description of the API
(``PUBLIC_PATHS``: the security middleware lets these paths through before routing).
``SIGNED_URL`` routes are the embedded server's stand-in for presigned S3 upload URLs: they
take no bearer token because the URL's signature, checked by the handler, is the credential;
they are audited as ``upload`` (actor ``anonymous``, as the signature names no user).
``/metrics`` is ``read_audit`` (admins): its counters describe traffic, and "loopback may
read it" would let anything behind a reverse proxy on the same host read it too.
``HEAD`` is answered by the ``GET`` routes and performs their action.

The research root (``web.routes.research``) mounts the QIDO-RS and WADO-RS handlers again, as
``ResearchRoute``s over the de-identified store: such a route performs the research action
that ``RESEARCH_ACTIONS`` pairs with its handler's action, and a handler whose action has no
research counterpart (store, delete, ...) cannot be mounted there.
"""

from __future__ import annotations

import enum
import logging
import re
from collections.abc import Callable, Iterable, Mapping
from types import MappingProxyType
from typing import Any

from fastapi import APIRouter, Request
from starlette.routing import BaseRoute, Route

from cloudpacs.errors import Forbidden, Unauthorized
from cloudpacs.security.permissions import Action, authorize
from cloudpacs.web.deps import ResearchRoute
from cloudpacs.web.transaction import CURRENT

log = logging.getLogger(__name__)


class Open(enum.Enum):
    PUBLIC = "public"
    SIGNED_URL = "signed_url"


PUBLIC = Open.PUBLIC
SIGNED_URL = Open.SIGNED_URL
Access = Action | Open
Endpoint = Callable[..., Any]

ROUTE_ACTIONS: Mapping[str, Access] = MappingProxyType(
    {
        # QIDO-RS                                     GET {base}/...
        "qido.search_studies": Action.SEARCH,  # /studies
        "qido.search_all_series": Action.SEARCH,  # /series
        "qido.search_all_instances": Action.SEARCH,  # /instances
        "qido.search_series": Action.SEARCH,  # /studies/{study}/series
        "qido.search_study_instances": Action.SEARCH,  # /studies/{study}/instances
        "qido.search_series_instances": Action.SEARCH,  # /studies/{study}/series/{series}/instances
        # WADO-RS                                     GET {base}/...
        "wado.retrieve_study": Action.RETRIEVE,  # /studies/{study}
        "wado.retrieve_series": Action.RETRIEVE,  # .../series/{series}
        "wado.retrieve_instance": Action.RETRIEVE,  # .../instances/{sop}
        "wado.study_metadata": Action.RETRIEVE,  # /studies/{study}/metadata
        "wado.series_metadata": Action.RETRIEVE,  # .../series/{series}/metadata
        "wado.instance_metadata": Action.RETRIEVE,  # .../instances/{sop}/metadata
        "wado.retrieve_frames": Action.RETRIEVE,  # .../instances/{sop}/frames/{frame_list}
        "wado.retrieve_bulkdata": Action.RETRIEVE,  # .../instances/{sop}/bulkdata/{tag_path}
        "rendered.rendered_study": Action.RETRIEVE,  # /studies/{study}/rendered
        "rendered.rendered_series": Action.RETRIEVE,  # .../series/{series}/rendered
        "rendered.rendered_instance": Action.RETRIEVE,  # .../instances/{sop}/rendered
        "rendered.rendered_frames": Action.RETRIEVE,  # .../frames/{frame_list}/rendered
        "rendered.thumbnail_study": Action.RETRIEVE,  # /studies/{study}/thumbnail
        "rendered.thumbnail_series": Action.RETRIEVE,  # .../series/{series}/thumbnail
        "rendered.thumbnail_instance": Action.RETRIEVE,  # .../instances/{sop}/thumbnail
        "rendered.thumbnail_frame": Action.RETRIEVE,  # .../frames/{frame_list}/thumbnail
        # STOW-RS                                     POST {base}/...
        "stow.store_instances": Action.STORE,  # /studies
        "stow.store_study_instances": Action.STORE,  # /studies/{study}
        # Delete                                      DELETE {base}/...
        "delete.delete_study": Action.DELETE,  # /studies/{study}
        "delete.delete_series": Action.DELETE,  # .../series/{series}
        "delete.delete_instance": Action.DELETE,  # .../instances/{sop}
        # Corrections (docs/corrections.md)          {base}/...
        "corrections.update_study": Action.UPDATE,  # PATCH /studies/{study}
        "corrections.merge_patient": Action.UPDATE,  # POST /patients/{patient}/merge
        # Legal hold (docs/lifecycle.md)             {base}/studies/{study}/hold
        "hold.place_hold": Action.HOLD,  # PUT
        "hold.release_hold": Action.RELEASE_HOLD,  # DELETE
        "hold.study_hold": Action.RETRIEVE,  # GET
        # Large uploads (DESIGN.md §5)                {base}/...
        "uploads.create_upload": Action.UPLOAD,  # POST /uploads
        "uploads.upload_status": Action.UPLOAD,  # GET /uploads/{upload}
        # The embedded inbox's signed URLs: the signature is the credential, as a presigned
        # S3 URL's is (cloudpacs/adapters/local/file_inbox.py). No bearer token; audited.
        "uploads.put_content": SIGNED_URL,  # PUT /uploads/{upload}/content
        "uploads.complete_content": SIGNED_URL,  # POST /uploads/{upload}/content
        # De-identification jobs (docs/deidentification.md)           {base}/...
        "deidentify.deidentify_study": Action.DEIDENTIFY,  # POST /studies/{study}/deidentify
        "deidentify.job_status": Action.DEIDENTIFY,  # GET /jobs/{job}
        # Operations and audit                        GET /...
        "ops.health": PUBLIC,  # /health
        "ops.metrics": Action.READ_AUDIT,  # /metrics
        "audit.read_audit": Action.READ_AUDIT,  # /audit
        # REST API                                    GET /api/v1/...
        "rest_api.system_status": Action.SEARCH,  # /system/status
        "rest_api.system_metrics": Action.READ_AUDIT,  # /system/metrics (as /metrics)
        "rest_api.list_patients": Action.SEARCH,  # /patients
        "rest_api.list_studies": Action.SEARCH,  # /studies
        "rest_api.list_series": Action.SEARCH,  # /series
    }
)
"""Route handler (``<module of cloudpacs.web.routes>.<function>``) -> the action it performs
(or ``PUBLIC``). Names rather than the functions, so the table imports no route module: a
Lambda function loads only the routers it mounts (``cloudpacs.web.routers``)."""

RESEARCH_ACTIONS: Mapping[Access, Action] = MappingProxyType(
    {Action.SEARCH: Action.SEARCH_RESEARCH, Action.RETRIEVE: Action.RETRIEVE_RESEARCH}
)
"""The action a handler performs on the research root, by the action it performs on the
archive; handlers whose action is not listed are never served from the research store."""

PUBLIC_PATHS = frozenset({"/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"})
"""Paths served without identity or audit (``GET``/``HEAD``), recognised before routing."""
SIGNED_URL_PATH = re.compile(r"/uploads/[^/]+/content")
"""``PUT``/``POST`` paths, relative to the base path, that authenticate by URL signature."""


class UndeclaredRoute(RuntimeError):
    """A mounted route has no entry in the route table."""


def before_routing(method: str, path: str, base_path: str) -> Open | None:
    """How the security middleware treats a request before routing: ``PUBLIC`` (let through
    unaudited), ``SIGNED_URL`` (no bearer token; audited) or None (authenticate)."""
    if method in ("GET", "HEAD") and path in PUBLIC_PATHS:
        return PUBLIC
    relative = path[len(base_path) :] if path.startswith(base_path + "/") else None
    if method in ("PUT", "POST") and relative and SIGNED_URL_PATH.fullmatch(relative):
        return SIGNED_URL
    return None


ROUTES_PACKAGE = "cloudpacs.web.routes."


def endpoint_name(endpoint: Endpoint | None) -> str | None:
    """``qido.search_studies`` for ``cloudpacs.web.routes.qido.search_studies``; None for
    anything that is not a route handler of cloudpacs."""
    module = getattr(endpoint, "__module__", None) or ""
    if not module.startswith(ROUTES_PACKAGE):
        return None
    return f"{module.removeprefix(ROUTES_PACKAGE)}.{getattr(endpoint, '__qualname__', '')}"


def action_of(endpoint: Endpoint | None) -> Access | None:
    """The action a route handler performs, from the table; None: undeclared."""
    name = endpoint_name(endpoint)
    return ROUTE_ACTIONS.get(name) if name is not None else None


def access_of(route: BaseRoute | None) -> Access | None:
    """The action ``route`` performs (or ``PUBLIC``/``SIGNED_URL``); None: undeclared."""
    access = action_of(getattr(route, "endpoint", None))
    if isinstance(route, ResearchRoute):
        return RESEARCH_ACTIONS.get(access) if access is not None else None
    return access


def check_declared(routers: Iterable[APIRouter]) -> None:
    """Refuse to build an app with a route whose action is not declared."""
    for router in routers:
        for route in router.routes:
            if not isinstance(route, Route) or access_of(route) is None:
                raise UndeclaredRoute(
                    f"{getattr(route, 'path', route)!r} is not in the route table "
                    f"(cloudpacs/web/access.py): declare the action it performs"
                )


async def authorize_route(request: Request) -> None:
    """App-wide dependency: the caller may perform the matched route's action, or 403."""
    route = request.scope.get("route")
    if getattr(route, "endpoint", None) is not None:
        access = access_of(route)
    else:
        access = action_of(request.scope.get("endpoint"))
    transaction = CURRENT.get()
    if access is Open.PUBLIC:
        if transaction is not None:
            transaction.authorized = True
        return
    if transaction is None:
        raise Unauthorized("the request was not authenticated (no security middleware)")
    if access is Open.SIGNED_URL:
        transaction.action = Action.UPLOAD.value
        transaction.authorized = True  # the handler checks the URL's signature
        return
    if transaction.identity is None:
        raise Unauthorized("the request carries no authenticated identity")
    if access is None:
        log.error("route %r has no entry in the route table; refused", route)
        transaction.reason = "undeclared_route"
        raise Forbidden("this route declares no action, so nobody may call it")
    transaction.action = access.value
    decision = authorize(transaction.identity, access)
    transaction.authorized = decision.allowed
    if not decision:
        transaction.reason = "forbidden"
        raise Forbidden(decision.reason)
