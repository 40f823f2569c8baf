"""``cloudpacs viewer fetch``: bring the pinned OHIF viewer into the local cache.

Idempotent: a cached copy is kept (``make serve`` runs it every time). Exit 0 when the viewer
is cached, 1 with the reason when it cannot be had (the server then says so at ``/viewer/``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from cloudpacs.settings import SettingsError, load_settings
from cloudpacs.viewer.package import PACKAGE, VERSION, ViewerCache, ViewerUnavailable


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    viewer = sub.add_parser("viewer", help="the OHIF viewer served at /viewer/")
    actions = viewer.add_subparsers(dest="viewer_command", required=True)
    fetch = actions.add_parser("fetch", help=f"fetch {PACKAGE}@{VERSION} from npm (once)")
    fetch.add_argument("--cache-dir", help="where to keep it (default .cloudpacs-viewer)")
    fetch.set_defaults(func=run_fetch)


def run_fetch(args: argparse.Namespace) -> int:
    try:
        settings = load_settings(
            **({"viewer_cache_dir": Path(args.cache_dir)} if args.cache_dir else {})
        )
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    cache = ViewerCache(settings.viewer_cache_dir)
    try:
        dist = cache.fetch()
    except ViewerUnavailable as exc:
        print(f"the viewer could not be fetched: {exc}", file=sys.stderr)
        return 1
    print(f"{PACKAGE}@{VERSION} is in {dist.resolve()}")
    return 0
