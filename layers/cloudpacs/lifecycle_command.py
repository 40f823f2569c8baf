"""``cloudpacs retention run [--dry-run]``: the retention job on this process's backend.

Deletes the studies into which nothing was stored for ``retention_days``
(``CLOUDPACS_RETENTION_DAYS`` or ``--days``), except those on legal hold, and prints the
report as JSON. Exit status: 0 done, 1 some studies failed to delete, 2 bad settings or no
retention period configured (docs/lifecycle.md).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cloudpacs.command_settings import command_settings


def run(args: argparse.Namespace) -> int:
    from cloudpacs.runtime import build_services

    overrides: dict[str, object] = {}
    if args.data_dir:
        overrides["data_dir"] = Path(args.data_dir)
    if args.days is not None:
        overrides["retention_days"] = args.days
    settings = command_settings(**overrides)
    if settings is None:
        return 2
    services = build_services(settings)
    if services.retention is None:
        print(
            "no retention period is configured (CLOUDPACS_RETENTION_DAYS or --days): "
            "studies are kept forever, nothing to do",
            file=sys.stderr,
        )
        return 2
    report = services.retention.run(dry_run=args.dry_run)
    print(json.dumps(report.to_json(), indent=2))
    return 1 if report.failed else 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("retention", help="delete studies past the retention period")
    commands = parser.add_subparsers(dest="retention_command", required=True)
    p_run = commands.add_parser(
        "run", help="delete studies last stored before the retention period (not on hold)"
    )
    p_run.add_argument("--data-dir", help="data folder (default ./.cloudpacs-data)")
    p_run.add_argument("--days", type=int, help="retention period in days (overrides settings)")
    p_run.add_argument(
        "--dry-run", action="store_true", help="list what would be deleted, delete nothing"
    )
    p_run.add_argument("--log-level", default="info")
    p_run.set_defaults(func=run)
