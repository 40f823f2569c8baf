"""Progress of a push or pull on the terminal: instances, bytes and rate (tqdm, on stderr)."""

from __future__ import annotations

from tqdm import tqdm


def progress_bar(total_bytes: int, what: str, *, enabled: bool) -> tqdm:
    return tqdm(
        total=total_bytes,
        desc=what,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        disable=not enabled,
        dynamic_ncols=True,
    )
