"""Which GSI answers a study search, and with which key condition (never a Scan).

``StudyKeys`` asks for a superset of the matching studies; the query service re-applies the
full matching rules. So one index is chosen, the one expected to return the fewest items:

1. AccessionNumber (``by_accession``): one order, usually one study;
2. PatientID (``by_patient``): one patient's studies;
3. a StudyDate range bounded on both sides (``by_date``): e.g. one day's worklist;
4. a PatientName prefix (``by_name``);
5. a StudyDate range open on one side (``by_date``);
6. nothing usable: every study (``by_date``, the whole listing, date order).

The date range also narrows cases 1 and 2, whose sort key is ``date_sk`` too. ``date_sk`` is
``"<YYYYMMDD>#<uid>"`` (``"#<uid>"`` without a date), so an inclusive range [lo, hi] is
``BETWEEN lo AND hi + "#~"`` ("~" sorts after every digit and "."); studies without a
StudyDate sort first and never match a range, as in the SQLite index. Study UID lists are
not served here: the adapter reads those items directly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from cloudpacs.adapters.aws.dynamo_items import ALL_STUDIES, NAME_SK_MAX, Expr
from cloudpacs.adapters.aws.table_schema import GSI_KEYS
from cloudpacs.model import StudyKeys

if TYPE_CHECKING:
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

OPEN_LOWER = ""
OPEN_UPPER = "99991231"


@dataclass(frozen=True)
class GsiQuery:
    index: str
    condition: str
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, AttributeValueTypeDef] = field(default_factory=dict)


class NoMatch(Exception):
    """The keys cannot match any study (an empty date range)."""


def _date_bounds(keys: StudyKeys) -> tuple[str, str] | None:
    """``date_sk`` bounds of the study date range, or None when it does not narrow."""
    if keys.study_date is None:
        return None
    lo, hi = keys.study_date
    if lo == OPEN_LOWER and hi >= OPEN_UPPER:
        return None
    bounds = (lo or "0", hi + "#~")
    if bounds[0] > bounds[1]:
        raise NoMatch
    return bounds


def _closed(study_date: tuple[str, str] | None) -> bool:
    return study_date is not None and study_date[0] != OPEN_LOWER and study_date[1] < OPEN_UPPER


def plan_study_query(keys: StudyKeys) -> GsiQuery:
    """The GSI query for ``keys`` (see the module doc for the order of preference)."""
    dates = _date_bounds(keys)
    if keys.accession_number:
        return _on("by_accession", f"ACC#{keys.accession_number}", dates)
    if keys.patient_id:
        return _on("by_patient", f"PID#{keys.patient_id}", dates)
    if dates is not None and _closed(keys.study_date):
        return _on("by_date", ALL_STUDIES, dates)
    if keys.patient_name_prefix:
        prefix = keys.patient_name_prefix[:NAME_SK_MAX]
        e = Expr()
        hash_key, range_key = GSI_KEYS["by_name"]
        condition = (
            f"{e.n(hash_key)} = {e.v('h', {'S': 'PN#' + prefix[0]})}"
            f" AND begins_with({e.n(str(range_key))}, {e.v('prefix', {'S': prefix})})"
        )
        return GsiQuery("by_name", condition, e.names, e.values)
    return _on("by_date", ALL_STUDIES, dates)


def _on(index: str, hash_value: str, dates: tuple[str, str] | None) -> GsiQuery:
    hash_key, range_key = GSI_KEYS[index]
    e = Expr()
    condition = f"{e.n(hash_key)} = {e.v('h', {'S': hash_value})}"
    if dates is not None and range_key is not None:
        lo, hi = dates
        condition += (
            f" AND {e.n(range_key)} BETWEEN {e.v('lo', {'S': lo})} AND {e.v('hi', {'S': hi})}"
        )
    return GsiQuery(index, condition, e.names, e.values)
