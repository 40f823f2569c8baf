"""What a de-identified instance says about itself (PS3.15 E.1.1 items 6 and 7, E.2, E.3.6).

* Patient Identity Removed (0012,0062) "YES";
* De-identification Method (0012,0063): the previous values, then one naming this
  de-identifier, the table edition and the profile, then the meaning of each CID 7050 code;
* De-identification Method Code Sequence (0012,0064): previous items, then CID 7050 codes for
  the Basic Profile and each Option in force (113101 Clean Pixel Data only on an instance
  whose pixels were cleaned, which also names the rule and any change of transfer syntax in
  De-identification Method and Derivation Description);
* Longitudinal Temporal Information Modified (0028,0303): REMOVED, UNMODIFIED or MODIFIED;
* a new File Meta Information that describes this application (item 7), with the new SOP
  Instance UID, the same transfer syntax, and a zeroed preamble.
"""

from __future__ import annotations

import uuid

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import UID

from cloudpacs.deid.pixel_clean import CleanedPixels
from cloudpacs.deid.profile import CLEAN_PIXEL_DATA_CODE, Profile

IMPLEMENTATION_CLASS_UID = "2.25." + str(uuid.uuid5(uuid.NAMESPACE_URL, "cloudpacs:deid").int)
IMPLEMENTATION_VERSION_NAME = "CLOUDPACS_DEID1"
_LO_MAX = 64
_ST_MAX = 1024


def mark(ds: Dataset, profile: Profile, edition: str, cleaned: CleanedPixels | None = None) -> None:
    ds.PatientIdentityRemoved = "YES"
    previous = ds.get("DeidentificationMethod") or []
    previous = [previous] if isinstance(previous, str) else list(previous)
    codes = profile.method_codes() + ([CLEAN_PIXEL_DATA_CODE] if cleaned else [])
    ours = [f"cloudpacs PS3.15 Annex E {edition}, profile {profile.name}"[:_LO_MAX]]
    ours += [code.meaning[:_LO_MAX] for code in codes]
    if cleaned is not None:
        ours.append(f"pixel cleaning rule {cleaned.rule}"[:_LO_MAX])
        kept = str(ds.get("DerivationDescription", "") or "").strip()
        ds.DerivationDescription = "; ".join(filter(None, [kept, cleaned.description()]))[:_ST_MAX]
    ds.DeidentificationMethod = [str(v) for v in previous] + ours
    items = list(ds.get("DeidentificationMethodCodeSequence") or [])
    present = {
        (str(i.get("CodingSchemeDesignator", "")), str(i.get("CodeValue", ""))) for i in items
    }
    for code in codes:
        if (code.scheme_designator, code.value) in present:
            continue
        item = Dataset()
        item.CodeValue = code.value
        item.CodingSchemeDesignator = code.scheme_designator
        item.CodeMeaning = code.meaning
        items.append(item)
    ds.DeidentificationMethodCodeSequence = items
    ds.LongitudinalTemporalInformationModified = profile.longitudinal_temporal_information()


def replace_file_meta(ds: Dataset, media_instance_uid: str) -> None:
    """Replace File Meta Information and preamble; keep SOP Class and transfer syntax."""
    old = getattr(ds, "file_meta", None)
    if old is None:
        return
    meta = FileMetaDataset()
    sop_class = ds.get("SOPClassUID") or old.get("MediaStorageSOPClassUID")
    if sop_class:
        meta.MediaStorageSOPClassUID = sop_class
    if media_instance_uid:
        meta.MediaStorageSOPInstanceUID = UID(media_instance_uid)
    if "TransferSyntaxUID" in old:
        meta.TransferSyntaxUID = old.TransferSyntaxUID
    meta.ImplementationClassUID = UID(IMPLEMENTATION_CLASS_UID)
    meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    ds.file_meta = meta
    if getattr(ds, "preamble", None) is not None:
        ds.preamble = b"\x00" * 128
