"""Search results on both backends carry the required return attributes (PS3.18 Tables
10.6.3-3 and 10.6.3-4), an empty Modalities in Study as one null value (``return_keys``)."""

from __future__ import annotations

from dataclasses import replace

from cloudpacs.dicom import attributes as A
from cloudpacs.dicom.attributes import Level
from cloudpacs.services.query import QueryService
from cloudpacs.services.query_model import parse_qido
from cloudpacs.services.return_keys import REQUIRED

from .conftest import Adapters
from .records import entry
from .records import uid as u

SC_IMAGE = "1.2.840.10008.5.1.4.1.1.7"


def test_study_whose_series_have_no_modality(adapters: Adapters) -> None:
    bare = entry(u(40), u(40, 1), u(40, 1, 1), sop_class=SC_IMAGE, date=None, accession=None)
    bare = replace(bare, modality="", series_attrs={"0020000E": {"vr": "UI", "Value": [u(40, 1)]}})
    adapters.index.add_instance(bare, replace=False)
    adapters.index.add_instance(entry(u(41), u(41, 1), u(41, 1, 1), modality="MR"), replace=False)
    query = QueryService(adapters.index)

    studies = {
        s[A.tag_hex("StudyInstanceUID")]["Value"][0]: s
        for s in query.search(parse_qido([], Level.STUDY)).items
    }
    assert set(studies) == {u(40), u(41)}
    for study in studies.values():
        assert set(A.tags_of(REQUIRED[Level.STUDY])) <= set(study)
    assert studies[u(40)][A.tag_hex("ModalitiesInStudy")] == {"vr": "CS", "Value": [None]}
    assert studies[u(40)][A.tag_hex("StudyDate")] == {"vr": "DA"}
    assert studies[u(41)][A.tag_hex("ModalitiesInStudy")] == {"vr": "CS", "Value": ["MR"]}

    (series,) = query.search(parse_qido([], Level.SERIES, study_uid=u(40))).items
    assert set(A.tags_of(REQUIRED[Level.SERIES])) <= set(series)
    assert series[A.tag_hex("Modality")] == {"vr": "CS"}
