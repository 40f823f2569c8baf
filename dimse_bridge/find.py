"""C-FIND through the QIDO query service (PS3.4 C.4.1, C.6.1, C.6.2).

The identifier of a C-FIND request becomes a ``Query`` for the same ``QueryService`` and
matching code that serve QIDO-RS, so both entry points return the same matches:

- ``QueryRetrieveLevel`` selects the level (STUDY, SERIES, IMAGE; PATIENT in Patient Root).
- Every other element present is a key (C.2.2.1): a value is a matching key, an empty value
  a return key (universal matching, C.2.2.2.3). A multi-valued UI key is a list of UIDs
  (C.2.2.2.2); a sequence with one item matches on the keys inside it (C.2.2.2.6).
- Responses carry the requested keys (empty when the archive has no value), the unique keys
  of the level and the levels above, ``QueryRetrieveLevel``, ``SpecificCharacterSet`` of the
  match, and ``RetrieveAETitle`` (C.4.1.1.3.2).

PATIENT level (Patient Root, C.6.1.1.2): the archive indexes studies, so a patient query is
a study query on the patient keys, grouped by PatientID (and IssuerOfPatientID); the
patient attributes come from the newest study, and the ``NumberOfPatientRelated*`` counts are
summed over the patient's studies. It sees the patients of the newest ``qido_max_results``
matching studies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from pydicom.datadict import dictionary_VR
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.sequence import Sequence
from pydicom.tag import Tag

from cloudpacs.dicom import attributes as A
from cloudpacs.dicom.attributes import Level
from cloudpacs.errors import BadRequest
from cloudpacs.model import JsonDataset
from cloudpacs.services.matching import MatchKey
from cloudpacs.services.patients import PATIENT_COUNTS, group_by_patient
from cloudpacs.services.query import QueryService
from cloudpacs.services.query_model import Query, check_match_value
from dimse_bridge.contexts import Model

PATIENT = "PATIENT"
LEVELS: dict[str, Level | None] = {
    PATIENT: None,
    "STUDY": Level.STUDY,
    "SERIES": Level.SERIES,
    "IMAGE": Level.INSTANCE,
}
LEVEL_ORDER = (PATIENT, "STUDY", "SERIES", "IMAGE")
UNIQUE_KEY = {
    PATIENT: "PatientID",
    "STUDY": "StudyInstanceUID",
    "SERIES": "SeriesInstanceUID",
    "IMAGE": "SOPInstanceUID",
}
QUERY_RETRIEVE_LEVEL = Tag("QueryRetrieveLevel")
SPECIFIC_CHARACTER_SET = Tag("SpecificCharacterSet")
RETRIEVE_AE_TITLE = Tag("RetrieveAETitle")
_NOT_KEYS = frozenset({QUERY_RETRIEVE_LEVEL, SPECIFIC_CHARACTER_SET, RETRIEVE_AE_TITLE})
_BINARY_VRS = frozenset({"OB", "OD", "OF", "OL", "OV", "OW", "UN"})
_PATIENT_TAGS = frozenset(A.tags_of(A.PATIENT_ATTRIBUTES))
_PATIENT_COUNT_TAGS = frozenset(Tag(k) for k in PATIENT_COUNTS)


class BadIdentifier(ValueError):
    """The identifier cannot be a request of this information model (status A900)."""


@dataclass(frozen=True)
class FindRequest:
    level: str
    """PATIENT, STUDY, SERIES or IMAGE."""
    query: Query
    requested: tuple[DataElement, ...]
    """Top-level elements of the identifier other than the control attributes."""


def query_level(identifier: Dataset, model: Model) -> str:
    """The QueryRetrieveLevel of ``identifier``, checked against ``model``."""
    level = str(identifier.get("QueryRetrieveLevel", "") or "").strip().upper()
    if level not in LEVELS:
        raise BadIdentifier(f"QueryRetrieveLevel {level[:16]!r} is not one of {LEVEL_ORDER}")
    if level == PATIENT and model is not Model.PATIENT_ROOT:
        raise BadIdentifier("PATIENT level exists only in the Patient Root model")
    return level


def parse_identifier(identifier: Dataset, model: Model) -> FindRequest:
    """The ``Query`` a C-FIND identifier asks for; raise ``BadIdentifier`` if it is invalid."""
    level = query_level(identifier, model)
    keys: list[MatchKey] = []
    requested: list[DataElement] = []
    for elem in identifier:
        if elem.tag in _NOT_KEYS or elem.tag.is_private or elem.tag.group in (0x0000, 0x0002):
            continue
        requested.append(elem)
        if level == PATIENT and (
            f"{elem.tag:08X}" not in _PATIENT_TAGS or elem.tag in _PATIENT_COUNT_TAGS
        ):
            continue  # patient counts and non-patient keys take no part in matching
        keys.extend(_match_keys(elem))
    query_level_ = LEVELS[level] or Level.STUDY
    return FindRequest(level, Query(level=query_level_, keys=tuple(keys)), tuple(requested))


def _match_keys(elem: DataElement, parents: tuple[str, ...] = ()) -> list[MatchKey]:
    path = (*parents, f"{elem.tag:08X}")
    vr = _vr(elem)
    if vr == "SQ":
        items = list(elem.value or ())
        if len(items) > 1:
            raise BadIdentifier(f"sequence key {elem.keyword or path[-1]} has more than one item")
        if not items or len(items[0]) == 0 or parents:
            return [MatchKey(path, "SQ", "")]
        keys: list[MatchKey] = []
        for inner in items[0]:
            keys.extend(_match_keys(inner, path))
        return keys
    if vr in _BINARY_VRS:
        return [MatchKey(path, vr, "")]
    value = key_value(elem)
    try:
        check_match_value(elem.keyword or path[-1], vr, value)
    except BadRequest as exc:
        raise BadIdentifier(exc.reason) from None
    return [MatchKey(path, vr, value)]


def _vr(elem: DataElement) -> str:
    vr = str(elem.VR)
    if vr in ("UN", "") or " or " in vr:
        try:
            vr = dictionary_VR(elem.tag).split(" or ")[0]
        except KeyError:
            return "UN"
    return vr


def key_value(elem: DataElement) -> str:
    """The key's value as matching text: empty for universal, ``\\``-joined when multiple."""
    if elem.is_empty:
        return ""
    value = elem.value
    if isinstance(value, (MultiValue, list, tuple)):
        return "\\".join(str(v) for v in value)
    if isinstance(value, bytes):
        return value.decode("ascii", "replace").strip(" \x00")
    return str(value).strip(" ")


