"""``cloudpacs push``, ``pull`` and ``find``: the client commands.

The DICOMweb root is ``--url`` (default ``$CLOUDPACS_URL``, else the local server). A token
is ``--token`` / ``$CLOUDPACS_TOKEN``, or comes from the client credentials grant with
``--token-url``, ``--client-id`` and ``$CLOUDPACS_CLIENT_SECRET`` (a secret on the command
line would show in the process list), obtained again before it expires. Exit codes: 0 all
done, 1 something failed (the summary says what and why), 2 bad usage or no token.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

LOCAL_ROOT = "http://127.0.0.1:8080/dicom-web"


def _connection(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", default=os.environ.get("CLOUDPACS_URL", LOCAL_ROOT))
    parser.add_argument("--token", default=os.environ.get("CLOUDPACS_TOKEN"))
    parser.add_argument("--token-url", help="OAuth 2.0 token endpoint (client credentials)")
    parser.add_argument("--client-id")
    parser.add_argument("--scope", help="scopes to ask for, space-separated")
    parser.add_argument("--retries", type=int, default=4, help="tries after the first (4)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per request")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--log-level", default="warning")


def _session(args: argparse.Namespace) -> Any:
    from cloudpacs.client.auth import BearerAuth, ClientCredentials
    from cloudpacs.client.session import RetryPolicy, Session

    credentials = None
    if args.token_url or args.client_id:
        secret = os.environ.get("CLOUDPACS_CLIENT_SECRET")
        if not (args.token_url and args.client_id and secret):
            raise SystemExit(
                "client credentials need --token-url, --client-id and $CLOUDPACS_CLIENT_SECRET"
            )
        credentials = ClientCredentials(args.token_url, args.client_id, secret, args.scope)
    auth = BearerAuth(args.token, credentials) if (args.token or credentials) else None
    retry = RetryPolicy(attempts=max(1, args.retries + 1))
    return Session(args.url, auth, timeout=args.timeout, retry=retry)


def _finish(tally: Any, verb: str, started: float) -> int:
    print(tally.summary(verb, time.monotonic() - started), file=sys.stderr)
    return 0 if tally.ok else 1


def _run(args: argparse.Namespace, body: Any) -> int:
    from cloudpacs.client.auth import TokenError
    from cloudpacs.client.listing import ListingError

    session = _session(args)
    try:
        result: int = body(session)
        return result
    except TokenError as exc:
        print(f"no token: {exc}", file=sys.stderr)
        return 2
    except ListingError as exc:
        print(f"search failed: {exc}", file=sys.stderr)
        return 1
    finally:
        session.close()


def push_command(args: argparse.Namespace) -> int:
    from cloudpacs.client.push import MiB, PushPlan, push

    plan = PushPlan(
        batch_count=args.batch,
        upload_threshold=int(args.upload_threshold * MiB),
        skip_existing=not args.no_skip,
    )
    started = time.monotonic()

    def body(session: Any) -> int:
        tally = push(session, args.paths, plan, progress=not args.no_progress)
        return _finish(tally, "stored", started)

    return _run(args, body)


def pull_command(args: argparse.Namespace) -> int:
    from cloudpacs.client.pull import pull
    from cloudpacs.errors import BadRequest

    started = time.monotonic()

    def body(session: Any) -> int:
        try:
            tally = pull(
                session, args.study, args.output, series=args.series, progress=not args.no_progress
            )
        except BadRequest as exc:
            print(exc.reason, file=sys.stderr)
            return 2
        return _finish(tally, "fetched", started)

    return _run(args, body)


def find_command(args: argparse.Namespace) -> int:
    from cloudpacs.client.find import find, keyword_filter, render

    try:
        filters = dict(keyword_filter(f) for f in args.filter)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 2

    def body(session: Any) -> int:
        matches = find(session, args.level, filters, args.study)
        print(render(matches, args.level, as_json=args.json))
        return 0

    return _run(args, body)


def register(sub: Any) -> None:
    p_push = sub.add_parser("push", help="send DICOM files and folders to a DICOMweb server")
    p_push.add_argument("paths", nargs="+", type=Path, help="files and folders")
    p_push.add_argument("--batch", type=int, default=10, help="instances per STOW-RS request")
    p_push.add_argument(
        "--upload-threshold", type=float, default=5, help="MiB above which the upload route is used"
    )
    p_push.add_argument("--no-skip", action="store_true", help="send what the server has too")
    _connection(p_push)
    p_push.set_defaults(func=push_command)

    p_pull = sub.add_parser("pull", help="fetch a study into a folder")
    p_pull.add_argument("study", help="Study Instance UID")
    p_pull.add_argument("--series", action="append", default=[], help="only this series")
    p_pull.add_argument("--output", type=Path, default=Path("."), help="folder (default .)")
    _connection(p_pull)
    p_pull.set_defaults(func=pull_command)

    p_find = sub.add_parser("find", help="search a DICOMweb server (QIDO-RS)")
    p_find.add_argument("--level", choices=("studies", "series", "instances"), default="studies")
    p_find.add_argument("--study", help="within this study (series and instances)")
    p_find.add_argument(
        "-f", "--filter", action="append", default=[], help="Key=Value, e.g. PatientID=123"
    )
    p_find.add_argument("--json", action="store_true", help="one JSON object per line")
    _connection(p_find)
    p_find.set_defaults(func=find_command)
