"""What the PHI scan looks for, and which matches are legitimate.

``protected_values`` walks an original dataset and returns the values of every attribute
the profile removes or replaces, by Table E.1-1 (and Table E.3.4-1 for SR content items):
X, Z, D and U, dates under "C" (they are shifted), Patient's Name and Patient ID (always
pseudonymised), every value inside a sequence that is removed or emptied, and every private
attribute not kept by Retain Safe Private. PN values count whole and per name component.

The rule for skipping a value, stated once:

1. it carries no information: fewer than 3 characters once spaces and NULs are stripped,
   binary data shorter than 8 bytes or made of one repeated byte (the preamble is 128 zero
   bytes), or a DICOM-defined UID (``1.2.840.10008.*``, such as a SOP Class);
2. it is one of the de-identifier's own fixed dummy values ("DEIDENTIFIED", "19000101", ...);
3. its bytes occur in what the output legitimately holds anyway: the encoded values of the
   original attributes the profile keeps unchanged (including Pixel Data and other binary
   data; times of day, which the Modified Dates option keeps), and the values the
   de-identifier wrote, i.e. every string value of the output that
   is not a value of the original (pseudonym UIDs are long digit runs, so a short number
   such as "204" may occur inside one).

Every other value must not occur anywhere in the output file's bytes.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydicom.charset import convert_encodings, encode_string
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from cloudpacs.deid import table
from cloudpacs.deid.actions import resolve
from cloudpacs.deid.elements import DUMMY_TEXT
from cloudpacs.deid.engine import CONTENT_SEQUENCES
from cloudpacs.deid.method import IMPLEMENTATION_VERSION_NAME
from cloudpacs.deid.privates import SAFE_PRIVATE, DeclaredSafe
from cloudpacs.deid.profile import Profile

DUMMIES = {DUMMY_TEXT, "19000101", "19000101000000", "000000", "000D", "PSEUDONYM"}
PATIENT_NAME, PATIENT_ID = 0x00100010, 0x00100020
STRING_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "LT", "PN", "SH", "ST", "TM"}
STRING_VRS |= {"UC", "UI", "UR", "UT"}
BINARY_VRS = {"OB", "OW", "OD", "OF", "OL", "OV", "UN"}


def _informative(value: bytes) -> bool:
    text = value.decode("latin-1")
    return text not in DUMMIES and not text.startswith("1.2.840.10008.")


def _values(elem: DataElement) -> list[object]:
    v = elem.value
    if isinstance(v, MultiValue | list | tuple):
        return list(v)
    return [] if v is None else [v]


def _strings(elem: DataElement) -> Iterator[str]:
    for v in _values(elem):
        text = str(v).strip(" \x00")
        if elem.VR == "PN":
            for group in text.split("="):
                yield from group.split("^")
        yield text


class Classifier:
    def __init__(self, profile: Profile, ds: Dataset) -> None:
        self.profile, self.tables = profile, table.load()
        self.declared = DeclaredSafe.from_dataset(ds)
        encodings = ds.get("SpecificCharacterSet") or "ISO_IR 6"
        self.encodings = convert_encodings(encodings)
        self.protected: set[bytes] = set()
        self.all_values: set[bytes] = set()
        self.legitimate: list[bytes] = []
        self.walk(ds, removed=False)

    def encode(self, text: str) -> bytes:
        try:
            return encode_string(text, self.encodings)
        except Exception:
            return text.encode("utf-8", "replace")

    def private_kept(self, ds: Dataset, elem: DataElement) -> bool:
        if not self.profile.retain_safe_private or elem.tag.element < 0x1000:
            return self.profile.retain_safe_private  # creators: kept only with their elements
        creator = ds.get((elem.tag.group << 16) | (elem.tag.element >> 8))
        name = str(creator.value).strip() if creator is not None else ""
        key = (elem.tag.group, elem.tag.element & 0xFF)
        return (
            (name, *key) in SAFE_PRIVATE
            or (key[0], name) in self.declared.blocks
            or (key[0], name, key[1]) in self.declared.elements
        )

    def action(self, ds: Dataset, elem: DataElement) -> str:
        if elem.tag.is_private:
            return "K" if self.private_kept(ds, elem) else "X"
        if int(elem.tag) in (PATIENT_NAME, PATIENT_ID):
            return "D"
        rule = self.tables.rule_for(int(elem.tag))
        return resolve(rule, self.profile) if rule is not None else "K"

    def content_removed(self, item: Dataset) -> bool:
        names = item.get("ConceptNameCodeSequence") or []
        if not names:
            return False
        code = names[0]
        rule = self.tables.content_rule_for(
            str(code.get("CodingSchemeDesignator", "")).strip(),
            str(code.get("CodeValue", "")).strip(),
            str(item.get("ValueType", "")).strip().upper(),
        )
        return rule is not None and resolve(rule, self.profile) == "X"

    def walk(self, ds: Dataset, removed: bool) -> None:
        for elem in ds:
            action = "X" if removed else self.action(ds, elem)
            if elem.VR == "SQ":
                for item in elem.value or []:
                    gone = action in ("X", "Z") or (
                        int(elem.tag) in CONTENT_SEQUENCES and self.content_removed(item)
                    )
                    self.walk(item, gone)
                continue
            replaced = action in ("X", "Z", "D", "U") or (action == "C" and elem.VR in ("DA", "DT"))
            if elem.VR in STRING_VRS:
                encoded = {self.encode(s) for s in _strings(elem) if len(s) >= 3}
                if replaced:
                    self.protected |= {e for e in encoded if _informative(e)}
                    self.all_values |= encoded
                else:
                    self.all_values |= encoded
                if action == "K" or (action == "C" and elem.VR == "TM"):  # times are kept
                    self.legitimate += encoded
            elif elem.VR in BINARY_VRS and isinstance(elem.value, bytes):
                if replaced and len(elem.value) >= 8 and len(set(elem.value)) > 1:
                    self.protected.add(elem.value)
                elif action == "K":
                    self.legitimate.append(elem.value)


def leaked_values(
    original: Dataset, output: bytes, output_ds: Dataset, profile: Profile
) -> list[str]:
    """The protected values of ``original`` found in ``output`` (empty when clean)."""
    c = Classifier(profile, original)
    found = [value for value in c.protected if value in output]
    if not found:
        return []
    meta = getattr(output_ds, "file_meta", None) or []
    written = {
        c.encode(s)
        for elem in [*output_ds.iterall(), *meta]
        if elem.VR in STRING_VRS
        for s in _strings(elem)
    } - c.all_values
    written |= {c.encode(s) for s in (IMPLEMENTATION_VERSION_NAME, "UNMODIFIED", "REMOVED")}
    legitimate = b"\x00".join(c.legitimate + sorted(written))
    return [repr(v[:60]) for v in found if v not in legitimate]
