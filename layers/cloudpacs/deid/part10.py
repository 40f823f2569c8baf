"""Part-10 bytes in, Part-10 bytes out (PS3.10 file format).

The output keeps the input's transfer syntax and its Pixel Data bytes exactly, except where
the Clean Pixel Data Option cleaned the pixels (:mod:`.pixel_clean`); File Meta Information
and preamble are replaced.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from io import BytesIO

import pydicom
from pydicom.errors import InvalidDicomError

from cloudpacs.deid.apply import deidentify_reporting
from cloudpacs.deid.errors import NotPart10, UnencodableInstance
from cloudpacs.deid.pixel_clean import PixelCleaning
from cloudpacs.deid.profile import Profile


@dataclass(frozen=True)
class DeidentifiedFile:
    data: bytes
    """The de-identified Part-10 file."""
    pixel_rule: str | None = None
    """The pixel cleaning rule that cleaned its pixels (Clean Pixel Data), if any."""


def deidentify_bytes(
    data: bytes, profile: Profile, secret: bytes, pixels: PixelCleaning | None = None
) -> bytes:
    """De-identify one Part-10 file.

    Raises NotPart10, QuarantinedInstance or UnencodableInstance (all DeidentificationError).
    """
    return deidentify_file(data, profile, secret, pixels).data


def deidentify_file(
    data: bytes, profile: Profile, secret: bytes, pixels: PixelCleaning | None = None
) -> DeidentifiedFile:
    """``deidentify_bytes``, also saying which pixel cleaning rule cleaned the copy."""
    try:
        ds = pydicom.dcmread(BytesIO(data))
    except (InvalidDicomError, EOFError, ValueError) as exc:
        raise NotPart10(f"not a DICOM Part-10 file: {exc}") from exc
    meta = getattr(ds, "file_meta", None)
    if meta is None or "TransferSyntaxUID" not in meta:
        raise NotPart10("not a DICOM Part-10 file: no Transfer Syntax UID in File Meta")
    for attribute in ("SOPClassUID", "SOPInstanceUID"):
        if not (ds.get(attribute) or meta.get(f"MediaStorage{attribute}")):
            raise NotPart10(f"not a stored instance: no {attribute} in the dataset or File Meta")
    cleaned = deidentify_reporting(ds, profile, secret, pixels)
    out = BytesIO()
    try:
        ds.save_as(out, enforce_file_format=True)
    except (TypeError, ValueError, AttributeError, OverflowError, OSError, struct.error) as exc:
        raise UnencodableInstance(f"cannot encode the de-identified instance: {exc}") from exc
    return DeidentifiedFile(out.getvalue(), cleaned.rule if cleaned is not None else None)
