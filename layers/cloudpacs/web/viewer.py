"""The OHIF viewer at ``/viewer/`` of the local server (``cloudpacs serve``).

An ASGI layer in front of the DICOMweb app: requests under ``/viewer`` are answered from the
cached viewer (``cloudpacs.viewer.package``), everything else goes to the app. The viewer's
files carry no patient data, so they are served without authentication or audit, as
``/health`` is; what the viewer then asks of the DICOMweb root is authenticated and audited as
any other client's request.

- ``/viewer/app-config.js`` is generated (``cloudpacs.viewer.config``) for the DICOMweb root
  the browser reached (or ``CLOUDPACS_PUBLIC_BASE_URL``), with thumbnails from the server's
  thumbnail resources when the app has them;
- files of the viewer are served as they are, except ``index.html`` and the scripts and
  stylesheets naming root-relative paths, which are rebased onto ``/viewer/``
  (``cloudpacs.viewer.base_path``);
- any other path without a file extension is a route of the viewer's own router
  (``/viewer/viewer?StudyInstanceUIDs=...``) and gets ``index.html``;
- without a cached viewer every path under ``/viewer`` answers 503 with a page saying why and
  how to fetch it.
"""

from __future__ import annotations

import html
import logging
from functools import cached_property
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.types import ASGIApp, Receive, Scope, Send

from cloudpacs.settings import Settings
from cloudpacs.viewer.base_path import rebase_asset, rebase_index
from cloudpacs.viewer.config import Thumbnails, app_config, app_config_js
from cloudpacs.viewer.package import PACKAGE, VERSION, ViewerCache
from cloudpacs.viewer.policy import content_security_policy

log = logging.getLogger(__name__)
PREFIX = "/viewer"
_NO_STORE = {"Cache-Control": "no-store"}


class ViewerMount:
    def __init__(
        self, app: ASGIApp, *, settings: Settings, cache: ViewerCache, thumbnails: Thumbnails
    ) -> None:
        self.app = app
        self.settings = settings
        self.cache = cache
        self.thumbnails: Thumbnails = thumbnails
        self.base = PREFIX + "/"
        if cache.available():
            log.info("OHIF viewer %s at %s (from %s)", VERSION, self.base, cache.dist.resolve())
        else:
            log.warning("the viewer is not served: %s", self.why_missing)

    @property
    def why_missing(self) -> str:
        return (
            f"{self.cache.missing_reason()}. Fetch it with `cloudpacs viewer fetch` "
            f"(or `make viewer`); the server serves it from then on."
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = str(scope.get("path", ""))
        if scope["type"] != "http" or not (path == PREFIX or path.startswith(self.base)):
            await self.app(scope, receive, send)
            return
        response = self.respond(scope, path)
        await response(scope, receive, send)

    def respond(self, scope: Scope, path: str) -> Response:
        if scope["method"] not in ("GET", "HEAD"):
            return PlainTextResponse("the viewer is read-only", status_code=405)
        if path == PREFIX:
            return RedirectResponse(self.base, status_code=308)
        if not self.cache.available():
            return HTMLResponse(_missing_page(self.why_missing), 503, headers=_NO_STORE)
        relative = path[len(self.base) :]
        if relative == "app-config.js":
            return Response(self.config_js(scope), media_type="text/javascript", headers=_NO_STORE)
        parts = PurePosixPath(relative).parts
        if any(p in ("..", ".") or p.startswith(".") for p in parts):
            return PlainTextResponse("not found", status_code=404)
        target = self.cache.dist.joinpath(*parts) if parts else self.cache.dist / "index.html"
        if target.is_file() and target.name != "index.html":
            rebased = self.rebased(target) if len(parts) == 1 else None
            if rebased is not None:
                media = "text/css" if target.suffix == ".css" else "text/javascript"
                return Response(rebased, media_type=media)
            return FileResponse(target)
        if parts and "." in parts[-1] and target.name != "index.html":
            return PlainTextResponse("not found", status_code=404)
        return HTMLResponse(self.index, headers={**_NO_STORE, **self.policy})

    @cached_property
    def policy(self) -> dict[str, str]:
        """The page's Content Security Policy (the one the AWS viewer is served with), with
        the configured DICOMweb origin when it is not this server."""
        public = self.settings.public_base_url
        connect = [_origin(public)] if public else []
        return {"Content-Security-Policy": content_security_policy(connect)}

    def config_js(self, scope: Scope) -> str:
        root = self.settings.public_base_url or self._request_root(scope)
        config = app_config(
            dicomweb_root=root.rstrip("/"), router_basename=self.base, thumbnails=self.thumbnails
        )
        return app_config_js(config)

    def _request_root(self, scope: Scope) -> str:
        host = Headers(scope=scope).get("host") or f"{self.settings.host}:{self.settings.port}"
        return f"{scope.get('scheme', 'http')}://{host}{self.settings.base_path}"

    @cached_property
    def index(self) -> str:
        return rebase_index((self.cache.dist / "index.html").read_text("utf-8"), self.base)

    def rebased(self, path: Path) -> bytes | None:
        """A top-level script or stylesheet rebased onto ``/viewer/`` (None: served as is)."""
        if path.suffix not in (".js", ".css"):
            return None
        if path.name not in self._rebased:
            text = rebase_asset(path.name, path.read_text("utf-8"), self.base)
            self._rebased[path.name] = text.encode("utf-8") if text is not None else None
        return self._rebased[path.name]

    @cached_property
    def _rebased(self) -> dict[str, bytes | None]:
        return {}


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _missing_page(reason: str) -> str:
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Viewer not available</title>"
        "</head><body><h1>The viewer is not available</h1>"
        f"<p>cloudpacs serves the OHIF viewer ({html.escape(PACKAGE)}@{VERSION}) here once it "
        f"has been fetched from the npm registry.</p><p>{html.escape(reason)}</p>"
        "<p>DICOMweb itself is served as usual.</p></body></html>"
    )


def mount_viewer(app: ASGIApp, settings: Settings) -> ViewerMount:
    """The viewer in front of ``app`` (a FastAPI app), with the cache the settings name."""
    return ViewerMount(
        app,
        settings=settings,
        cache=ViewerCache(settings.viewer_cache_dir),
        thumbnails=thumbnail_rendering(app),
    )


def thumbnail_rendering(app: ASGIApp) -> Thumbnails:
    """``thumbnail`` when ``app`` serves thumbnail resources, else ``wadors`` (OHIF renders
    its thumbnails from a frame)."""
    routes = getattr(app, "routes", [])
    if any(str(getattr(r, "path", "")).endswith("/thumbnail") for r in routes):
        return "thumbnail"
    return "wadors"
