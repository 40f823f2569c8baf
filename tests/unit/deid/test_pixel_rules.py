"""Pixel cleaning rules files: matching, the default set, and errors named by line and reason."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.dataset import Dataset

from cloudpacs.deid.pixel_rules import PixelRulesError, load_rules, parse_rules
from cloudpacs.settings import Settings

GOOD = """\
version: 1
rules:
  - name: first
    match:
      modality: US
      manufacturer_model_name: ["*LOGIQ9*", "*LOGIQ 9*"]
      columns: 640
    regions:
      - {x: 0, y: 0, width: 640, height: 40}
  - name: second
    match:
      sop_class: 1.2.840.10008.5.1.4.1.1.6*
    regions:
      - {x: 0, y: 0, width: 10, height: 10}
"""


def _ds(**values: object) -> Dataset:
    ds = Dataset()
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


def test_the_first_rule_whose_every_condition_holds_wins() -> None:
    rules = parse_rules(GOOD)
    logiq = _ds(Modality="US", ManufacturerModelName="logiq9 ", Columns=640, Rows=480)
    assert rules.match(logiq).name == "first"  # type: ignore[union-attr]
    other_width = _ds(Modality="US", ManufacturerModelName="LOGIQ9", Columns=800)
    assert rules.match(other_width) is None
    us = _ds(Modality="US", SOPClassUID="1.2.840.10008.5.1.4.1.1.6.1", Columns=800)
    assert rules.match(us).name == "second"  # type: ignore[union-attr]
    assert rules.match(_ds(SOPClassUID="1.2.840.10008.5.1.4.1.1.7")) is None


def test_the_default_set_loads_and_every_rule_names_a_size_and_a_model() -> None:
    rules = load_rules()
    assert len(rules.rules) >= 10
    for rule in rules.rules:
        keywords = {keyword for keyword, _ in rule.text} | {k for k, _ in rule.sizes}
        assert {"Modality", "ManufacturerModelName", "Columns"} <= keywords, rule.name


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("version: 1\nrules:\n  - name: a\n    match: {modality: [US\n", 5, "not valid YAML"),
        ("rules: []\n", 1, "'version: 1' is required"),
        (GOOD.replace("columns: 640", "colums: 640"), 7, "unknown key 'colums'"),
        (GOOD.replace("width: 640", "width: 641"), 9, "x + width = 641 is outside the image"),
        (GOOD.replace("name: second", "name: first"), 10, "a second rule named 'first'"),
        (GOOD.replace("height: 10}", "height: 0}"), 14, "height must be an integer of at least 1"),
        (GOOD.replace("1.2.840.10008.5.1.4.1.1.6*", "US-IMAGE"), 12, "is not a UID"),
        (GOOD.replace("      modality: US\n", "      modality: ''\n"), 5, "non-empty text"),
        (
            GOOD.replace("    regions:\n      - {x: 0, y: 0, width: 10, height: 10}\n", ""),
            10,
            "needs both 'match' and 'regions'",
        ),
        (GOOD.replace("      columns: 640\n", "      columns: true\n"), 7, "columns must be"),
        ("version: 1\nrules:\n  - name: a\n    match: {}\n    regions: []\n", 4, "matches nothing"),
        ("version: 1\nrules:\n  - first\n", 3, "a rule must be a mapping"),
        (GOOD.replace("{x: 0, y: 0, width: 10, height: 10}", "[0, 0, 10, 10]"), 14, "a mapping"),
    ],
)
def test_a_bad_file_is_refused_with_its_line_and_reason(text: str, line: int, reason: str) -> None:
    with pytest.raises(PixelRulesError) as info:
        parse_rules(text, "rules.yaml")
    message = str(info.value)
    assert message.startswith(f"pixel cleaning rules rules.yaml, line {line}: "), message
    assert reason in message


def test_a_bad_rules_file_stops_the_settings_at_start_up(tmp_path: Path) -> None:
    path = tmp_path / "rules.yaml"
    path.write_text(GOOD.replace("width: 640", "width: 700"), "utf-8")
    with pytest.raises(ValueError, match=rf"{path}, line 9: x \+ width = 700"):
        Settings(data_dir=tmp_path, deid_pixel_rules_file=path)
    with pytest.raises(ValueError, match="cannot be read"):
        Settings(data_dir=tmp_path, deid_pixel_rules_file=tmp_path / "missing.yaml")
    path.write_text(GOOD, "utf-8")
    settings = Settings(data_dir=tmp_path, deid_pixel_rules_file=path)
    assert [r.name for r in settings.pixel_rules().rules] == ["first", "second"]
