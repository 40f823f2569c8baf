"""Normalized Person Names: one search form for PatientName lookups in every index.

A PN value (PS3.5 §6.2) holds up to three component groups separated by ``=`` (alphabetic,
ideographic, phonetic), each with up to five components separated by ``^``. Lookups by
name prefix use the alphabetic group only, in a form that ignores case, accents and
punctuation: ``"Müller-Lüdenscheidt^Hans=ミュラー"`` becomes ``"muller ludenscheidt hans"``.

Both the stored name and a query's leading characters go through ``normalize_name``, so
``normalize_name(name).startswith(normalize_name(prefix))`` whenever ``name`` starts with
``prefix``, up to a trailing separator; runs of separators collapse to one space and are
trimmed at both ends, so ``"Smith^"`` and ``"Smith"`` give the same (wider) prefix. The
index returns a superset and the query service applies the exact matching rules.
"""

from __future__ import annotations

import unicodedata


def normalize_name(pn: str) -> str:
    """Casefolded letters and digits of the first component group, words joined by one space.

    Accents are removed by NFKD decomposition (dropping combining marks), so ``é`` → ``e``
    and ``ﬁ`` → ``fi``; every other non-alphanumeric character (``^``, spaces, ``-``, ``'``,
    ``.``) separates words.
    """
    alphabetic = pn.split("=", 1)[0]
    decomposed = unicodedata.normalize("NFKD", alphabetic.casefold())
    words: list[str] = []
    current: list[str] = []
    for char in decomposed:
        if unicodedata.combining(char):
            continue
        if char.isalnum():
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return " ".join(words)
