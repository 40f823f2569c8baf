"""What a push or pull did, instance by instance, and the summary printed at the end."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Tally:
    done: int = 0
    skipped: int = 0
    """Already there: on the server (push) or on disk (pull)."""
    ignored: list[tuple[str, str]] = field(default_factory=list)
    """(path, why) of files that are not instances; they do not fail the run."""
    failed: list[tuple[str, str]] = field(default_factory=list)
    """(what, why) of instances that could not be sent or fetched."""
    bytes: int = 0
    retries: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed

    def summary(self, verb: str, seconds: float) -> str:
        rate = self.bytes / seconds / 1e6 if seconds > 0 else 0.0
        lines = [
            f"{verb} {self.done}, skipped {self.skipped} already present, "
            f"ignored {len(self.ignored)}, failed {len(self.failed)}; "
            f"{self.bytes / 1e6:.1f} MB in {seconds:.1f} s ({rate:.1f} MB/s), "
            f"{self.retries} retries"
        ]
        for path, why in self.ignored[:20]:
            lines.append(f"  ignored {path}: {why}")
        reasons = Counter(why for _, why in self.failed)
        for why, count in reasons.most_common():
            lines.append(f"  failed ({count}): {why}")
        for what, why in self.failed[:20]:
            lines.append(f"  failed {what}: {why}")
        return "\n".join(lines)
