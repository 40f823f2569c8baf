"""Request-scoped access to the services and to the DICOMweb root URL.

A ``ResearchRoute`` is a route of the research root (``web.routes.research``): the same
QIDO-RS / WADO-RS handlers, answered from the de-identified research store, so for those
routes ``services`` is the research store's and ``base_url`` the research root.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.routing import APIRoute

from cloudpacs.errors import NotFound
from cloudpacs.runtime import Services

STARTED = "started_monotonic"
"""``app.state`` attribute: when the app was built (``time.monotonic()``), for the uptime."""


class ResearchRoute(APIRoute):
    """A route served from the de-identified research store."""


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    if isinstance(request.scope.get("route"), ResearchRoute):
        if svc.research is None:
            raise NotFound("this server has no research store")
        return svc.research
    return svc


def base_url(request: Request) -> str:
    """The DICOMweb root as the client addressed it (or as configured)."""
    svc = services(request)
    configured = svc.settings.public_base_url
    if configured:
        return configured.rstrip("/")
    root = str(request.base_url).rstrip("/")
    return root + svc.settings.base_path
