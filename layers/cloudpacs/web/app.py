"""The FastAPI application: DICOMweb routes per service, registered in one place.

``create_app(services, routes=("qido",))`` mounts only the named routers
(``cloudpacs.web.routers``, each imported when mounted), so each Lambda function serves and
loads just its own routes while the local server mounts them all.

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

from fastapi import Depends, FastAPI

from cloudpacs import __version__
from cloudpacs.runtime import Services
from cloudpacs.web.access import authorize_route, check_declared
from cloudpacs.web.auth_mode import build_authenticator
from cloudpacs.web.cors import CorsMiddleware
from cloudpacs.web.deps import STARTED
from cloudpacs.web.errors import install_error_handlers
from cloudpacs.web.head import HeadAsGet
from cloudpacs.web.metrics import HttpMetrics
from cloudpacs.web.routers import ALL_ROUTES, ROUTERS, load_router, mount_prefix
from cloudpacs.web.security import SecurityMiddleware
from cloudpacs.web.transaction import count_deleted, count_stored


def create_app(services: Services, routes: Iterable[str] = ALL_ROUTES) -> FastAPI:
    settings = services.settings
    app = FastAPI(
        title="cloudpacs",
        version=__version__,
        summary="DICOMweb (QIDO-RS, WADO-RS, STOW-RS) on one core",
        dependencies=[Depends(authorize_route)],
    )
    app.state.services = services
    setattr(app.state, STARTED, time.monotonic())
    metrics = HttpMetrics()
    app.state.metrics = metrics
    _add_hook(services.ingest.on_stored, metrics.on_stored)
    _add_hook(services.ingest.on_stored, count_stored)
    _add_hook(services.delete.on_deleted, count_deleted)
    install_error_handlers(app)
    mounted = [
        name
        for name in routes
        if ROUTERS[name].mount != "research" or services.research is not None
    ]
    routers = {name: load_router(name) for name in mounted}
    check_declared(routers.values())
    for name, router in routers.items():
        app.include_router(router, prefix=mount_prefix(ROUTERS[name].mount, settings))
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


def _add_hook(hooks: list[Any], hook: Any) -> None:
    if hook not in hooks:
        hooks.append(hook)
