"""The FastAPI application: DICOMweb routes per service, registered in one place.

``create_app(services, routes=("qido",))`` mounts only the named services, so each Lambda
function serves just its own routes while the local server mounts them all.
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter, FastAPI

from cloudpacs import __version__
from cloudpacs.runtime import Services
from cloudpacs.web.errors import install_error_handlers
from cloudpacs.web.metrics import HttpMetrics
from cloudpacs.web.routes import delete, ops, qido, stow, uploads, wado

DICOMWEB_ROUTERS: dict[str, APIRouter] = {
    "qido": qido.router,
    "wado": wado.router,
    "stow": stow.router,
    "delete": delete.router,
    "uploads": uploads.router,
    "inbox": uploads.inbox_router,
}
ALL_ROUTES = (*DICOMWEB_ROUTERS, "ops")


def create_app(services: Services, routes: Iterable[str] = ALL_ROUTES) -> FastAPI:
    app = FastAPI(
        title="cloudpacs",
        version=__version__,
        summary="DICOMweb (QIDO-RS, WADO-RS, STOW-RS) on one core",
    )
    app.state.services = services
    metrics = HttpMetrics()
    app.state.metrics = metrics
    services.ingest.on_stored.append(metrics.on_stored)
    install_error_handlers(app)
    metrics.install(app)
    prefix = services.settings.base_path
    for name in routes:
        if name == "ops":
            app.include_router(ops.router)
        else:
            app.include_router(DICOMWEB_ROUTERS[name], prefix=prefix)
    return app
