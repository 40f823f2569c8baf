"""Accept header negotiation (RFC 9110 §12.5.1; PS3.18 §8.7.3) (``web.accept``)."""

from __future__ import annotations

import pytest

from cloudpacs.errors import NotAcceptable
from cloudpacs.web.accept import Acceptable, choose, parse_accept

DICOM = "application/dicom"
OCTET = "application/octet-stream"
EVRLE = "1.2.840.10008.1.2.1"


@pytest.mark.parametrize("header", [None, "", "   "])
def test_no_accept_header_accepts_anything(header: str | None) -> None:
    """RFC 9110 §12.5.1: "A request without any Accept header field implies that the user
    agent will accept any media type in response.\""""
    assert parse_accept(header) == [Acceptable("*/*", "*/*", None, 1.0)]


def test_media_ranges_in_order_of_quality_then_of_appearance() -> None:
    """RFC 9110 §12.4.2: the "q" weight orders preferences; equal weights keep the order the
    client gave (a stable sort)."""
    header = "application/json;q=0.5, application/dicom+json, */*;q=0.1, text/html;q=0.5"
    assert [(a.media_type, a.quality) for a in parse_accept(header)] == [
        ("application/dicom+json", 1.0),
        ("application/json", 0.5),
        ("text/html", 0.5),
        ("*/*", 0.1),
    ]


def test_q_zero_means_not_acceptable() -> None:
    """RFC 9110 §12.4.2: "a value of 0 means \'not acceptable\'"."""
    assert [a.media_type for a in parse_accept("application/dicom;q=0, image/jpeg")] == [
        "image/jpeg"
    ]


@pytest.mark.parametrize(("q", "quality"), [("1.000", 1.0), ("0.001", 0.001), ("junk", 1.0)])
def test_quality_values(q: str, quality: float) -> None:
    assert parse_accept(f"image/png;q={q}")[0].quality == quality


def test_type_parameter_of_multipart_related() -> None:
    """PS3.18 §8.7.3.3: multipart/related names the media type of its parts with ``type``;
    without one DICOM instances (application/dicom) are meant."""
    quoted, bare, absent = parse_accept(
        'multipart/related; type="application/octet-stream", '
        "multipart/related;type=image/jpeg;q=0.9, multipart/related;q=0.8"
    )
    assert (quoted.media_type, quoted.part_type, quoted.multipart) == (
        "multipart/related",
        OCTET,
        True,
    )
    assert bare.part_type == "image/jpeg"
    assert absent.part_type == DICOM


def test_single_part_types_are_their_own_part_type() -> None:
    (single,) = parse_accept("Application/DICOM")
    assert (single.media_type, single.part_type, single.multipart) == (DICOM, DICOM, False)


def test_transfer_syntax_parameter() -> None:
    """PS3.18 §8.7.3.5.2: ``transfer-syntax`` names the syntax wanted, ``*`` any."""
    first, second, third = parse_accept(
        f'multipart/related; type="application/dicom"; transfer-syntax={EVRLE}, '
        'multipart/related; type="application/dicom"; transfer-syntax="*";q=0.5, '
        "application/dicom;q=0.1"
    )
    assert first.transfer_syntax == EVRLE
    assert second.transfer_syntax == "*"
    assert third.transfer_syntax is None


def test_commas_inside_quoted_strings_do_not_split_ranges() -> None:
    """RFC 9110 §5.6.4: a quoted-string may hold commas; only commas outside quotes separate
    the list elements."""
    ranges = parse_accept(
        'multipart/related; type="application/dicom"; note="a, b, c", image/jpeg;q=0.5'
    )
    assert [(a.media_type, a.part_type) for a in ranges] == [
        ("multipart/related", DICOM),
        ("image/jpeg", "image/jpeg"),
    ]


def test_parameter_names_are_case_insensitive_and_spaces_ignored() -> None:
    (a,) = parse_accept(' multipart/related ; Type = "Application/Dicom" ; Q=0.7 ')
    assert (a.media_type, a.part_type, a.quality) == ("multipart/related", DICOM, 0.7)


def test_empty_list_elements_are_skipped() -> None:
    """RFC 9110 §5.6.1: recipients accept and ignore empty list elements."""
    assert [a.media_type for a in parse_accept(",, image/png ,")] == ["image/png"]


@pytest.mark.parametrize(
    ("part_type", "media_type", "matches"),
    [
        ("*/*", DICOM, True),
        (DICOM, DICOM, True),
        ("application/*", DICOM, True),
        ("application/*", "image/jpeg", False),
        ("image/jpeg", "image/jp2", False),
        (DICOM, "application/dicom+json", False),
    ],
)
def test_part_matches(part_type: str, media_type: str, matches: bool) -> None:
    assert Acceptable("multipart/related", part_type, None, 1.0).part_matches(media_type) is matches


def test_choose_takes_the_first_range_that_can_be_served() -> None:
    seen: list[str] = []

    def offer(a: Acceptable) -> str | None:
        seen.append(a.media_type)
        return "jpeg" if a.media_type == "image/jpeg" else None

    assert choose("image/png, image/jpeg;q=0.9, */*;q=0.1", offer, "a frame") == "jpeg"
    assert seen == ["image/png", "image/jpeg"]


def test_choose_raises_406_when_nothing_can_be_served() -> None:
    """PS3.18 §8.7.3: the origin server answers 406 when it supports none of the media
    types the client accepts."""
    with pytest.raises(NotAcceptable) as caught:
        choose("image/png, text/html", lambda a: None, "this resource")
    assert caught.value.status == 406
    assert "image/png, text/html" in caught.value.reason
    with pytest.raises(NotAcceptable):
        choose("*/*;q=0", lambda a: "anything", "this resource")
