"""Private attributes: removed, unless the Retain Safe Private Option keeps known-safe ones.

PS3.15 E.3.10: "Private Attributes that are known by the de-identifier to be safe from
identity leakage shall be retained, together with the Private Creator IDs that are required
to fully define the retained Private Attributes; all other Private Attributes shall be
removed". Known safe here means either

* declared safe by the instance itself: a block whose Private Data Element Characteristics
  Sequence (0008,0300) item has Block Identifying Information Status (0008,0303) "SAFE", or
  an element listed in Nonidentifying Private Elements (0008,0304) of a "MIXED" block; or
* listed in :data:`SAFE_PRIVATE`: the entries of the standard's sample Table E.3.10-1 whose
  values are numbers or code strings (b-values, SUV factors, CT pitch and rotation, ...).
  Text-valued entries of that table are left out on purpose: their values are free text.

Without the Option every private attribute goes (Table E.1-1, "Private Attributes": X).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from pydicom.dataset import Dataset

from cloudpacs.deid.elements import tags_of

# (Private Creator, group, element offset within the block) from PS3.15 Table E.3.10-1.
SAFE_PRIVATE: frozenset[tuple[str, int, int]] = frozenset(
    {
        ("Philips PET Private Group", 0x7053, 0x00),  # DS SUV Factor
        ("Philips PET Private Group", 0x7053, 0x09),  # DS Activity Concentration Factor
        ("ELSCINT1", 0x00E1, 0x21),  # DS DLP
        ("ELSCINT1", 0x00E1, 0x50),  # DS Acquisition Duration
        ("ELSCINT1", 0x01E1, 0x26),  # CS Phantom Type
        ("ELSCINT1", 0x01F1, 0x01),  # CS Acquisition Type
        ("ELSCINT1", 0x01F1, 0x07),  # DS Table Velocity
        ("ELSCINT1", 0x01F1, 0x26),  # DS Pitch
        ("ELSCINT1", 0x01F1, 0x27),  # DS Rotation Time
        ("GEMS_ACQU_01", 0x0019, 0x23),  # DS Table Speed [mm/rotation]
        ("GEMS_ACQU_01", 0x0019, 0x24),  # DS Mid Scan Time [sec]
        ("GEMS_ACQU_01", 0x0019, 0x27),  # DS Rotation Speed (Gantry Period)
        ("Philips Imaging DD 001", 0x2001, 0x03),  # FL Diffusion B-Factor
        ("Philips Imaging DD 001", 0x2001, 0x04),  # CS Diffusion Direction
        ("SIEMENS MR HEADER", 0x0019, 0x0C),  # IS B Value
        ("SIEMENS MR HEADER", 0x0019, 0x0D),  # CS Diffusion Directionality
        ("SIEMENS MR HEADER", 0x0019, 0x0E),  # FD Diffusion Gradient Direction
        ("SIEMENS MR HEADER", 0x0019, 0x27),  # FD B Matrix
        ("GEMS_PARM_01", 0x0043, 0x39),  # IS 1st value is B Value
        ("GEMS_PARM_01", 0x0043, 0x6F),  # DS Scanner Table Entry + Gradient Coil Selected
        ("GEMS_SERS_01", 0x0025, 0x07),  # SL Images in Series
        ("Philips MR Imaging DD 001", 0x2005, 0x0D),  # FL Scale Intercept
        ("Philips MR Imaging DD 001", 0x2005, 0x0E),  # FL Scale Slope
    }
)

_CHARACTERISTICS = 0x00080300


@dataclass(frozen=True)
class DeclaredSafe:
    """What an instance's Private Data Element Characteristics Sequence declares safe."""

    blocks: frozenset[tuple[int, str]] = frozenset()
    elements: frozenset[tuple[int, str, int]] = field(default_factory=frozenset)

    @classmethod
    def from_dataset(cls, ds: Dataset) -> DeclaredSafe:
        blocks: set[tuple[int, str]] = set()
        elements: set[tuple[int, str, int]] = set()
        sequence = ds.get(_CHARACTERISTICS)
        for item in sequence.value if sequence is not None and sequence.VR == "SQ" else []:
            group = item.get("PrivateGroupReference")
            creator = str(item.get("PrivateCreatorReference", "")).strip()
            status = str(item.get("BlockIdentifyingInformationStatus", "")).strip().upper()
            if group is None or not creator:
                continue
            if status == "SAFE":
                blocks.add((int(group), creator))
            elif status == "MIXED":
                listed = item.get("NonidentifyingPrivateElements") or []
                listed = listed if isinstance(listed, Iterable) else [listed]
                elements.update((int(group), creator, int(e) & 0xFF) for e in listed)
        return cls(frozenset(blocks), frozenset(elements))


def _creator(ds: Dataset, group: int, element: int) -> str | None:
    creator = ds.get((group << 16) | (element >> 8), None)
    if creator is None or not isinstance(creator.value, str | bytes):
        return None
    value = creator.value
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    return text.strip(" \x00")


def filter_private(ds: Dataset, retain_safe: bool, declared: DeclaredSafe) -> None:
    """Remove this dataset level's private attributes that are not known to be safe."""
    private = [t for t in tags_of(ds) if t.is_private]
    keep: set[int] = set()
    if retain_safe:
        for tag in private:
            group, element = tag.group, tag.element
            if element < 0x1000:
                continue
            creator = _creator(ds, group, element)
            offset = element & 0xFF
            if creator is not None and (
                (creator, group, offset) in SAFE_PRIVATE
                or (group, creator) in declared.blocks
                or (group, creator, offset) in declared.elements
            ):
                keep.add(int(tag))
                keep.add((group << 16) | (element >> 8))
    for tag in private:
        if int(tag) not in keep:
            del ds[tag]
