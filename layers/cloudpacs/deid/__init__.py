"""De-identification of DICOM instances: PS3.15 Annex E profiles, options and pseudonyms.

Pure Python over pydicom. ``deidentify(dataset, profile, secret)`` and
``deidentify_bytes(part10, profile, secret)`` apply a :class:`Profile` (the Basic Application
Level Confidentiality Profile plus Options, or a named preset) with keyed pseudonyms.
See docs/deidentification.md.
"""

from cloudpacs.deid.apply import deidentify
from cloudpacs.deid.errors import (
    DeidentificationError,
    NotPart10,
    QuarantinedInstance,
    UnencodableInstance,
)
from cloudpacs.deid.part10 import DeidentifiedFile, deidentify_bytes, deidentify_file
from cloudpacs.deid.profile import Profile

__all__ = [
    "DeidentificationError",
    "DeidentifiedFile",
    "NotPart10",
    "Profile",
    "QuarantinedInstance",
    "UnencodableInstance",
    "deidentify",
    "deidentify_bytes",
    "deidentify_file",
]
