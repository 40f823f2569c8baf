"""QIDO-RS search (PS3.18 §10.6) over the real SQLite index (``services.query``).

One archive of three studies is built from pydicom's CT, MR and secondary-capture samples
and shared by the read-only tests:

- A: Doe^John, 2024-01-10, CT series #2 (3 instances) and MR series #1 (1 instance,
  Request Attributes Sequence RP-7/SPS-7);
- B: Müller^Hans, 2023-05-05, CT series #1 (1 instance);
- C: Smith^Anna, 2025-01-01, OT (secondary capture) series #1 (2 instances).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydicom.datadict import keyword_for_tag
from pydicom.uid import generate_uid

from cloudpacs.dicom.attributes import Level
from cloudpacs.dicom.json_model import BULK_BASE
from cloudpacs.errors import NotFound
from cloudpacs.model import JsonDataset
from cloudpacs.runtime import Services, build_services
from cloudpacs.services.query import QueryResult
from cloudpacs.services.query_model import parse_qido
from cloudpacs.settings import load_settings

from .dicom_json import tag
from .instances import instance

CT_CLASS = "1.2.840.10008.5.1.4.1.1.2"
MR_CLASS = "1.2.840.10008.5.1.4.1.1.4"
SC_CLASS = "1.2.840.10008.5.1.4.1.1.7"

# PS3.18 Table 10.6.3-3 (Study), 10.6.3-4 (Series), 10.6.3-5 (Instance): returned by default.
STUDY_DEFAULTS = {
    "SpecificCharacterSet", "StudyDate", "StudyTime", "AccessionNumber",
    "InstanceAvailability", "ModalitiesInStudy", "ReferringPhysicianName",
    "TimezoneOffsetFromUTC", "RetrieveURL", "PatientName", "PatientID", "PatientBirthDate",
    "PatientSex", "StudyInstanceUID", "StudyID", "NumberOfStudyRelatedSeries",
    "NumberOfStudyRelatedInstances",
}  # fmt: skip
SERIES_DEFAULTS = {
    "SpecificCharacterSet", "Modality", "TimezoneOffsetFromUTC", "SeriesDescription",
    "RetrieveURL", "SeriesInstanceUID", "SeriesNumber", "NumberOfSeriesRelatedInstances",
    "PerformedProcedureStepStartDate", "PerformedProcedureStepStartTime",
    "RequestAttributesSequence",
}  # fmt: skip
INSTANCE_DEFAULTS = {
    "SpecificCharacterSet", "SOPClassUID", "SOPInstanceUID", "InstanceAvailability",
    "TimezoneOffsetFromUTC", "RetrieveURL", "InstanceNumber", "Rows", "Columns",
    "BitsAllocated", "NumberOfFrames",
}  # fmt: skip


@dataclass
class Study:
    uid: str
    series: dict[str, str]  # name -> Series Instance UID
    instances: dict[str, list[str]]  # series name -> SOP Instance UIDs by InstanceNumber


@dataclass
class Archive:
    services: Services
    a: Study
    b: Study
    c: Study

    def search(self, level: Level, *params: tuple[str, str], **scope: str) -> QueryResult:
        return self.services.query.search(parse_qido(list(params), level, **scope))


def patient(name: str, pid: str, date: str, accession: str) -> dict[str, Any]:
    return {
        "SpecificCharacterSet": "ISO_IR 192",
        "PatientName": name,
        "PatientID": pid,
        "PatientBirthDate": "19700101",
        "PatientSex": "O",
        "StudyDate": date,
        "StudyTime": "101500",
        "AccessionNumber": accession,
        "ReferringPhysicianName": "House^Gregory",
        "StudyDescription": f"Study of {name}",
        "StudyID": accession[-1],
        "TimezoneOffsetFromUTC": "+0100",
    }


def add_study(
    services: Services, study_attrs: dict[str, Any], series: list[dict[str, Any]]
) -> Study:
    study = Study(generate_uid(), {}, {})
    for spec in series:
        spec = dict(spec)
        name, numbers = spec.pop("name"), spec.pop("numbers")
        series_uid = generate_uid()
        study.series[name] = series_uid
        sops = {n: generate_uid() for n in numbers}
        for n in numbers:  # stored in the order given, listed by InstanceNumber
            data = instance(study.uid, series_uid, sops[n], InstanceNumber=n, **study_attrs, **spec)
            assert services.ingest.store(data).ok
        study.instances[name] = [sops[n] for n in sorted(numbers)]
    return study


def build_archive(services: Services) -> Archive:
    request = [{"RequestedProcedureID": "RP-7", "ScheduledProcedureStepID": "SPS-7"}]
    a = add_study(
        services,
        patient("Doe^John", "PID-A", "20240110", "ACC-A"),
        [
            {"name": "ct", "source": "CT_small.dcm", "Modality": "CT", "SeriesNumber": 2,
             "SeriesDescription": "AXIAL", "numbers": [3, 1, 2]},
            {"name": "mr", "source": "MR_small.dcm", "Modality": "MR", "SeriesNumber": 1,
             "SeriesDescription": "T1", "numbers": [1], "RequestAttributesSequence": request},
        ],
    )  # fmt: skip
    b = add_study(
        services,
        patient("Müller^Hans", "PID-B", "20230505", "ACC-B"),
        [{"name": "ct", "source": "CT_small.dcm", "Modality": "CT", "SeriesNumber": 1,
          "numbers": [1]}],
    )  # fmt: skip
    c = add_study(
        services,
        patient("Smith^Anna", "PID-C", "20250101", "ACC-C"),
        [{"name": "ot", "source": "SC_rgb.dcm", "Modality": "OT", "SeriesNumber": 1,
          "numbers": [2, 1]}],
    )  # fmt: skip
    return Archive(services, a, b, c)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Archive:
    folder = tmp_path_factory.mktemp("archive")
    return build_archive(build_services(load_settings(data_dir=folder, fsync=False)))


def keywords(item: JsonDataset) -> set[str]:
    return {keyword_for_tag(int(t, 16)) for t in item}


def value(item: JsonDataset, keyword: str) -> Any:
    values = item.get(tag(keyword), {}).get("Value")
    return values[0] if values else None


def values(item: JsonDataset, keyword: str) -> list[Any]:
    return list(item.get(tag(keyword), {}).get("Value", []))


def uids(result: QueryResult, keyword: str) -> list[str]:
    return [value(item, keyword) for item in result.items]


# -- results per level, ordering ---------------------------------------------------------
def test_studies_newest_first(archive: Archive) -> None:
    result = archive.search(Level.STUDY)
    assert uids(result, "StudyInstanceUID") == [archive.c.uid, archive.a.uid, archive.b.uid]
    assert (result.truncated, result.ignored_keys) == (False, ())


def test_all_series_by_study_then_series_number(archive: Archive) -> None:
    a, b, c = archive.a, archive.b, archive.c
    result = archive.search(Level.SERIES)
    assert uids(result, "SeriesInstanceUID") == [
        c.series["ot"],
        a.series["mr"],
        a.series["ct"],
        b.series["ct"],
    ]


def test_instances_of_a_series_by_instance_number(archive: Archive) -> None:
    a = archive.a
    result = archive.search(Level.INSTANCE, study_uid=a.uid, series_uid=a.series["ct"])
    assert uids(result, "SOPInstanceUID") == a.instances["ct"]
    assert [value(i, "InstanceNumber") for i in result.items] == [1, 2, 3]


def test_instances_of_a_study(archive: Archive) -> None:
    a = archive.a
    result = archive.search(Level.INSTANCE, study_uid=a.uid)
    assert uids(result, "SOPInstanceUID") == a.instances["mr"] + a.instances["ct"]


# -- computed attributes ------------------------------------------------------------------
def test_computed_study_attributes(archive: Archive) -> None:
    """PS3.18 Table 10.6.3-3 / PS3.4 C.6.2.1.2: Modalities in Study, SOP Classes in Study,
    Number of Study Related Series and Instances are derived from the study's content."""
    listed = ("StudyInstanceUID", f"{archive.a.uid},{archive.c.uid}")
    c, a = archive.search(Level.STUDY, listed, ("includefield", "SOPClassesInStudy")).items
    assert values(a, "ModalitiesInStudy") == ["CT", "MR"]
    assert values(a, "SOPClassesInStudy") == [CT_CLASS, MR_CLASS]
    assert (value(a, "NumberOfStudyRelatedSeries"), value(a, "NumberOfStudyRelatedInstances")) == (
        2,
        4,
    )
    assert values(c, "ModalitiesInStudy") == ["OT"]
    assert (value(c, "NumberOfStudyRelatedSeries"), value(c, "NumberOfStudyRelatedInstances")) == (
        1,
        2,
    )
    assert a[tag("NumberOfStudyRelatedInstances")]["vr"] == "IS"


