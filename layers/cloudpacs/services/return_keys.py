"""Required return attributes of a search result (PS3.18 §10.6.3.3, Tables 10.6.3-3 to -5).

Attributes of Type R in those tables are Required Keys (PS3.4 C.2.2.1): every result carries
them, with a zero-length value when the archive has none. In DICOM JSON a zero-length
attribute is an object with a ``vr`` and no ``Value`` (PS3.18 §F.2.5), which is how they are
returned, with one exception:

Modalities in Study (0008,0061) with no value, as for a study whose instances all lack
Modality (0008,0060), e.g. Secondary Capture images, where PS3.3's SC Equipment Module makes
Modality optional. It is returned as ``{"vr": "CS", "Value": [null]}``: one empty value, which
§F.2.5 encodes as a ``null`` array element and which PS3.5 encodes exactly as the zero-length
element (pydicom reads both forms as the same empty element). Viewers index the ``Value`` of
this attribute without checking for its absence: OHIF 3.x's study list merges it into the
modalities it shows with ``ModalitiesInStudy.Value.length`` (``getModalities`` in
``platform/core/src/DICOMWeb``) and fails with "Cannot read properties of undefined (reading
'length')" for the whole list when ``Value`` is missing.
"""

from __future__ import annotations

from pydicom.datadict import dictionary_VR

from cloudpacs.dicom import attributes as A
from cloudpacs.dicom.attributes import Level
from cloudpacs.model import JsonDataset

REQUIRED: dict[Level, tuple[str, ...]] = {
    Level.STUDY: (
        "StudyDate",
        "StudyTime",
        "AccessionNumber",
        "ModalitiesInStudy",
        "ReferringPhysicianName",
        "PatientName",
        "PatientID",
        "PatientBirthDate",
        "PatientSex",
        "StudyInstanceUID",
        "StudyID",
        "NumberOfStudyRelatedSeries",
        "NumberOfStudyRelatedInstances",
    ),
    Level.SERIES: (
        "Modality",
        "SeriesInstanceUID",
        "SeriesNumber",
        "NumberOfSeriesRelatedInstances",
    ),
    Level.INSTANCE: ("SOPClassUID", "SOPInstanceUID", "InstanceNumber"),
}
"""Type R and U attributes of Tables 10.6.3-3 (study), 10.6.3-4 (series), 10.6.3-5 (instance)."""
_REQUIRED_TAGS = {level: A.tags_of(names) for level, names in REQUIRED.items()}
MODALITIES_IN_STUDY = A.tag_hex("ModalitiesInStudy")


def with_required(result: JsonDataset, levels: tuple[Level, ...]) -> JsonDataset:
    """``result`` with every required attribute of ``levels`` present (empty if unknown)."""
    completed = dict(result)
    for level in levels:
        for tag in _REQUIRED_TAGS[level]:
            if tag not in completed:
                completed[tag] = {"vr": dictionary_VR(int(tag, 16))}
    modalities = completed.get(MODALITIES_IN_STUDY)
    if modalities is not None and not modalities.get("Value"):
        completed[MODALITIES_IN_STUDY] = {"vr": "CS", "Value": [None]}
    return dict(sorted(completed.items()))
