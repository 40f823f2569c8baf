"""Pixel cleaning rules for the Clean Pixel Data Option (PS3.15 E.3.1).

"Any information encoded in the Pixel Data ... shall be removed" for the instances it applies
to; how is left to the implementation. Here, as in CTP's DicomPixelAnonymizer scripts and
pydicom/deid's graylist filters, a rules file says, for a kind of instance known by its
header (Modality, Manufacturer, Manufacturer's Model Name, Rows, Columns, SOP Class), which
rectangles of every frame hold burned-in text. The first rule that matches wins.

The file is YAML::

    version: 1
    rules:
      - name: ge-logiq9                 # unique; reported in the job and in the copy
        match:                          # every key given must match; at least one key
          modality: US                  # text keys: a value or a list of glob patterns,
          manufacturer_model_name: "*LOGIQ9*"   # case-insensitive (fnmatch)
          rows: 480                     # an integer or a list of integers
          columns: 640
          sop_class: 1.2.840.10008.5.1.4.1.1.6.*  # a UID, or a UID prefix ending in ``*``
        regions:                        # x, y from the top left corner, in pixels
          - {x: 0, y: 0, width: 640, height: 40}

``load_rules`` checks the whole file once (at start-up) and raises :class:`PixelRulesError`
naming the file, the line and the reason for the first problem found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from pydicom.dataset import Dataset

DEFAULT_RULES = "data/pixel_rules.yaml"
TEXT_KEYS = {
    "modality": "Modality",
    "manufacturer": "Manufacturer",
    "manufacturer_model_name": "ManufacturerModelName",
}
INT_KEYS = {"rows": "Rows", "columns": "Columns"}
MATCH_KEYS = (*TEXT_KEYS, *INT_KEYS, "sop_class")
REGION_KEYS = ("x", "y", "width", "height")
_UID_PATTERN = re.compile(r"[0-9]+(\.[0-9]+)*(\.\*|\*)?")
_LINES = "__lines__"


class PixelRulesError(ValueError):
    """A rules file that cannot be used: the message names the file, the line and why."""


@dataclass(frozen=True)
class Region:
    """A rectangle to blank, in pixels from the top left corner (CTP's (x, y, w, h))."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class PixelRule:
    name: str
    text: tuple[tuple[str, tuple[str, ...]], ...]
    """(attribute keyword, upper-cased glob patterns) pairs."""
    sizes: tuple[tuple[str, frozenset[int]], ...]
    sop_classes: tuple[str, ...]
    regions: tuple[Region, ...]
    line: int

    def matches(self, ds: Dataset) -> bool:
        for keyword, patterns in self.text:
            value = str(ds.get(keyword, "") or "").strip().upper()
            if not any(fnmatchcase(value, p) for p in patterns):
                return False
        for keyword, allowed in self.sizes:
            if ds.get(keyword) not in allowed:
                return False
        if self.sop_classes:
            sop = str(ds.get("SOPClassUID", "") or "").strip()
            if not any(_uid_matches(sop, p) for p in self.sop_classes):
                return False
        return True


@dataclass(frozen=True)
class PixelRules:
    source: str
    rules: tuple[PixelRule, ...]

    def match(self, ds: Dataset) -> PixelRule | None:
        """The first rule whose every condition holds for ``ds``, or None."""
        return next((rule for rule in self.rules if rule.matches(ds)), None)


def _uid_matches(uid: str, pattern: str) -> bool:
    return uid.startswith(pattern[:-1]) if pattern.endswith("*") else uid == pattern


class _LineLoader(yaml.SafeLoader):
    """Safe YAML whose mappings remember the line of each key's value (1-based)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping: dict[Any, Any] = {}
    lines: dict[Any, int] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise PixelRulesError(f"line {key_node.start_mark.line + 1}: duplicate key {key!r}")
        mapping[key] = loader.construct_object(value_node, deep=True)
        lines[key] = value_node.start_mark.line + 1
    mapping[_LINES] = lines
    return mapping


class _Items(list[Any]):
    """A YAML sequence that remembers the line of each item (1-based)."""

    lines: list[int]


def _construct_sequence(loader: _LineLoader, node: yaml.SequenceNode) -> _Items:
    items = _Items(loader.construct_object(child, deep=True) for child in node.value)
    items.lines = [child.start_mark.line + 1 for child in node.value]
    return items


def _item_lines(value: list[Any], line: int) -> list[int]:
    return list(getattr(value, "lines", [line] * len(value)))


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


class _Checker:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, line: int, reason: str) -> PixelRulesError:
        return PixelRulesError(f"pixel cleaning rules {self.source}, line {line}: {reason}")

    def mapping(self, value: Any, line: int, what: str, keys: tuple[str, ...]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(line, f"{what} must be a mapping")
        unknown = sorted(str(k) for k in value if k != _LINES and k not in keys)
        if unknown:
            where = value[_LINES].get(unknown[0], line)
            raise self.fail(where, f"unknown key {unknown[0]!r} in {what} ({', '.join(keys)})")
        return value

    def integer(self, value: Any, line: int, what: str, minimum: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise self.fail(line, f"{what} must be an integer of at least {minimum}, not {value!r}")
        return value

    def texts(self, value: Any, line: int, what: str) -> tuple[str, ...]:
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) and v.strip() for v in values):
            raise self.fail(line, f"{what} must be a non-empty text or a list of them")
        return tuple(v.strip().upper() for v in values)

    def rule(self, raw: Any, line: int, names: set[str]) -> PixelRule:
        raw = self.mapping(raw, line, "a rule", ("name", "description", "match", "regions"))
        lines = raw[_LINES]
        name = raw.get("name")
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,63}", name):
            raise self.fail(
                lines.get("name", line), f"rule name {name!r}: 1-64 letters, digits, _.-"
            )
        if name in names:
            raise self.fail(lines["name"], f"a second rule named {name!r}")
        if "match" not in raw or "regions" not in raw:
            raise self.fail(line, f"rule {name!r} needs both 'match' and 'regions'")
        match = self.mapping(raw["match"], lines["match"], f"the match of {name!r}", MATCH_KEYS)
        at = match[_LINES]
        if len(match) == 1:
            raise self.fail(lines["match"], f"rule {name!r} matches nothing: name a key")
        text = tuple(
            (keyword, self.texts(match[key], at[key], key))
            for key, keyword in TEXT_KEYS.items()
            if key in match
        )
        sizes = tuple(
            (
                keyword,
                frozenset(
                    self.integer(v, at[key], key, 1)
                    for v in (match[key] if isinstance(match[key], list) else [match[key]])
                ),
            )
            for key, keyword in INT_KEYS.items()
            if key in match
        )
        sop_classes: tuple[str, ...] = ()
        if "sop_class" in match:
            sop_classes = tuple(
                v.replace(" ", "")
                for v in self.texts(match["sop_class"], at["sop_class"], "sop_class")
            )
            bad = [v for v in sop_classes if not _UID_PATTERN.fullmatch(v)]
            if bad:
                raise self.fail(
                    at["sop_class"], f"sop_class {bad[0]!r} is not a UID or UID prefix*"
                )
        regions = self.regions(raw["regions"], lines["regions"], name, dict(sizes))
        names.add(name)
        return PixelRule(name, text, sizes, sop_classes, regions, line)

    def regions(
        self, raw: Any, line: int, name: str, sizes: dict[str, frozenset[int]]
    ) -> tuple[Region, ...]:
        if not isinstance(raw, list) or not raw:
            raise self.fail(line, f"the regions of {name!r} must be a non-empty list")
        found = []
        for item, where in zip(raw, _item_lines(raw, line), strict=True):
            region = self.mapping(item, where, f"a region of {name!r}", REGION_KEYS)
            missing = [k for k in REGION_KEYS if k not in region]
            if missing:
                raise self.fail(where, f"a region of {name!r} lacks {', '.join(missing)}")
            x, y = (self.integer(region[k], region[_LINES][k], k, 0) for k in ("x", "y"))
            w, h = (self.integer(region[k], region[_LINES][k], k, 1) for k in ("width", "height"))
            for limit, end, axis in (
                ("Columns", x + w, "x + width"),
                ("Rows", y + h, "y + height"),
            ):
                allowed = sizes.get(limit)
                if allowed and end > max(allowed):
                    raise self.fail(
                        where, f"{axis} = {end} is outside the image ({limit} {max(allowed)})"
                    )
            found.append(Region(x, y, w, h))
        return tuple(found)

    def document(self, text: str) -> PixelRules:
        try:
            # _LineLoader is a SafeLoader subclass (adds line numbers): no object construction.
            raw = yaml.load(text, Loader=_LineLoader)
        except PixelRulesError as exc:
            raise PixelRulesError(f"pixel cleaning rules {self.source}, {exc}") from None
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            problem = getattr(exc, "problem", None) or str(exc)
            raise self.fail(line, f"not valid YAML: {problem}") from None
        top = self.mapping(raw, 1, "the file", ("version", "rules"))
        if top.get("version") != 1:
            raise self.fail(top[_LINES].get("version", 1), "'version: 1' is required")
        rules_raw = top.get("rules")
        if not isinstance(rules_raw, list):
            raise self.fail(top[_LINES].get("rules", 1), "'rules' must be a list")
        names: set[str] = set()
        rules = []
        for raw_rule, line in zip(rules_raw, _item_lines(rules_raw, 1), strict=True):
            rules.append(self.rule(raw_rule, line, names))
        return PixelRules(self.source, tuple(rules))


def parse_rules(text: str, source: str = "<text>") -> PixelRules:
    """Check and parse the text of a rules file."""
    return _Checker(source).document(text)


@lru_cache(maxsize=8)
def load_rules(path: Path | None = None) -> PixelRules:
    """The rules of ``path``, or the packaged default set; checked once per process."""
    if path is None:
        resource = files("cloudpacs.deid").joinpath(DEFAULT_RULES)
        return parse_rules(resource.read_text("utf-8"), f"(default) {DEFAULT_RULES}")
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise PixelRulesError(f"pixel cleaning rules {path}: cannot be read ({exc})") from None
    return parse_rules(text, str(path))