def test_computed_series_attribute(archive: Archive) -> None:
    result = archive.search(Level.SERIES, study_uid=archive.a.uid)
    assert [value(i, "NumberOfSeriesRelatedInstances") for i in result.items] == [1, 3]


def test_matching_on_computed_attributes(archive: Archive) -> None:
    a, b, c = archive.a.uid, archive.b.uid, archive.c.uid
    assert uids(archive.search(Level.STUDY, ("ModalitiesInStudy", "MR")), "StudyInstanceUID") == [a]
    assert uids(archive.search(Level.STUDY, ("ModalitiesInStudy", "CT")), "StudyInstanceUID") == [
        a,
        b,
    ]
    found = archive.search(Level.STUDY, ("NumberOfStudyRelatedInstances", "2"))
    assert uids(found, "StudyInstanceUID") == [c]
    found = archive.search(Level.STUDY, ("SOPClassesInStudy", SC_CLASS))
    assert uids(found, "StudyInstanceUID") == [c]


# -- returned attributes ------------------------------------------------------------------
def test_study_defaults(archive: Archive) -> None:
    """PS3.18 §10.6.3.3.1: every attribute of Table 10.6.3-3 (when known), nothing else."""
    item = archive.search(Level.STUDY, ("StudyInstanceUID", archive.a.uid)).items[0]
    assert keywords(item) == STUDY_DEFAULTS
    assert value(item, "RetrieveURL") == f"{BULK_BASE}/studies/{archive.a.uid}"
    assert value(item, "InstanceAvailability") == "ONLINE"
    assert value(item, "PatientName") == {"Alphabetic": "Doe^John"}


