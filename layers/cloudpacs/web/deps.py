"""Request-scoped access to the services and to the DICOMweb root URL."""

from __future__ import annotations

from fastapi import Request

from cloudpacs.runtime import Services


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def base_url(request: Request) -> str:
    """The DICOMweb root as the client addressed it (or as configured)."""
    svc = services(request)
    configured = svc.settings.public_base_url
    if configured:
        return configured.rstrip("/")
    root = str(request.base_url).rstrip("/")
    return root + svc.settings.base_path
