"""Object key layout (DESIGN.md §4): one place that turns UIDs into blob keys."""

from __future__ import annotations

from cloudpacs.uids import check_uid


def instance_key(study: str, series: str, sop: str) -> str:
    check_uid(study, "StudyInstanceUID")
    check_uid(series, "SeriesInstanceUID")
    check_uid(sop, "SOPInstanceUID")
    return f"studies/{study}/series/{series}/instances/{sop}.dcm"


def series_prefix(study: str, series: str) -> str:
    check_uid(study, "StudyInstanceUID")
    check_uid(series, "SeriesInstanceUID")
    return f"studies/{study}/series/{series}/"


def study_prefix(study: str) -> str:
    check_uid(study, "StudyInstanceUID")
    return f"studies/{study}/"


def series_metadata_key(study: str, series: str) -> str:
    """The cached DICOM JSON of every instance of a series, kept next to its objects."""
    return series_prefix(study, series) + "metadata.json"


def thumbnails_prefix(study: str, series: str) -> str:
    """Cached thumbnails of a series and its instances, kept next to its objects."""
    return series_prefix(study, series) + "thumbnails/"