def test_series_defaults_within_a_study(archive: Archive) -> None:
    """PS3.18 §10.6.3.3.2: Table 10.6.3-4 (and the study's UID, the search's scope)."""
    a = archive.a
    item = archive.search(Level.SERIES, ("Modality", "MR"), study_uid=a.uid).items[0]
    present = SERIES_DEFAULTS - {
        "PerformedProcedureStepStartDate",
        "PerformedProcedureStepStartTime",
    }
    assert keywords(item) == present | {"StudyInstanceUID"}
    assert value(item, "RetrieveURL") == f"{BULK_BASE}/studies/{a.uid}/series/{a.series['mr']}"
    assert value(item, "RequestAttributesSequence")[tag("RequestedProcedureID")]["Value"] == [
        "RP-7"
    ]


def test_all_series_also_return_study_defaults(archive: Archive) -> None:
    """PS3.18 §10.6.3.3.2: "If the Target Resource is All Series, then include all Study
    Level Attributes specified in Section 10.6.3.3.1.\""""
    item = archive.search(Level.SERIES, ("SeriesInstanceUID", archive.b.series["ct"])).items[0]
    assert STUDY_DEFAULTS - {"ModalitiesInStudy"} <= keywords(item)
    assert keywords(item) <= STUDY_DEFAULTS | SERIES_DEFAULTS


def test_instance_defaults_within_a_series(archive: Archive) -> None:
    a = archive.a
    result = archive.search(Level.INSTANCE, study_uid=a.uid, series_uid=a.series["ct"])
    item = result.items[0]
    assert keywords(item) == (INSTANCE_DEFAULTS - {"NumberOfFrames"}) | {
        "StudyInstanceUID",
        "SeriesInstanceUID",
    }
    sop = a.instances["ct"][0]
    assert value(item, "RetrieveURL") == (
        f"{BULK_BASE}/studies/{a.uid}/series/{a.series['ct']}/instances/{sop}"
    )
    assert value(item, "SOPClassUID") == CT_CLASS


def test_all_instances_return_study_and_series_defaults(archive: Archive) -> None:
    """PS3.18 §10.6.3.3.3: instance results of an unscoped search carry the study and series
    attributes too."""
    item = archive.search(Level.INSTANCE, ("SOPInstanceUID", archive.b.instances["ct"][0])).items[0]
    assert {"PatientName", "StudyDate", "Modality", "SeriesNumber", "SOPInstanceUID"} <= keywords(
        item
    )
    assert keywords(item) <= STUDY_DEFAULTS | SERIES_DEFAULTS | INSTANCE_DEFAULTS


def test_includefield_adds_attributes_of_the_level_and_above(archive: Archive) -> None:
    """PS3.18 §10.6.3.3.1: includefield attributes are returned; "Series or Instance Level
    Attributes contained in includefield parameters shall not be returned" at study level."""
    item = archive.search(
        Level.STUDY,
        ("StudyInstanceUID", archive.a.uid),
        ("includefield", "StudyDescription,Rows,Modality"),
    ).items[0]
    assert keywords(item) == STUDY_DEFAULTS | {"StudyDescription"}
    assert value(item, "StudyDescription") == "Study of Doe^John"


