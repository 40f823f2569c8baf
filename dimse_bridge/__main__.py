"""``python -m dimse_bridge``: run the bridge alone (the container's entry point).

Settings come from ``CLOUDPACS_*`` (storage backend, data folder, fsync) and
``CLOUDPACS_DIMSE_*`` (AE title, port, AE whitelist, destinations, TLS, limits) environment
variables and the optional YAML file named by ``CLOUDPACS_CONFIG``; the options below
override them. SIGTERM stops the bridge gracefully.
"""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from cloudpacs.runtime import build_services
from cloudpacs.settings import SettingsError, load_settings
from dimse_bridge.server import start
from dimse_bridge.settings import load_dimse_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dimse_bridge", description=__doc__)
    parser.add_argument("--host", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="DICOM port (default 11112)")
    parser.add_argument("--ae-title", help="the bridge's AE title (default CLOUDPACS)")
    parser.add_argument("--data-dir", help="data folder of the embedded backend")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("pynetdicom").setLevel(logging.WARNING)
    core_overrides: dict[str, Any] = {}
    if args.data_dir:
        core_overrides["data_dir"] = args.data_dir
    overrides: dict[str, Any] = {}
    for name in ("host", "port", "ae_title"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    try:
        core = load_settings(**core_overrides)
        dimse = load_dimse_settings(**overrides)
    except SettingsError as exc:
        print(exc, file=sys.stderr)
        return 2
    if core.backend == "embedded":
        core.data_dir.mkdir(parents=True, exist_ok=True)
    start(build_services(core), core, dimse, block=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
