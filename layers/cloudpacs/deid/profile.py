"""The Basic Application Level Confidentiality Profile, its Options, and named presets.

A :class:`Profile` is the Basic Profile (PS3.15 E.2, always on) plus the Options of PS3.15
E.3 that are switched on. Clean Pixel Data (E.3.1) is offered for the instances that a pixel
cleaning rule matches (:mod:`cloudpacs.deid.pixel_clean`); it is off in every preset. Clean
Recognizable Visual Features is not offered.

Presets (``Profile.preset(name)``):

======================  ===============================  =====================================
preset                  Options added to Basic           why
======================  ===============================  =====================================
basic                   none                             the standard's conservative default:
                                                         identity, demographics, dates, free
                                                         text, institution, device identity,
                                                         private data, overlays and curves go;
                                                         UIDs and Patient ID are pseudonymised
hipaa_safe_harbor       Retain Patient Characteristics;  45 CFR 164.514(b)(2): Basic already
                        ages over 89 become ``090Y``     removes every Safe Harbor identifier
                                                         (all dates, stricter than year-only);
                                                         sex, age, size and weight are not
                                                         identifiers there, except ages > 89,
                                                         which are aggregated into 90+
retain_longitudinal     Retain Longitudinal Temporal     follow-up and response studies: the
                        Information with Modified        intervals between studies survive (one
                        Dates; Retain Patient            keyed offset per patient), with age,
                        Characteristics; Clean           sex and weight for dosing and SUV, and
                        Descriptors                      descriptions cleaned, not dropped
retain_device_identity  Retain Device Identity; Retain   device QA, dose registries, multi-
                        Safe Private                     scanner studies: serial numbers,
                                                         station names, calibration dates and
                                                         private technique values known safe
gdpr                    Clean Descriptors; Clean         GDPR data minimisation (Art. 5(1)(c)):
                        Structured Content; Clean        quasi-identifiers (dates, institution,
                        Graphics                         device, UIDs, private data) go as in
                                                         Basic; text, SR content and graphic
                                                         annotations stay only once cleaned.
                                                         Keyed pseudonyms make the output
                                                         pseudonymised data (Art. 4(5)) for as
                                                         long as the secret exists
======================  ===============================  =====================================
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import ClassVar

from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code

from cloudpacs.deid.table import OPTION_KEYS

# PS3.16 CID 7050 "De-identification Method", as pydicom's code dictionary names them.
BASIC_PROFILE_CODE: Code = codes.DCM.BasicApplicationConfidentialityProfile
OPTION_CODES: dict[str, Code] = {
    "retain_safe_private": codes.DCM.RetainSafePrivateOption,
    "retain_uids": codes.DCM.RetainUidsOption,
    "retain_device_identity": codes.DCM.RetainDeviceIdentityOption,
    "retain_institution_identity": codes.DCM.RetainInstitutionIdentityOption,
    "retain_patient_characteristics": codes.DCM.RetainPatientCharacteristicsOption,
    "retain_longitudinal_full_dates": (
        codes.DCM.RetainLongitudinalTemporalInformationFullDatesOption
    ),
    "retain_longitudinal_modified_dates": (
        codes.DCM.RetainLongitudinalTemporalInformationModifiedDatesOption
    ),
    "clean_descriptors": codes.DCM.CleanDescriptorsOption,
    "clean_structured_content": codes.DCM.CleanStructuredContentOption,
    "clean_graphics": codes.DCM.CleanGraphicsOption,
}
CLEAN_PIXEL_DATA_CODE: Code = codes.DCM.CleanPixelDataOption
"""113101, claimed only by an instance whose pixels were cleaned."""


@dataclass(frozen=True)
class Profile:
    """Which PS3.15 E.3 Options apply on top of the Basic Profile.

    ``aggregate_ages_over_89`` is not a DICOM Option: with Retain Patient Characteristics it
    rewrites Patient's Age above 89 years to ``090Y`` (HIPAA Safe Harbor's 90+ category).
    """

    retain_safe_private: bool = False
    retain_uids: bool = False
    retain_device_identity: bool = False
    retain_institution_identity: bool = False
    retain_patient_characteristics: bool = False
    retain_longitudinal_full_dates: bool = False
    retain_longitudinal_modified_dates: bool = False
    clean_descriptors: bool = False
    clean_structured_content: bool = False
    clean_graphics: bool = False
    clean_pixel_data: bool = False
    """E.3.1: blank the regions a pixel cleaning rule names; not a Table E.1-1 column."""
    aggregate_ages_over_89: bool = False
    name: str = "custom"

    PRESETS: ClassVar[dict[str, dict[str, bool]]] = {
        "basic": {},
        "hipaa_safe_harbor": {
            "retain_patient_characteristics": True,
            "aggregate_ages_over_89": True,
        },
        "retain_longitudinal": {
            "retain_longitudinal_modified_dates": True,
            "retain_patient_characteristics": True,
            "clean_descriptors": True,
        },
        "retain_device_identity": {"retain_device_identity": True, "retain_safe_private": True},
        "gdpr": {
            "clean_descriptors": True,
            "clean_structured_content": True,
            "clean_graphics": True,
        },
    }

    def __post_init__(self) -> None:
        if self.retain_longitudinal_full_dates and self.retain_longitudinal_modified_dates:
            raise ValueError(
                "Retain Longitudinal Temporal Information: choose Full Dates or Modified Dates"
            )

    @classmethod
    def preset(cls, name: str) -> Profile:
        try:
            options = cls.PRESETS[name]
        except KeyError:
            known = ", ".join(sorted(cls.PRESETS))
            msg = f"unknown de-identification preset {name!r} (known: {known})"
            raise ValueError(msg) from None
        return cls(name=name, **options)

    @classmethod
    def from_options(cls, options: dict[str, bool], name: str = "custom") -> Profile:
        """Build a profile from option names (as in an API request); unknown names fail."""
        allowed = {f.name for f in fields(cls)} - {"name"}
        unknown = sorted(set(options) - allowed)
        if unknown:
            raise ValueError(f"unknown de-identification options: {', '.join(unknown)}")
        return replace(cls(), name=name, **options)

    def enabled(self) -> tuple[str, ...]:
        """The PS3.15 Option keys in force, in Table E.1-1 column order."""
        return tuple(key for key in OPTION_KEYS if getattr(self, key))

    @property
    def modifies_dates(self) -> bool:
        return self.retain_longitudinal_modified_dates

    def method_codes(self) -> list[Code]:
        """CID 7050 codes for De-identification Method Code Sequence (0012,0064)."""
        return [BASIC_PROFILE_CODE, *(OPTION_CODES[key] for key in self.enabled())]

    def longitudinal_temporal_information(self) -> str:
        """Value of Longitudinal Temporal Information Modified (0028,0303), E.2 and E.3.6."""
        if self.retain_longitudinal_full_dates:
            return "UNMODIFIED"
        if self.retain_longitudinal_modified_dates:
            return "MODIFIED"
        return "REMOVED"