def test_includefield_all(archive: Archive) -> None:
    item = archive.search(
        Level.STUDY, ("StudyInstanceUID", archive.a.uid), ("includefield", "all")
    ).items[0]
    assert STUDY_DEFAULTS | {"StudyDescription", "SOPClassesInStudy"} <= keywords(item)
    assert "Modality" not in keywords(item) and "SOPInstanceUID" not in keywords(item)
    series = archive.search(Level.SERIES, ("includefield", "all"), study_uid=archive.a.uid).items[0]
    assert {"SeriesDescription", "Modality", "PatientName"} <= keywords(series)


def test_matching_keys_are_returned(archive: Archive) -> None:
    """PS3.18 §10.6.3.3: "All other Study level Attributes passed as match [...] parameters"."""
    item = archive.search(Level.STUDY, ("StudyDescription", "Study of D*")).items[0]
    assert value(item, "StudyDescription") == "Study of Doe^John"


# -- matching through the service ----------------------------------------------------------
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ([("PatientName", "doe^john")], "a"),
        ([("PatientName", "DOE*")], "a"),
        ([("PatientName", "m*")], "b"),
        ([("PatientName", "Muller*")], ""),
        ([("PatientName", "muller"), ("fuzzymatching", "true")], "b"),
        ([("PatientName", "ann smi"), ("fuzzymatching", "true")], "c"),
        ([("PatientID", "PID-B")], "b"),
        ([("PatientID", "PID-*")], "cab"),
        ([("AccessionNumber", "ACC-C")], "c"),
        ([("StudyDate", "20240101-20241231")], "a"),
        ([("StudyDate", "-20231231")], "b"),
        ([("StudyDate", "20240110-")], "ca"),
        ([("StudyDate", "20240110")], "a"),
        ([("StudyTime", "10")], "cab"),
        ([("StudyTime", "11-")], ""),
        ([("ReferringPhysicianName", "house*")], "cab"),
        ([("PatientID", "PID-A"), ("StudyDate", "20230505")], ""),
    ],
)
def test_study_matching(archive: Archive, params: list[tuple[str, str]], expected: str) -> None:
    """PS3.4 C.2.2.2 through the index's narrowing and the matching engine: the results are
    those of the matching rules, in result order."""
    studies = {"a": archive.a.uid, "b": archive.b.uid, "c": archive.c.uid}
    assert uids(archive.search(Level.STUDY, *params), "StudyInstanceUID") == [
        studies[k] for k in expected
    ]


def test_series_matching(archive: Archive) -> None:
    a = archive.a
    assert uids(
        archive.search(Level.SERIES, ("Modality", "CT"), study_uid=a.uid), "SeriesInstanceUID"
    ) == [a.series["ct"]]
    found = archive.search(Level.SERIES, ("RequestAttributesSequence.RequestedProcedureID", "RP-7"))
    assert uids(found, "SeriesInstanceUID") == [a.series["mr"]]
    both = archive.search(
        Level.SERIES,
        ("RequestAttributesSequence.RequestedProcedureID", "RP-7"),
        ("RequestAttributesSequence.ScheduledProcedureStepID", "SPS-8"),
    )
    assert both.items == []
    found = archive.search(Level.SERIES, ("PatientName", "Doe*"), ("SeriesNumber", "2"))
    assert uids(found, "SeriesInstanceUID") == [a.series["ct"]]
    listed = f"{a.series['ct']}\\{archive.b.series['ct']}"
    assert uids(
        archive.search(Level.SERIES, ("SeriesInstanceUID", listed)), "SeriesInstanceUID"
    ) == [a.series["ct"], archive.b.series["ct"]]


def test_instance_matching(archive: Archive) -> None:
    a = archive.a
    found = archive.search(Level.INSTANCE, ("SOPClassUID", MR_CLASS))
    assert uids(found, "SOPInstanceUID") == a.instances["mr"]
    found = archive.search(Level.INSTANCE, ("InstanceNumber", "2"), study_uid=a.uid)
    assert uids(found, "SOPInstanceUID") == [a.instances["ct"][1]]
    found = archive.search(Level.INSTANCE, ("Modality", "OT"), ("InstanceNumber", "1"))
    assert uids(found, "SOPInstanceUID") == [archive.c.instances["ot"][0]]


