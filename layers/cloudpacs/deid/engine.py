"""Apply a :class:`Profile` to one dataset, recursively (PS3.15 E.1.1, items 2, 3 and 5).

"An implementation ... shall protect or retain all instances of the Attributes listed in
Table E.1-1, whether contained in the main dataset or embedded in an Item of a Sequence of
Items." Every dataset level therefore goes through the same steps: private attributes
(:mod:`.privates`), curves and overlays (:mod:`.graphics`), then each public attribute by
its Table E.1-1 action (:mod:`.actions`).

Attributes the table does not list are kept, with four additions. Encrypted Attributes
Sequence (0400,0500) is removed: it holds encrypted copies of original values that whoever
holds an earlier recipient's key could read, and this de-identifier creates none. Following
E.1-1 note 4 ("handling all dates and times on the basis of their Value Representation"), an
unlisted DA or DT follows the date Options (kept, shifted, or removed). An unlisted PN gets a
dummy. Free text inside a sequence that is being replaced ("D") or cleaned ("C") is replaced
or cleaned with it. Retired group length elements (gggg,0000) are dropped, since the values
they count change. SR content items (Content Sequence, Acquisition Context Sequence,
Specimen Preparation Step Content Item Sequence) follow Table E.3.4-1 by concept name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue

from cloudpacs.deid.actions import Action, resolve
from cloudpacs.deid.dates import shift_da, shift_dt
from cloudpacs.deid.elements import TEXT_VRS, dummy_value, set_empty, tags_of
from cloudpacs.deid.graphics import clean_repeating_groups
from cloudpacs.deid.privates import DeclaredSafe, filter_private
from cloudpacs.deid.profile import Profile
from cloudpacs.deid.pseudonym import Pseudonymizer, patient_key
from cloudpacs.deid.scrub import Scrubber
from cloudpacs.deid.table import Tables

PATIENT_NAME, PATIENT_ID, PATIENT_AGE = 0x00100010, 0x00100020, 0x00101010
ENCRYPTED_ATTRIBUTES = 0x04000500
CONTENT_SEQUENCES = frozenset({0x0040A730, 0x00400555, 0x00400612})
CODE_ATTRIBUTES = frozenset(range(0x00080100, 0x00080123))  # Code Value ... URN Code Value
VALUE_ATTRIBUTE = {
    "TEXT": 0x0040A160,
    "PNAME": 0x0040A123,
    "DATE": 0x0040A121,
    "TIME": 0x0040A122,
    "DATETIME": 0x0040A120,
    "UIDREF": 0x0040A124,
    "CODE": 0x0040A168,
    "NUM": 0x0040A300,
    "COMPOSITE": 0x00081199,
    "IMAGE": 0x00081199,
    "WAVEFORM": 0x00081199,
}
WELL_KNOWN_UID_ROOT = "1.2.840.10008."

Text = Literal["keep", "scrub", "dummy"]


@dataclass(frozen=True)
class Scope:
    """How free text not named by the table is treated at this depth."""

    text: Text = "keep"


def _values(elem: DataElement) -> list[object]:
    value = elem.value
    if isinstance(value, MultiValue | list | tuple):
        return list(value)
    return [] if value is None else [value]


def _set_values(elem: DataElement, values: list[str]) -> None:
    elem.value = values[0] if len(values) == 1 else values


class Deidentifier:
    """One run of a profile over one instance (holds the patient's pseudonym context)."""

    def __init__(
        self, profile: Profile, names: Pseudonymizer, tables: Tables, original: Dataset
    ) -> None:
        self.profile, self.names, self.tables = profile, names, tables
        self.patient = self.patient_key_of(original)
        self.offset = names.date_offset_days(self.patient)
        self.declared = DeclaredSafe.from_dataset(original)
        self.scrub = Scrubber(self.identifiers(original))

    @staticmethod
    def patient_key_of(ds: Dataset) -> str:
        return patient_key(
            str(ds.get("PatientID", "") or ""),
            str(ds.get("IssuerOfPatientID", "") or ""),
            str(ds.get("PatientName", "") or ""),
            str(ds.get("PatientBirthDate", "") or ""),
        )

    def uid(self, value: str) -> str:
        value = value.strip("\x00 ")
        if not value or value.startswith(WELL_KNOWN_UID_ROOT):
            return value
        return self.names.uid(value)

    # -- decisions -------------------------------------------------------------------------

    def date_action(self) -> Action:
        if self.profile.retain_longitudinal_full_dates:
            return "K"
        return "C" if self.profile.retain_longitudinal_modified_dates else "X"

    def action_for(self, elem: DataElement, scope: Scope) -> Action:
        tag = int(elem.tag)
        if tag in (PATIENT_NAME, PATIENT_ID):
            return "D"
        rule = self.tables.rule_for(tag)
        if rule is not None:
            return resolve(rule, self.profile)
        if tag == ENCRYPTED_ATTRIBUTES:
            return "X"
        if elem.VR in ("DA", "DT"):
            return self.date_action()
        if elem.VR == "PN":
            return "D"
        if elem.VR in TEXT_VRS and scope.text != "keep" and tag not in CODE_ATTRIBUTES:
            return "C" if scope.text == "scrub" else "D"
        return "K"

    def identifiers(self, ds: Dataset, removed: bool = False) -> list[str]:
        """String values the profile removes or replaces: what the cleaner cuts from text."""
        found: list[str] = []
        for elem in ds:
            action = "X" if elem.tag.is_private else self.action_for(elem, Scope())
            gone = removed or action in "XZDU" or (action == "C" and elem.VR in ("DA", "DT"))
            if elem.VR == "SQ":
                for item in elem.value or []:
                    found += self.identifiers(item, removed or action in "XZD")
            elif gone and elem.VR in TEXT_VRS | {"PN", "DA", "DT", "AE"}:
                found += [str(v) for v in _values(elem)]
        return found

    # -- application -----------------------------------------------------------------------

    def dataset(self, ds: Dataset, scope: Scope, forced: dict[int, Action] | None = None) -> None:
        filter_private(ds, self.profile.retain_safe_private, self.declared)
        kept_overlays = clean_repeating_groups(ds, self.profile.clean_graphics, self.scrub)
        key = self.patient_key_of(ds) if PATIENT_ID in ds or PATIENT_NAME in ds else self.patient
        for tag in tags_of(ds):
            if tag not in ds or tag.group in kept_overlays:
                continue
            if tag.element == 0:  # retired group length: wrong once values change
                del ds[tag]
                continue
            elem = ds[tag]
            if tag.is_private:
                if elem.VR == "SQ":
                    self.items(elem, scope)
                continue
            action = (forced or {}).get(int(tag)) or self.action_for(elem, scope)
            self.apply(ds, elem, action, scope, key)

    def apply(self, ds: Dataset, elem: DataElement, action: Action, scope: Scope, key: str) -> None:
        tag = int(elem.tag)
        if tag == PATIENT_NAME:
            elem.value = self.names.patient_name(key)
        elif tag == PATIENT_ID:
            elem.value = self.names.patient_id(key)
        elif action == "X":
            del ds[elem.tag]
        elif action == "Z":
            set_empty(elem)
        elif elem.VR == "SQ":
            text: Text = {"D": "dummy", "C": "scrub"}.get(action, scope.text)  # type: ignore[assignment]
            self.items(elem, Scope(text))
        elif action in "UD" and elem.VR == "UI":
            _set_values(elem, [self.uid(str(v)) for v in _values(elem)])
        elif action in "UD":
            elem.value = dummy_value(elem.VR)
        elif action == "C":
            self.clean(elem)
        elif tag == PATIENT_AGE and self.profile.aggregate_ages_over_89:
            elem.value = _aggregate_age(str(elem.value or ""))

    def clean(self, elem: DataElement) -> None:
        values = [str(v) for v in _values(elem)]
        if elem.VR == "DA":
            _set_values(elem, [shift_da(v, self.offset) for v in values])
        elif elem.VR == "DT":
            _set_values(elem, [shift_dt(v, self.offset) for v in values])
        elif elem.VR in TEXT_VRS | {"PN", "AE", "CS", "UR"}:
            _set_values(elem, [self.scrub(v) for v in values])

    def items(self, elem: DataElement, scope: Scope) -> None:
        if int(elem.tag) in CONTENT_SEQUENCES:
            kept = [item for item in elem.value if self.content_item(item, scope)]
            elem.value = kept
            return
        for item in elem.value or []:
            self.dataset(item, scope)

    def content_item(self, item: Dataset, scope: Scope) -> bool:
        """Table E.3.4-1 for one SR content item; False when the item is to be removed."""
        value_type = str(item.get("ValueType", "") or "").strip().upper()
        value_tag = VALUE_ATTRIBUTE.get(value_type)
        names = item.get("ConceptNameCodeSequence") or []
        rule = None
        if names:
            code = names[0]
            rule = self.tables.content_rule_for(
                str(code.get("CodingSchemeDesignator", "")).strip(),
                str(code.get("CodeValue", "")).strip(),
                value_type,
            )
        forced: dict[int, Action] = {}
        if rule is not None:
            action = resolve(rule, self.profile)
            if action == "X":
                return False
            if value_tag is not None:
                forced[value_tag] = action
        elif value_type == "TEXT":
            forced[VALUE_ATTRIBUTE["TEXT"]] = "D" if scope.text == "dummy" else "C"
        self.dataset(item, scope if scope.text != "keep" else Scope("scrub"), forced)
        return True


def _aggregate_age(age: str) -> str:
    """Patient's Age above 89 years becomes 090Y (HIPAA Safe Harbor's 90+ category)."""
    if len(age) == 4 and age[:3].isdigit() and age[3].upper() == "Y" and int(age[:3]) > 89:
        return "090Y"
    return age
