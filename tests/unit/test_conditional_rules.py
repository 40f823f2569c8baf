"""The precondition rules of ``web.conditional`` on requests built by hand (RFC 9110 §13)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from starlette.requests import Request

from cloudpacs.errors import PreconditionFailed, PreconditionRequired
from cloudpacs.web import conditional
from tests.contract.records import entry

MODIFIED = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
VALIDATORS = conditional.Validators("abc123", "v1", MODIFIED, conditional.REVALIDATE)


def _request(**headers: str) -> Request:
    raw = [(k.replace("_", "-").lower().encode(), v.encode()) for k, v in headers.items()]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": raw})


def test_if_none_match_compares_weakly_and_accepts_lists_and_star() -> None:
    assert conditional.not_modified(_request(if_none_match='"x", W/"abc123-v1"'), VALIDATORS)
    assert conditional.not_modified(_request(if_none_match="*"), VALIDATORS)
    assert conditional.not_modified(_request(if_none_match='"abc123-v2"'), VALIDATORS) is None


def test_invalid_dates_are_ignored() -> None:
    assert conditional.not_modified(_request(if_modified_since="yesterday"), VALIDATORS) is None
    conditional.check_current(_request(if_unmodified_since="soon"), "abc123", MODIFIED)


def test_if_modified_since_at_and_before_last_modified() -> None:
    at = "Sun, 01 Mar 2026 12:00:00 GMT"
    before = "Sun, 01 Mar 2026 11:59:59 GMT"
    assert conditional.not_modified(_request(if_modified_since=at), VALIDATORS)
    assert conditional.not_modified(_request(if_modified_since=before), VALIDATORS) is None


def test_changes_compare_the_version_strongly() -> None:
    conditional.check_current(_request(if_match='"abc123-anything"'), "abc123", MODIFIED)
    conditional.check_current(_request(if_match="*"), "abc123", MODIFIED)
    for tag in ('W/"abc123-v1"', '"abc124-v1"', "abc123"):
        with pytest.raises(PreconditionFailed):
            conditional.check_current(_request(if_match=tag), "abc123", MODIFIED)
    with pytest.raises(PreconditionFailed):
        conditional.check_current(
            _request(if_unmodified_since="Sun, 01 Mar 2026 11:00:00 GMT"), "abc123", MODIFIED
        )


def test_a_change_that_must_name_its_version_is_428_without_one() -> None:
    conditional.check_current(_request(), "abc123", MODIFIED)
    with pytest.raises(PreconditionRequired):
        conditional.check_current(_request(), "abc123", MODIFIED, required=True)


def test_the_version_follows_membership_and_content_not_order() -> None:
    a = entry("1.2.3", "1.2.3.1", "1.2.3.1.1").instance
    b = entry("1.2.3", "1.2.3.1", "1.2.3.1.2").instance
    b2 = entry("1.2.3", "1.2.3.1", "1.2.3.1.2", version=2).instance
    assert conditional.content_version([a, b]) == conditional.content_version([b, a])
    assert conditional.content_version([a]) != conditional.content_version([a, b])
    assert conditional.content_version([a, b]) != conditional.content_version([a, b2])
    assert conditional.last_modified([a, b2]) == datetime(2024, 1, 15, 10, 0, 2, tzinfo=UTC)