# -- paging, cap, ignored keys, scope ------------------------------------------------------
@pytest.mark.parametrize(
    ("limit", "offset", "expected"),
    [(None, 0, "cab"), ("2", 0, "ca"), ("1", 1, "a"), ("5", 1, "ab"), (None, 3, ""), ("0", 0, "")],
)
def test_limit_and_offset(archive: Archive, limit: str | None, offset: int, expected: str) -> None:
    """PS3.18 §8.3.4.4: offset skips that many results, limit caps how many are returned; a
    client's own limit does not make the response "truncated"."""
    params = [("offset", str(offset))] + ([("limit", limit)] if limit else [])
    studies = {"a": archive.a.uid, "b": archive.b.uid, "c": archive.c.uid}
    result = archive.search(Level.STUDY, *params)
    assert uids(result, "StudyInstanceUID") == [studies[k] for k in expected]
    assert result.truncated is False


def test_server_cap_truncates(make_services: Callable[..., Services]) -> None:
    """PS3.18 §8.3.4.4 / §10.6.3: when the origin server returns fewer results than match
    (its own limit), the response says so (a Warning header): ``truncated``."""
    archive = build_archive(make_services(qido_max_results=2))
    first = archive.search(Level.STUDY)
    assert (len(first.items), first.truncated) == (2, True)
    assert archive.search(Level.STUDY, ("limit", "2")).truncated is False
    asked_more = archive.search(Level.STUDY, ("limit", "5"))
    assert (len(asked_more.items), asked_more.truncated) == (2, True)
    rest = archive.search(Level.STUDY, ("offset", "2"))
    assert (uids(rest, "StudyInstanceUID"), rest.truncated) == ([archive.b.uid], False)


def test_keys_of_lower_levels_are_ignored(archive: Archive) -> None:
    """PS3.18 §8.3: "The origin server shall ignore any unsupported Query Parameters"; a
    series key in a study search is not applied, and is reported."""
    result = archive.search(Level.STUDY, ("Modality", "MR"), ("SOPInstanceUID", "1.2.3"))
    assert len(result.items) == 3
    assert result.ignored_keys == (tag("Modality"), tag("SOPInstanceUID"))
    series = archive.search(Level.SERIES, ("InstanceNumber", "99"), study_uid=archive.a.uid)
    assert (len(series.items), series.ignored_keys) == (2, (tag("InstanceNumber"),))


def test_searches_scoped_to_a_study_stay_in_it(archive: Archive) -> None:
    b = archive.b
    assert uids(archive.search(Level.SERIES, study_uid=b.uid), "SeriesInstanceUID") == [
        b.series["ct"]
    ]
    assert (
        uids(archive.search(Level.INSTANCE, study_uid=b.uid), "SOPInstanceUID") == b.instances["ct"]
    )
    other = archive.search(
        Level.SERIES, ("SeriesInstanceUID", archive.a.series["ct"]), study_uid=b.uid
    )
    assert other.items == []


@pytest.mark.parametrize("level", [Level.SERIES, Level.INSTANCE])
def test_an_unknown_study_scope_is_not_found(archive: Archive, level: Level) -> None:
    """PS3.18 §10.6.1: a search under /studies/{study} of a study the origin server does not
    hold is answered 404."""
    with pytest.raises(NotFound) as caught:
        archive.search(level, study_uid=generate_uid())
    assert caught.value.status == 404


def test_an_unknown_series_scope_finds_nothing(archive: Archive) -> None:
    result = archive.search(Level.INSTANCE, study_uid=archive.a.uid, series_uid=generate_uid())
    assert result.items == []


def test_results_are_fresh_copies(archive: Archive, tmp_path: Path) -> None:
    """Projected results must not alias the index's records: editing one changes nothing."""
    first = archive.search(Level.STUDY, ("StudyInstanceUID", archive.a.uid)).items[0]
    first[tag("PatientName")]["Value"] = ["tampered"]
    again = archive.search(Level.STUDY, ("StudyInstanceUID", archive.a.uid)).items[0]
    assert value(again, "PatientName") == {"Alphabetic": "Doe^John"}


@pytest.mark.parametrize(
    ("name", "value"),
    [("PatientID", "PID-B "), ("AccessionNumber", " ACC-B"), ("PatientName", " Müller^Hans ")],
)
def test_padding_spaces_do_not_hide_a_match(archive: Archive, name: str, value: str) -> None:
    """PS3.5 §6.2: leading and trailing spaces of LO, SH and PN values are not significant;
    the index lookup that narrows the search must not be stricter than the matching."""
    assert uids(archive.search(Level.STUDY, (name, value)), "StudyInstanceUID") == [archive.b.uid]
