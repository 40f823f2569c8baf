"""The app's routers by name, each imported only when an app mounts it.

A Lambda function mounts its own few routers (``aws_lambda.http_app``); importing every route
module, with what each needs (rendering, de-identification, corrections), would make every
function's cold start pay for all of them. ``ROUTERS`` names where each router lives and
where it is mounted: under the DICOMweb base path, at the root, or under the research base
path (``settings.research_base_path``).
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from fastapi import APIRouter

if TYPE_CHECKING:
    from cloudpacs.settings import Settings

Mount = Literal["dicomweb", "root", "research"]


@dataclass(frozen=True)
class RouterSpec:
    module: str
    """Module under ``cloudpacs.web.routes``."""
    mount: Mount
    attribute: str = "router"


ROUTERS: dict[str, RouterSpec] = {
    "qido": RouterSpec("qido", "dicomweb"),
    "wado": RouterSpec("wado", "dicomweb"),
    "stow": RouterSpec("stow", "dicomweb"),
    "delete": RouterSpec("delete", "dicomweb"),
    "corrections": RouterSpec("corrections", "dicomweb"),
    "hold": RouterSpec("hold", "dicomweb"),
    "uploads": RouterSpec("uploads", "dicomweb"),
    "inbox": RouterSpec("uploads", "dicomweb", "inbox_router"),
    "deidentify": RouterSpec("deidentify", "dicomweb"),
    "ops": RouterSpec("ops", "root"),
    "audit": RouterSpec("audit", "root"),
    "rest_api": RouterSpec("rest_api", "root"),
    "research": RouterSpec("research", "research"),
}
"""Every router of the app; the local server mounts them all."""
ALL_ROUTES = tuple(ROUTERS)


def load_router(name: str) -> APIRouter:
    spec = ROUTERS[name]
    module = importlib.import_module(f"cloudpacs.web.routes.{spec.module}")
    router: APIRouter = getattr(module, spec.attribute)
    return router


def mount_prefix(mount: Mount, settings: Settings) -> str:
    """The path a router of ``mount`` is mounted under."""
    return {"dicomweb": settings.base_path, "root": "", "research": settings.research_base_path}[
        mount
    ]


def all_routers() -> Iterator[tuple[str, APIRouter, Mount]]:
    """(name, router, mount) of every router (imports them all: tools and tests)."""
    for name, spec in ROUTERS.items():
        yield name, load_router(name), spec.mount
