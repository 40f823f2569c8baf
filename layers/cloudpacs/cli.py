"""``cloudpacs`` command line: ``cloudpacs serve`` runs the embedded server.

Settings come from the typed settings model (environment and optional YAML file); the
command-line options override them. ``--auth oidc`` verifies bearer JWTs against the
provider's JWKS; ``--auth none`` (the default) is refused unless bound to loopback, and warns
at start (docs/auth.md).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from cloudpacs import lifecycle_command, unclean_stop
from cloudpacs.client import command as client_commands
from cloudpacs.command_settings import command_settings
from cloudpacs.conformance import command as conformance
from cloudpacs.release_checks import commands as release_checks
from cloudpacs.settings import Settings, SettingsError, is_loopback
from cloudpacs.viewer import command as viewer_command
from cloudpacs.web import openapi_document

if TYPE_CHECKING:
    from cloudpacs.runtime import Services
    from dimse_bridge.server import DimseServer

log = logging.getLogger("cloudpacs")
_AUTH_OPTIONS = (
    "auth",
    "oidc_jwks_url",
    "oidc_issuer",
    "oidc_audience",
    "oidc_client_id",
    "oidc_roles_claim",
)


def auth_overrides(args: argparse.Namespace) -> dict[str, object]:
    """The authentication settings given on the command line."""
    return {name: getattr(args, name) for name in _AUTH_OPTIONS if getattr(args, name, None)}


def check_auth(settings: Settings) -> str | None:
    """Why the local server must not start with these settings (None: it may), and the
    start-up warnings."""
    if settings.auth == "apigateway":
        return (
            "auth 'apigateway' trusts API Gateway's authorizer, which the local server does "
            "not have: use --auth oidc (or --auth none on loopback)"
        )
    if settings.auth == "none":
        log.warning(
            "authentication is OFF (--auth none): every local client acts as admin; "
            "only loopback clients are served. Use --auth oidc for anything else."
        )
    elif not is_loopback(settings.host):
        log.warning(
            "serving on %s over plain HTTP: bearer tokens and patient data cross the network "
            "unencrypted unless a TLS-terminating proxy is in front",
            settings.host,
        )
    return None


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from cloudpacs.open_files import raise_open_files_limit
    from cloudpacs.runtime import build_services
    from cloudpacs.web.access_log import uvicorn_log_config
    from cloudpacs.web.app import create_app
    from cloudpacs.web.routes.rest_api import DIMSE_STATUS
    from cloudpacs.web.viewer import mount_viewer

    overrides: dict[str, object] = {}
    if args.host:
        overrides["host"] = args.host
    if args.port:
        overrides["port"] = args.port
    if args.data_dir:
        overrides["data_dir"] = Path(args.data_dir)
    overrides.update(auth_overrides(args))
    settings = command_settings(**overrides)
    if settings is None:
        return 2
    refusal = check_auth(settings)
    if refusal:
        print(refusal, file=sys.stderr)
        return 2
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    raise_open_files_limit()
    services = build_services(settings)
    dicomweb = create_app(services)
    unclean_stop.start_run(services, settings.data_dir)
    bridge = start_dimse(args, services)
    setattr(dicomweb.state, DIMSE_STATUS, bridge.status if bridge else _no_bridge(args))
    app = mount_viewer(dicomweb, settings)
    log.info(
        "DICOMweb at http://%s:%d%s, data in %s, auth %s, audit trail in %s",
        settings.host,
        settings.port,
        settings.base_path,
        settings.data_dir.resolve(),
        settings.auth,
        settings.audit_file.resolve(),
    )
    # uvicorn shuts down on SIGTERM/SIGINT, then re-raises the signal with the handler it
    # found: make that handler leave through the finally below, so the bridge finishes its
    # associations and the run is marked as cleanly stopped.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_level=args.log_level,
            access_log=args.access_log,
            log_config=uvicorn_log_config(),
        )
    except KeyboardInterrupt:
        pass
    finally:
        if bridge is not None:
            bridge.stop()
        unclean_stop.end_run(settings.data_dir)
    return 0


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(0)


def repair(args: argparse.Namespace) -> int:
    """Reconcile objects and index entries (see ``services.repair``); print what was found."""
    import json

    from cloudpacs.runtime import build_services
    from cloudpacs.services.repair import RepairService

    overrides: dict[str, object] = {}
    if args.data_dir:
        overrides["data_dir"] = Path(args.data_dir)
    settings = command_settings(**overrides)
    if settings is None:
        return 2
    services = build_services(settings)
    report = RepairService(services.index, services.blobs, services.corrections).sweep(
        fix=not args.dry_run
    )
    print(json.dumps(report.__dict__, indent=2))
    return 1 if report.unreadable else 0


def add_auth_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("authentication (docs/auth.md)")
    group.add_argument(
        "--auth",
        choices=("none", "oidc"),
        help="none: no authentication, loopback only (default); "
        "oidc: bearer JWTs verified against --oidc-jwks-url",
    )
    group.add_argument("--oidc-jwks-url", help="the provider's JWKS URL (https)")
    group.add_argument("--oidc-issuer", help="expected 'iss' of tokens")
    group.add_argument("--oidc-audience", help="expected 'aud' (ID tokens)")
    group.add_argument(
        "--oidc-client-id", help="expected 'client_id' of tokens without 'aud' (access tokens)"
    )
    group.add_argument(
        "--oidc-roles-claim",
        help="claim holding the group names (default cognito:groups; realm_access.roles "
        "for Keycloak)",
    )


def add_dimse_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("DIMSE bridge (dimse_bridge/settings.py)")
    group.add_argument(
        "--dimse",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the DIMSE bridge on the same data (default: on)",
    )
    group.add_argument("--dimse-port", type=int, help="DICOM port (default 11112)")


def _no_bridge(args: argparse.Namespace) -> Callable[[], dict[str, object]]:
    state: dict[str, object] = {"status": "error: not started" if args.dimse else "disabled"}
    return lambda: state


def start_dimse(args: argparse.Namespace, services: Services) -> DimseServer | None:
    """The DIMSE bridge as a thread of this server, on the same services; None if not run."""
    if not args.dimse:
        return None
    try:
        from dimse_bridge.server import start_in_background
    except ImportError:
        log.warning("pynetdicom is not installed: the DIMSE bridge is not started")
        return None
    try:
        return start_in_background(services, services.settings, port=args.dimse_port)
    except (OSError, SettingsError) as exc:
        log.error("the DIMSE bridge is not started: %s", exc)
        return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cloudpacs", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_serve = sub.add_parser("serve", help="run the embedded DICOMweb server")
    p_serve.add_argument("--host", help="address to bind (default 127.0.0.1)")
    p_serve.add_argument("--port", type=int, help="HTTP port (default 8080)")
    p_serve.add_argument("--data-dir", help="data folder (default ./.cloudpacs-data)")
    p_serve.add_argument("--log-level", default="info")
    p_serve.add_argument("--access-log", action=argparse.BooleanOptionalAction, default=True)
    add_auth_arguments(p_serve)
    add_dimse_arguments(p_serve)
    p_serve.set_defaults(func=serve)
    p_repair = sub.add_parser(
        "repair", help="index stored objects the index lacks; drop entries whose object is gone"
    )
    p_repair.add_argument("--data-dir", help="data folder (default ./.cloudpacs-data)")
    p_repair.add_argument("--dry-run", action="store_true", help="report only, change nothing")
    p_repair.add_argument("--log-level", default="info")
    p_repair.set_defaults(func=repair)
    release_checks.register(sub)
    lifecycle_command.register(sub)
    openapi_document.register(sub)
    conformance.add_parser(sub)
    client_commands.register(sub)
    viewer_command.register(sub)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper() if hasattr(args, "log_level") else "INFO",
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    raise SystemExit(main())
