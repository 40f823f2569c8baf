"""The research root: QIDO-RS and WADO-RS over the de-identified research store.

The routes are the archive's own handlers (``qido``, ``wado``), registered again as
``ResearchRoute``s under ``research_base_path``: ``deps.services`` then hands them the
research store, and the route table (``web.access``) turns their actions into the research
ones (``search_research``, ``retrieve_research``), which is all a ``researcher`` holds. Nothing
stores into or deletes from this root: STOW-RS, uploads and DELETE are not registered here;
copies arrive only through de-identification jobs.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.routing import APIRoute

from cloudpacs.web.deps import ResearchRoute
from cloudpacs.web.routes import qido, wado

TAG = "Research (de-identified)"


def research_router(*sources: APIRouter) -> APIRouter:
    """The routes of ``sources`` as ``ResearchRoute``s with the same handlers and paths."""
    router = APIRouter(tags=[TAG])
    for source in sources:
        for route in source.routes:
            if not isinstance(route, APIRoute):
                raise TypeError(f"{route!r} is not an API route")
            router.add_api_route(
                route.path,
                route.endpoint,
                methods=sorted(route.methods or ()),
                name=f"research_{route.name}",
                response_class=route.response_class,
                include_in_schema=route.include_in_schema,
                route_class_override=ResearchRoute,
            )
    return router


router = research_router(qido.router, wado.router)
