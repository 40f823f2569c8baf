"""Another commit of this repository checked out beside it, for A/B benchmarks."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def worktree(ref: str, name: str) -> Iterator[Path]:
    """Commit ``ref`` in ``.bench/<name>`` (a detached git worktree) for the block."""
    folder = ROOT / ".bench" / name
    folder.parent.mkdir(exist_ok=True)
    git = ["git", "-C", str(ROOT), "worktree"]
    subprocess.run([*git, "remove", "--force", str(folder)], capture_output=True, check=False)
    subprocess.run([*git, "add", "--detach", "--force", str(folder), ref], capture_output=True,
                   check=True)  # fmt: skip
    try:
        yield folder
    finally:
        subprocess.run([*git, "remove", "--force", str(folder)], capture_output=True, check=False)
