"""Serving the prebuilt OHIF viewer under a sub-path (``/viewer/``).

OHIF's published ``dist/`` is built for the site root: ``index.html`` sets
``window.PUBLIC_URL = "/"`` and names its scripts, styles and icons with absolute paths;
webpack's runtime, in the app bundle and in each worker bundle, loads further chunks from the
build-time public path (``__webpack_require__.p = "/"``); stylesheets name fonts as
``url(/...)``. OHIF itself reads ``window.PUBLIC_URL`` at run time (``utils/publicUrl.ts``, the
default of ``routerBasename``; extensions load ``PUBLIC_URL``-relative files), so the viewer
moves to another path when ``index.html``, the webpack public paths and the stylesheets name
it, and ``routerBasename`` in ``app-config.js`` tells its router.
The files are rewritten as they are served, so the cached copy stays byte for byte the
published package (the AWS viewer is served from the root and needs none of this).
"""

from __future__ import annotations

import re

_INDEX_ATTRS = re.compile(r'(\s(?:src|href)=")/(?!/)')
_PUBLIC_URL = 'window.PUBLIC_URL="/"'
_WEBPACK_PUBLIC_PATH = '__webpack_require__.p = "/";'
_ROOT_IMPORTS = re.compile(r"""(browserImportFunction\(['"])/(?!/)""")
_CSS_URLS = re.compile(r"(url\(['\"]?)/(?!/)")


def rebase_index(html: str, base: str) -> str:
    """``index.html`` with its public URL and absolute references under ``base``."""
    if _PUBLIC_URL not in html:
        raise ValueError("index.html does not set window.PUBLIC_URL as expected")
    html = html.replace(_PUBLIC_URL, f"window.PUBLIC_URL={_js_string(base)}")
    return _INDEX_ATTRS.sub(lambda m: m.group(1) + base, html)


def rebase_asset(name: str, text: str, base: str) -> str | None:
    """A script or stylesheet of the viewer with its root-relative references under ``base``
    (webpack's public path in the app bundle and in each worker's runtime, OHIF's
    root-relative imports, ``url(/...)`` in stylesheets); None when it names none."""
    if name.endswith(".js"):
        rebased = text.replace(_WEBPACK_PUBLIC_PATH, f"__webpack_require__.p = {_js_string(base)};")
        rebased = _ROOT_IMPORTS.sub(lambda m: m.group(1) + base, rebased)
    elif name.endswith(".css"):
        rebased = _CSS_URLS.sub(lambda m: m.group(1) + base, text)
    else:
        return None
    return rebased if rebased != text else None


def _js_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
