"""Cleaning free text ("C" on a text attribute) by removing identifiers the instance carries.

PS3.15 E.3.5 lets an implementation clean descriptors by keeping only what is known to be
safe. This cleaner takes the opposite, checkable route and states it in the conformance
documentation: every value that the profile removes or replaces elsewhere in the same
instance (names and their components, IDs, dates in common spellings, institution and
device values, accession numbers, ...) is cut out of the cleaned text, case-insensitively.
Text that names someone who appears nowhere else in the instance is not detected; presets
that must not depend on that (``basic``, ``hipaa_safe_harbor``) do not clean, they remove.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MIN_IDENTIFIER_LENGTH = 3
_SPACES = re.compile(r"\s{2,}")
_BEFORE_PUNCTUATION = re.compile(r"\s+([,;:.)])")
_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")


def _variants(value: str) -> Iterable[str]:
    value = value.strip()
    yield value
    if "^" in value or "=" in value:  # PN: each component, and the name as people write it
        for group in value.split("="):
            parts = [p.strip() for p in group.split("^") if p.strip()]
            yield from parts
            yield " ".join(parts)
            yield " ".join(parts[1:2] + parts[:1])
    m = _DATE.fullmatch(value[:8]) if len(value) >= 8 else None
    if m:
        y, mo, d = m.groups()
        yield from (f"{y}-{mo}-{d}", f"{d}/{mo}/{y}", f"{mo}/{d}/{y}", f"{d}.{mo}.{y}")


class Scrubber:
    """Removes a fixed set of identifier strings from text."""

    def __init__(self, identifiers: Iterable[str]) -> None:
        found = {
            v for raw in identifiers for v in _variants(raw) if len(v) >= MIN_IDENTIFIER_LENGTH
        }
        self._pattern = (
            re.compile(
                "|".join(re.escape(v) for v in sorted(found, key=len, reverse=True)),
                re.IGNORECASE,
            )
            if found
            else None
        )

    def __call__(self, text: str) -> str:
        if self._pattern is None or not text:
            return text
        cleaned = self._pattern.sub("", text)
        if cleaned == text:
            return text
        cleaned = _BEFORE_PUNCTUATION.sub(r"\1", _SPACES.sub(" ", cleaned))
        return cleaned.strip(" ^-,;:/")
