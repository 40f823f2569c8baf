"""``cloudpacs conformance``: write the conformance statement, or check the committed one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

DEFAULT_OUTPUT = Path("docs/conformance-statement.md")


def current_statement() -> str:
    """The statement of this code, for the defaults of an unconfigured server and bridge."""
    from cloudpacs.conformance.statement import render
    from cloudpacs.settings import Settings
    from dimse_bridge.conformance import dimse_facts

    # The defaults, whatever this process's environment says.
    return render(Settings.model_construct(), dimse_facts())


def run(args: argparse.Namespace) -> int:
    text = current_statement()
    if args.check:
        committed = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if committed != text:
            print(f"{args.output} differs from the code: run 'make conformance'", file=sys.stderr)
            return 1
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("conformance", help="write the DICOM conformance statement (PS3.2)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the file differs from the code"
    )
    parser.set_defaults(func=run)
