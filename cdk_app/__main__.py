"""``python -m cdk_app``: the command ``cdk.json`` runs to synthesize the app."""

from __future__ import annotations

import sys

from cdk_app.toolchain import use_project_node


def main() -> int:
    use_project_node()  # before aws_cdk is imported: jsii starts Node on import
    from cdk_app.app import build_app
    from cdk_app.settings import StageConfigError
    from cdk_app.validation import findings
    from stacks.api.assets import AssetError

    try:
        app = build_app()
    except (StageConfigError, AssetError) as exc:
        print(f"cdk_app: {exc}", file=sys.stderr)
        return 1
    assembly = app.synth()
    unacknowledged = findings(assembly.directory)
    for finding in unacknowledged:
        print(finding, file=sys.stderr)
    if unacknowledged:
        print(f"cdk_app: {len(unacknowledged)} unacknowledged findings", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
