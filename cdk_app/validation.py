"""Read the policy validation report that synth writes (cdk-nag packs and CloudFormation
validation) and tell which findings nobody acknowledged.

The CDK CLI reports a synth as successful even when a validation plugin failed, so the app
checks the report itself and fails ``cdk synth`` with the list of findings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

REPORT_FILE = "validation-report.json"


@dataclass(frozen=True)
class Finding:
    plugin: str
    rule: str
    severity: str
    construct: str
    description: str

    def __str__(self) -> str:
        return f"[{self.plugin}] {self.rule} at {self.construct}: {self.description}"


def findings(
    assembly_dir: str | Path, *, severities: tuple[str, ...] = ("error",)
) -> list[Finding]:
    """Unacknowledged findings of the given severities (acknowledged ones are not reported)."""
    path = Path(assembly_dir) / REPORT_FILE
    if not path.exists():
        return []
    report = json.loads(path.read_text(encoding="utf-8"))
    found = []
    for plugin in report.get("pluginReports", []):
        for violation in plugin.get("violations", []):
            if violation.get("severity", "error") not in severities:
                continue
            for construct in violation.get("violatingConstructs", []):
                found.append(
                    Finding(
                        plugin=plugin["pluginName"],
                        rule=violation["ruleName"],
                        severity=violation.get("severity", "error"),
                        construct=construct.get("constructPath", "?"),
                        description=violation.get("description", "").splitlines()[0],
                    )
                )
    return found
