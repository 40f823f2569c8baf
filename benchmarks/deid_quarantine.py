"""How many de-identified copies of pydicom's test files are quarantined, and why.

    python -m benchmarks.deid_quarantine [--rules FILE]

Every file under pydicom's ``test_files`` (subfolders included) that parses as a stored
Part-10 instance is de-identified under the ``basic``, ``hipaa_safe_harbor`` and ``gdpr``
presets, without and with the Clean Pixel Data Option (the default pixel cleaning rules, or
``--rules``). Prints the copies, the quarantined ones per rule and the pixel rules that
cleaned. A figure for docs/deidentification.md, not a test.
"""

from __future__ import annotations

import argparse
import warnings
from collections import Counter
from dataclasses import replace
from io import BytesIO
from pathlib import Path

import pydicom
from pydicom.data import data_manager

from cloudpacs.deid import DeidentificationError, Profile, QuarantinedInstance, deidentify_file
from cloudpacs.deid.pixel_clean import PixelCleaning
from cloudpacs.deid.pixel_rules import load_rules

PRESETS = ("basic", "hipaa_safe_harbor", "gdpr")
SECRET = b"benchmark-deployment-secret-0001"


def stored_instances() -> list[bytes]:
    root = Path(data_manager.DATA_ROOT) / "test_files"
    found = []
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        try:
            ds = pydicom.dcmread(BytesIO(data))
        except Exception:
            continue
        meta = getattr(ds, "file_meta", None)
        if meta is None or "TransferSyntaxUID" not in meta:
            continue
        if all(
            ds.get(a) or meta.get(f"MediaStorage{a}") for a in ("SOPClassUID", "SOPInstanceUID")
        ):
            found.append(data)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rules", type=Path, default=None, help="a pixel cleaning rules file")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    files = stored_instances()
    cleaning = PixelCleaning(load_rules(args.rules))
    for option in (False, True):
        quarantined: Counter[str] = Counter()
        cleaned: Counter[str] = Counter()
        failed = 0
        for preset in PRESETS:
            profile = replace(Profile.preset(preset), clean_pixel_data=option)
            for data in files:
                try:
                    done = deidentify_file(data, profile, SECRET, cleaning)
                except QuarantinedInstance as exc:
                    quarantined[exc.rule] += 1
                except DeidentificationError:
                    failed += 1
                else:
                    if done.pixel_rule:
                        cleaned[done.pixel_rule] += 1
        label = "with Clean Pixel Data" if option else "without Clean Pixel Data"
        print(
            f"{label}: {sum(quarantined.values())} of {len(files) * len(PRESETS)} copies "
            f"quarantined {dict(quarantined)}; cleaned {dict(cleaned)}; failed {failed}"
        )


if __name__ == "__main__":
    main()
