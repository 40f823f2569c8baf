"""Why an instance cannot be de-identified. The caller reports these per instance.

None of them is ever a reason to pass the original through: an instance that raises one of
these is left out of the de-identified copy and listed in the job result.
"""

from __future__ import annotations

from cloudpacs.errors import CloudPacsError


class DeidentificationError(CloudPacsError):
    """An instance the de-identifier refuses to process."""

    status = 422


class QuarantinedInstance(DeidentificationError):
    """The pixel data may carry burned-in identification (PS3.15 E.1.1 item 2 note 5).

    The Basic Profile does not clean pixel data; without the Clean Pixel Data Option the
    de-identifier must not emit an instance that may show a name or an ID in its pixels.
    ``rule`` names the quarantine rule that fired (see :mod:`cloudpacs.deid.quarantine` and,
    with the Clean Pixel Data Option, :mod:`cloudpacs.deid.pixel_clean`).
    """

    def __init__(self, reason: str, rule: str, pixel_rule: str | None = None) -> None:
        super().__init__(reason)
        self.rule = rule
        self.pixel_rule = pixel_rule
        """The pixel cleaning rule that matched, when the Clean Pixel Data Option was on."""


class NotPart10(DeidentificationError):
    """Input bytes that are not a DICOM Part-10 file (no preamble/File Meta Information)."""


class UnencodableInstance(DeidentificationError):
    """The de-identified dataset cannot be written in the input's transfer syntax.

    Seen with corrupt input, e.g. a file whose File Meta declares explicit VR while the
    dataset is encoded with implicit VR.
    """
