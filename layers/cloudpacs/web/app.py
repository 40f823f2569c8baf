"""The FastAPI application: DICOMweb routes per service, registered in one place.

``create_app(services, routes=("qido",))`` mounts only the named services, so each Lambda
function serves just its own routes while the local server mounts them all.

Layers, outermost first: CORS (answers preflights) -> HTTP metrics -> security
(authentication, one audit event per request) -> ``HEAD`` answered as ``GET`` (``head.py``)
-> error handlers -> routes, each guarded by ``authorize_route`` (the action from the route
table in ``access.py``, checked against the permission matrix). The security layer guards
every app the same way; only ``settings.auth`` differs (``none`` / ``oidc`` locally,
``apigateway`` in Lambda).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter, Depends, FastAPI

from cloudpacs import __version__
from cloudpacs.runtime import Services
from cloudpacs.web.access import authorize_route, check_declared
from cloudpacs.web.authn import build_authenticator
from cloudpacs.web.cors import CorsMiddleware
from cloudpacs.web.errors import install_error_handlers
from cloudpacs.web.head import HeadAsGet
from cloudpacs.web.metrics import HttpMetrics
from cloudpacs.web.routes import (
    audit,
    corrections,
    deidentify,
    delete,
    hold,
    ops,
    qido,
    research,
    rest_api,
    stow,
    uploads,
    wado,
)
from cloudpacs.web.security import SecurityMiddleware
from cloudpacs.web.transaction import count_deleted, count_stored

DICOMWEB_ROUTERS: dict[str, APIRouter] = {
    "qido": qido.router,
    "wado": wado.router,
    "stow": stow.router,
    "delete": delete.router,
    "corrections": corrections.router,
    "hold": hold.router,
    "uploads": uploads.router,
    "inbox": uploads.inbox_router,
    "deidentify": deidentify.router,
}
ROOT_ROUTERS: dict[str, APIRouter] = {
    "ops": ops.router,
    "audit": audit.router,
    "rest_api": rest_api.router,
}
RESEARCH_ROUTERS: dict[str, APIRouter] = {"research": research.router}
"""Mounted under ``research_base_path``, answered from the research store (issue 7)."""
ALL_ROUTES = (*DICOMWEB_ROUTERS, *ROOT_ROUTERS, *RESEARCH_ROUTERS)


def create_app(services: Services, routes: Iterable[str] = ALL_ROUTES) -> FastAPI:
    settings = services.settings
    app = FastAPI(
        title="cloudpacs",
        version=__version__,
        summary="DICOMweb (QIDO-RS, WADO-RS, STOW-RS) on one core",
        dependencies=[Depends(authorize_route)],
    )
    app.state.services = services
    setattr(app.state, rest_api.STARTED, time.monotonic())
    metrics = HttpMetrics()
    app.state.metrics = metrics
    _add_hook(services.ingest.on_stored, metrics.on_stored)
    _add_hook(services.ingest.on_stored, count_stored)
    _add_hook(services.delete.on_deleted, count_deleted)
    install_error_handlers(app)
    mounted = [r for r in routes if r not in RESEARCH_ROUTERS or services.research is not None]
    check_declared(_router(name) for name in mounted)
    for name in mounted:
        if name in ROOT_ROUTERS:
            app.include_router(ROOT_ROUTERS[name])
        elif name in RESEARCH_ROUTERS:
            app.include_router(RESEARCH_ROUTERS[name], prefix=settings.research_base_path)
        else:
            app.include_router(DICOMWEB_ROUTERS[name], prefix=settings.base_path)
    app.add_middleware(HeadAsGet)
    app.add_middleware(
        SecurityMiddleware,
        authenticator=build_authenticator(settings),
        audit=services.audit,
        base_path=settings.base_path,
    )
    metrics.install(app)
    app.add_middleware(CorsMiddleware, policy=settings.cors_policy())
    return app


def _router(name: str) -> APIRouter:
    return ROOT_ROUTERS.get(name) or RESEARCH_ROUTERS.get(name) or DICOMWEB_ROUTERS[name]


def _add_hook(hooks: list[Any], hook: Any) -> None:
    if hook not in hooks:
        hooks.append(hook)
