"""``cloudpacs smoke URL``, ``cloudpacs load URL`` and ``cloudpacs cleanup-checks URL``: the
release checks as commands; each exits 0 when the check passes and 1 with the reason when it
fails. Authentication: ``--token``, ``$CLOUDPACS_CHECK_TOKEN``, or the client credentials JSON
in ``$CLOUDPACS_CHECK_CREDENTIALS`` (`cloudpacs.release_checks.credentials`)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from cloudpacs.release_checks.failure import CheckFailed


def _dimse_address(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"{value!r}: expected host:port")
    return host.strip("[]"), int(port)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="DICOMweb root, e.g. http://127.0.0.1:8080/dicom-web")
    parser.add_argument("--token", help="bearer token (default: $CLOUDPACS_CHECK_TOKEN)")
    parser.add_argument("--timeout", type=float, default=30, help="seconds per request")
    parser.add_argument("--log-level", default="warning")


def _client(args: argparse.Namespace) -> Callable[[], Any]:
    from cloudpacs.release_checks.credentials import open_client, resolve_token

    token = resolve_token(os.environ, args.token)
    return partial(open_client, args.url, token, timeout=args.timeout)


def smoke(args: argparse.Namespace) -> int:
    from cloudpacs.release_checks.smoke import run_smoke

    echo = None
    if args.dimse:
        host, port = args.dimse

        def echo() -> None:
            from dimse_bridge.echo import echo as c_echo

            problem = c_echo(host, port, calling_ae=args.calling_ae, called_ae=args.called_ae)
            if problem:
                raise CheckFailed(f"c-echo: {problem}")

    with _client(args)() as client:
        report = run_smoke(client, echo=echo)
    for step, seconds in report.steps:
        print(f"ok  {step:<7} {seconds * 1000:7.0f} ms")
    return 0


def load(args: argparse.Namespace) -> int:
    from cloudpacs.release_checks.load import LoadPlan, run_load

    try:
        plan = LoadPlan(args.users, args.duration, args.max_error_rate, args.max_p95_ms)
    except ValueError as exc:
        print(f"load: {exc}", file=sys.stderr)
        return 2
    result = run_load(_client(args), plan)
    print(result.summary())
    problems = result.violations(plan)
    if problems:
        raise CheckFailed("load: " + "; ".join(problems))
    return 0


def cleanup(args: argparse.Namespace) -> int:
    from cloudpacs.release_checks.cleanup import clean_up

    with _client(args)() as client:
        deleted = clean_up(client)
    print(f"deleted {len(deleted)} studies left by release checks")
    return 0


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        import httpx

        try:
            return command(args)
        except CheckFailed as exc:
            print(f"FAILED {exc}", file=sys.stderr)
        except httpx.HTTPError as exc:
            print(f"FAILED {type(exc).__name__}: {exc}", file=sys.stderr)
        except ValueError as exc:  # a body that is not the JSON it should be
            print(f"FAILED unreadable response: {exc}", file=sys.stderr)
        return 1

    return run


def register(sub: Any) -> None:
    """Add the release-check subcommands to the ``cloudpacs`` parser."""
    p_smoke = sub.add_parser("smoke", help="STOW, QIDO, WADO and delete one probe instance")
    _common(p_smoke)
    p_smoke.add_argument("--dimse", type=_dimse_address, help="also C-ECHO host:port")
    p_smoke.add_argument("--calling-ae", default="CLOUDPACS_CHECK", help="our AE title")
    p_smoke.add_argument("--called-ae", default="CLOUDPACS", help="the bridge's AE title")
    p_smoke.set_defaults(func=_guarded(smoke))
    p_load = sub.add_parser("load", help="bounded read load; fails on error rate or p95")
    _common(p_load)
    p_load.add_argument("--users", type=int, default=4, help="concurrent users (default 4)")
    p_load.add_argument("--duration", type=float, default=30, help="seconds (default 30)")
    p_load.add_argument("--max-error-rate", type=float, default=0.01, help="default 0.01")
    p_load.add_argument("--max-p95-ms", type=float, default=2000, help="default 2000")
    p_load.set_defaults(func=_guarded(load))
    p_clean = sub.add_parser("cleanup-checks", help="delete studies the release checks left")
    _common(p_clean)
    p_clean.set_defaults(func=_guarded(cleanup))
