"""``cloudpacs openapi``: the OpenAPI document of the HTTP API, generated from the FastAPI app
with every route mounted (what ``cloudpacs serve`` answers), written as JSON. ``make docs``
publishes it with each release."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any


def openapi_document() -> dict[str, Any]:
    """The document of the app as the embedded server mounts it (a throw-away data folder)."""
    from cloudpacs.runtime import build_services
    from cloudpacs.settings import load_settings
    from cloudpacs.web.app import create_app

    with tempfile.TemporaryDirectory(prefix="cloudpacs-openapi-") as data_dir:
        services = build_services(load_settings(data_dir=Path(data_dir), fsync=False))
        document: dict[str, Any] = create_app(services).openapi()
    return document


def write(args: argparse.Namespace) -> int:
    text = json.dumps(openapi_document(), indent=2, sort_keys=True) + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(text, encoding="utf-8")
    return 0


def register(sub: Any) -> None:
    parser = sub.add_parser("openapi", help="write the OpenAPI document of the HTTP API")
    parser.add_argument("--output", default="-", help="file to write (default: stdout)")
    parser.set_defaults(func=write)