def find(service: QueryService, request: FindRequest, *, retrieve_ae: str) -> list[Dataset]:
    """Run ``request`` and build the C-FIND response identifiers, in result order."""
    result = service.search(request.query)
    items: Iterable[JsonDataset] = result.items
    if request.level == PATIENT:
        items = group_by_patient(result.items)
    return [response(item, request, retrieve_ae=retrieve_ae) for item in items]


def response(item: JsonDataset, request: FindRequest, *, retrieve_ae: str) -> Dataset:
    """The response identifier for one match: requested keys, unique keys, control keys."""
    wanted = {f"{elem.tag:08X}" for elem in request.requested}
    for level in LEVEL_ORDER[: LEVEL_ORDER.index(request.level) + 1]:
        if level != PATIENT or request.level == PATIENT:
            wanted.add(A.tag_hex(UNIQUE_KEY[level]))
    charset = A.tag_hex("SpecificCharacterSet")
    found = Dataset.from_json({t: v for t, v in item.items() if t in wanted or t == charset})
    ds = Dataset()
    if SPECIFIC_CHARACTER_SET in found:
        ds.add(found[SPECIFIC_CHARACTER_SET])
    ds.QueryRetrieveLevel = request.level
    ds.RetrieveAETitle = retrieve_ae
    for elem in found:
        if elem.tag != SPECIFIC_CHARACTER_SET:
            ds.add(elem)
    for elem in request.requested:
        if elem.tag not in ds:
            ds.add(_empty_like(elem))
    return ds


def _empty_like(elem: DataElement) -> DataElement:
    vr = _vr(elem)
    if vr == "SQ":
        return DataElement(elem.tag, "SQ", Sequence())
    return DataElement(elem.tag, vr, None)
